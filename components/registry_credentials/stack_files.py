"""Read a Pulumi project's stack file offline, never decrypting: secure values become a visible placeholder."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from .errors import ConfigError

PLACEHOLDER = "[secret]"
"""Shown wherever a secret value would be: the same word `pulumi preview` prints."""


@dataclass
class StackConfig:
    """A stack's config as the engine would hand it to the program: full keys, JSON for objects."""

    project: str
    stack: str
    project_dir: Path
    values: Dict[str, str] = field(default_factory=dict)
    secret_keys: List[str] = field(default_factory=list)
    unset_secrets: List[str] = field(default_factory=list)

    def full_key(self, key: str) -> str:
        """Qualify a key with the project namespace, as `pulumi config set` does."""
        return key if ":" in key else f"{self.project}:{key}"


def find_project_dir(start: Path) -> Path:
    """Return the nearest directory at or above `start` that holds a Pulumi.yaml."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ConfigError(f"no Pulumi.yaml found in {start} or its parents; run from the project or pass --project-dir")


def load_stack(project_dir: Path, stack: str) -> StackConfig:
    """Load `Pulumi.yaml` and the stack's `Pulumi.<stack>.yaml` with secure values replaced by PLACEHOLDER."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    config_dir = project_dir / project.get("stackConfigDir", ".")
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(f"--stack {stack}: no {path}; stacks here: {', '.join(available) or 'none'}")
    document = yaml.safe_load(path.read_text()) or {}
    result = StackConfig(project=project["name"], stack=stack, project_dir=project_dir)
    for key, value in (document.get("config") or {}).items():
        full = result.full_key(key)
        plain, secret = _strip_secure(value)
        result.values[full] = plain if isinstance(plain, str) else _to_config_string(plain)
        if secret:
            result.secret_keys.append(full)
    return result


def _strip_secure(value: Any) -> Tuple[Any, bool]:
    """Replace every `{secure: ...}` leaf with PLACEHOLDER; report whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return PLACEHOLDER, True
        items = {k: _strip_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items_list = [_strip_secure(v) for v in value]
        return [v for v, _ in items_list], any(s for _, s in items_list)
    return value, False


def _to_config_string(value: Any) -> str:
    # The engine passes objects and lists as JSON text, and top-level scalars as their YAML spelling.
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def object_value(config: StackConfig, key: str) -> Optional[Any]:
    """Decode one object-valued config key, or None when it is not set."""
    raw = config.values.get(config.full_key(key))
    return json.loads(raw) if raw is not None else None
