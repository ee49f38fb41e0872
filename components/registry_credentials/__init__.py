"""Private-registry pull credentials for Kubernetes, as a Pulumi component."""

from importlib import import_module
from typing import Any

from .credentials.registries import render_dockerconfigjson
from .errors import ConfigError

# The component pulls in Pulumi and pulumi-kubernetes; load it only when asked for, so the pure
# modules (credentials, checks) and the CLI stay fast to import (0.1 s instead of 1.2 s here).
# Lazy names are invisible to `python -m pulumi.run.plugin`, which scans this module's __dict__, but the language
# host only falls back to that without a __main__.py (pulumi-language-python RunPlugin); the plugin directory,
# provider/, has its own __main__.py, which hosts the component explicitly (registry_credentials.plugin.provider).
_LAZY = {
    "RegistryCredentials": ".component",
    "TYPE_TOKEN": ".component",
    "RegistryCredentialsArgs": ".args",
    "RegistryArgs": ".args",
    "NamespaceArgs": ".args",
    "ForeignPullSecrets": ".args",
    "VerifyMode": ".args",
    "PreviousCredentialArgs": ".args",
    "ExpiredCredentials": ".args",
    "SelectedNamespacesArgs": ".args",
    "SecretCopy": ".args",
    "pull_secret_transform": ".pod.transform",
}

__all__ = ["ConfigError", "render_dockerconfigjson", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import component symbols on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
