"""Run the real stack program (`__main__.py`) under mocks with a given stack config."""

import base64
import json
import runpy
from pathlib import Path
from typing import Any, Mapping, Optional

from registry_credentials.cli.mockrun import RecordingMocks, Run, run_program
from support.records import unwrap

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROJECT = "registry-credentials"


def config_of(values: Mapping[str, Any]) -> dict:
    """Stack config as the engine passes it: `project:key` names, JSON text for objects."""
    return {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def run_stack_program(values: Mapping[str, Any], secret: bool = True, mocks: Optional[RecordingMocks] = None) -> Run:
    """Run __main__.py with `values`; `passwords` (and `previousPasswords`) are secret keys unless secret=False."""
    secret_keys = [f"{PROJECT}:passwords", f"{PROJECT}:previousPasswords"] if secret else []
    return run_program(
        lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"),
        project=PROJECT,
        config=config_of(values),
        secret_keys=secret_keys,
        mocks=mocks,
    )


def rendered_secret(registry: Any, password: str, server: str = "") -> str:
    """Run the real stack program for this registry (plus a decoy) and decode its Secret's .dockerconfigjson."""
    result = run_stack_program({
        "registries": [
            {"name": "decoy", "server": "quay.io/example", "username": "decoy"},
            {"name": "local", "server": server or registry.host, "username": registry.username},
        ],
        "passwords": {"decoy": "decoy-password", "local": password},
        "namespaces": ["apps"],
    })
    (secret,) = result.of_type("kubernetes:core/v1:Secret")
    return base64.b64decode(unwrap(secret.inputs)["data"][".dockerconfigjson"]).decode("utf-8")
