"""Read a Pulumi project's stack file offline, as Pulumi reads it, never decrypting: secure values become a placeholder.

Pulumi parses stack files with Go's gopkg.in/yaml.v3, a YAML 1.2 parser, so `no`, `off`, `yes` and `on` are
strings there, not booleans (pulumi/pulumi sdk/go/common/encoding/marshal.go, yaml.v3 since v3.50.0, commit
5666684030; yaml.v2 before). ruamel.yaml's pure-Python
safe loader implements YAML 1.2 too; PyYAML (YAML 1.1) would read those words as booleans.
A `{secure: ...}` leaf anywhere under a top-level key makes the whole key secret
(sdk/go/common/resource/config/object.go `object.Secure()`, recursive; map.go `SecureKeys`).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..checks.files import MAX_FILE_BYTES, read_file
from ..checks.values import shown
from ..credentials.registries import password_command
from ..errors import ConfigError

PLACEHOLDER = "[secret]"
"""Shown wherever a secret value would be: the same word `pulumi preview` prints."""
MAX_NODES = 200_000
"""Values in a document once aliases are expanded: a few `*alias` lines can otherwise expand to billions
(yaml.v3 refuses such documents too: "document contains excessive aliasing")."""
MAX_DEPTH = 64
SECRET_OBJECTS = ("passwords", "previousPasswords")
"""The stack config secret objects of registry name -> password (current, and being rotated out)."""


@dataclass
class StackConfig:
    """A stack's config as the engine would hand it to the program: full keys, JSON for objects."""

    project: str
    stack: str
    project_dir: Path
    values: Dict[str, str] = field(default_factory=dict)
    secret_keys: List[str] = field(default_factory=list)
    unset_secrets: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def full_key(self, key: str) -> str:
        """Qualify a key with the project namespace, as `pulumi config set` does."""
        return key if ":" in key else f"{self.project}:{key}"


def parse_yaml(data: bytes, path: Path) -> Any:
    """Parse one YAML 1.2 document as Pulumi does; syntax errors and duplicate keys are one ConfigError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {err.start})") from None
    loader = YAML(typ="safe", pure=True)  # pure: the C loader is YAML 1.1
    try:
        document = loader.load(text)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a Pulumi config") from None
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        # ruamel quotes both values of a duplicate key: never echo values (one may be a password).
        problem = problem.split(" with value ")[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    except (ValueError, TypeError, OverflowError) as err:  # e.g. an unparseable timestamp or number
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    _check_size(path, document)
    return document


def _check_size(path: Path, document: Any) -> None:
    # Walk the expanded tree with a budget, so an alias bomb costs at most MAX_NODES steps to detect.
    budget = MAX_NODES
    stack: List[Tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigError(f"{path}: expands to more than {MAX_NODES} values (YAML aliases?); write it out plainly")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{path}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def find_project_dir(start: Path) -> Path:
    """Return the nearest directory at or above `start` that holds a Pulumi.yaml."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ConfigError(f"no Pulumi.yaml found in {start} or its parents; run from the project or pass --project-dir")


def check_project_dir(path: Path) -> Path:
    """A --project-dir: an existing directory holding a Pulumi.yaml."""
    if not path.is_dir():
        raise ConfigError(f"--project-dir {path}: {'is not a directory' if path.exists() else 'does not exist'}")
    if not (path / "Pulumi.yaml").exists():
        raise ConfigError(f"--project-dir {path}: has no Pulumi.yaml; give the directory of the Pulumi project")
    return path


def load_stack(project_dir: Path, stack: str) -> StackConfig:
    """Load `Pulumi.yaml` and the stack's `Pulumi.<stack>.yaml` with secure values replaced by PLACEHOLDER."""
    project_file = project_dir / "Pulumi.yaml"
    project = parse_yaml(read_file(project_file, "project file", MAX_FILE_BYTES), project_file)
    if not isinstance(project, dict) or not isinstance(project.get("name"), str) or not project["name"]:
        raise ConfigError(f"{project_file}: not a Pulumi project file (it needs `name: <project>`)")
    config_dir_name = project.get("stackConfigDir", ".")
    if not isinstance(config_dir_name, str):
        raise ConfigError(f"{project_file}: stackConfigDir must be a directory name")
    if not stack or "/" in stack or stack.startswith("."):
        raise ConfigError(f"--stack {stack!r}: give a stack name such as dev")
    config_dir = project_dir / config_dir_name
    path = config_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(f"--stack {stack}: no {path}; stacks here: {', '.join(available) or 'none'}")
    document = parse_yaml(read_file(path, "stack file", MAX_FILE_BYTES), path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: must be a mapping with a `config:` section")
    config = document.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: `config:` must be a mapping of <namespace>:<key> to values")
    result = StackConfig(project=project["name"], stack=stack, project_dir=project_dir)
    for key, value in config.items():
        full = _config_key(path, key)
        for name in SECRET_OBJECTS:
            if full == result.full_key(name):
                value = _passwords(path, result, config, value, name)
        plain, secret = _strip_secure(value)
        result.values[full] = plain if isinstance(plain, str) else _to_config_string(plain)
        if secret:
            result.secret_keys.append(full)
    return result


def _config_key(path: Path, key: Any) -> str:
    # config.ParseKey (sdk/go/common/resource/config/key.go): `<namespace>:<name>`, or the old
    # `<namespace>:config:<name>`; anything else is an error there too.
    if isinstance(key, str):
        parts = key.split(":")
        if len(parts) == 2 and all(parts):
            return key
        if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
            return f"{parts[0]}:{parts[2]}"
    raise ConfigError(f"{path}: config key {key!r} must be written <namespace>:<name>, e.g. registry-credentials:"
                      f"{key if isinstance(key, str) and ':' not in key else 'registries'}")


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def registry_names(config: Dict[Any, Any], registries_key: str, secret_object: str) -> List[str]:
    """The registry names that have an entry in `secret_object` (`passwords`: all; `previousPasswords`: those with
    a `previous`), from a stack file's (or the merged config's) registries."""
    registries = config.get(registries_key)
    if not isinstance(registries, list):
        return []
    return [r["name"] for r in registries if isinstance(r, dict) and isinstance(r.get("name"), str)
            and (secret_object == "passwords" or isinstance(r.get("previous"), dict))]


def _passwords(path: Path, result: StackConfig, config: Dict[Any, Any], value: Any, key: str) -> Any:
    """Checks only the file shows: once Pulumi has decrypted and merged `passwords`, the program cannot tell."""
    if _is_secure(value):
        # One secure value holding the whole object: its keys are unknown without decrypting, so render
        # gives every registry the placeholder.
        names = registry_names(config, result.full_key("registries"), key)
        result.notes.append(f"{result.full_key(key)} is one secure value; its entries cannot be "
                            "checked without decrypting it")
        return {name: {"secure": PLACEHOLDER} for name in names}
    if isinstance(value, dict) and value and not any(_is_secure(v) for v in value.values()):
        # Same refusal as the program's; the render must not make them secret on the program's behalf.
        raise ConfigError(
            f"{path}: {key}: is stored in plain text. Remove it (pulumi config rm --stack {result.stack} {key}) and "
            f"set each password with {password_command('NAME', key, result.stack)}"
        )
    if isinstance(value, dict) and any(_is_secure(v) for v in value.values()):
        for entry, leaf in value.items():
            name = shown(entry)
            if not _is_secure(leaf):
                raise ConfigError(
                    f"{path}: {key}.{name}: is stored in plain text next to secret ones (Pulumi then hands "
                    "the program the whole object as a secret, so only the file shows it); remove it with "
                    f"`pulumi config rm --stack {result.stack} --path '{key}.{name}'` and set it with "
                    f"`{password_command(name, key, result.stack)}`"
                )
    return value


def _strip_secure(value: Any) -> Tuple[Any, bool]:
    """Replace every `{secure: ...}` leaf with PLACEHOLDER; report whether there was one."""
    if _is_secure(value):
        return PLACEHOLDER, True
    if isinstance(value, dict):
        items = {str(k) if not isinstance(k, str) else k: _strip_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items_list = [_strip_secure(v) for v in value]
        return [v for v, _ in items_list], any(s for _, s in items_list)
    return value, False


def _to_config_string(value: Any) -> str:
    # The engine passes objects and lists as JSON text, and top-level scalars as their JSON spelling
    # (object.go MarshalString: bool and numbers through MarshalJSON, strings as they are).
    try:
        return json.dumps(value, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(value, default=str)


def object_value(config: StackConfig, key: str) -> Optional[Any]:
    """Decode one object-valued config key, or None when it is not set."""
    raw = config.values.get(config.full_key(key))
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
