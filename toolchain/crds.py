"""The engines' published CRDs, from the Go modules that carry them (pins in versions.env), for the e2e suite."""

import json
import subprocess
from pathlib import Path
from typing import Dict

from .pins import go_env, read_versions

KYVERNO = "github.com/kyverno/kyverno"
EXTERNAL_SECRETS = "github.com/external-secrets/external-secrets"
FILES = {
    "generatingpolicies": (KYVERNO, "config/crds/policies.kyverno.io/policies.kyverno.io_generatingpolicies.yaml"),
    "clusterpolicies": (KYVERNO, "config/crds/kyverno/kyverno.io_clusterpolicies.yaml"),
    "clusterexternalsecrets": (EXTERNAL_SECRETS, "config/crds/bases/external-secrets.io_clusterexternalsecrets.yaml"),
    "clustersecretstores": (EXTERNAL_SECRETS, "config/crds/bases/external-secrets.io_clustersecretstores.yaml"),
}
"""CRD -> (module, path in the module)."""
PIN = {KYVERNO: "KYVERNO_MODULE_VERSION", EXTERNAL_SECRETS: "EXTERNAL_SECRETS_MODULE_VERSION"}


def module_dir(module: str, version: str) -> Path:
    """The module's directory in the toolchain's module cache (downloaded on first use, a few seconds)."""
    result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True,
                            text=True, env=go_env(), timeout=600)
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or not info.get("Dir"):
        raise RuntimeError(f"go mod download {module}@{version}: {info.get('Error') or result.stderr.strip()}")
    return Path(info["Dir"])


def crd(name: str, version: str = "") -> Path:
    """One CRD's YAML file: `name` is a key of FILES, `version` the module's (default: its pin)."""
    module, path = FILES[name]
    found = module_dir(module, version or read_versions()[PIN[module]]) / path
    if not found.is_file():
        raise RuntimeError(f"{module}@{version} holds no {path}")
    return found


def pinned() -> Dict[str, str]:
    """Module -> pinned version."""
    pins = read_versions()
    return {module: pins[key] for module, key in PIN.items()}
