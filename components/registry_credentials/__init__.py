"""Private-registry pull credentials for Kubernetes, as a Pulumi component."""

from importlib import import_module
from typing import Any

from .dockerconfig import render_dockerconfigjson
from .errors import ConfigError

# The component pulls in Pulumi and pulumi-kubernetes; load it only when asked for, so the pure
# modules (dockerconfig, keyring) and the CLI stay fast to import.
_LAZY = {
    "RegistryCredentials": ".component",
    "TYPE_TOKEN": ".component",
    "RegistryCredentialsArgs": ".args",
    "RegistryArgs": ".args",
    "NamespaceArgs": ".args",
    "pull_secret_transform": ".pod_transform",
}

__all__ = ["ConfigError", "render_dockerconfigjson", *_LAZY]


def __getattr__(name: str) -> Any:
    """Import component symbols on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
