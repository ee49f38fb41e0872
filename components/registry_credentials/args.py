"""Typed arguments of the RegistryCredentials component (TypedDicts, as Pulumi's schema inference expects)."""

from typing import Sequence, TypedDict

import pulumi
from typing_extensions import NotRequired


class RegistryArgs(TypedDict):
    """One private registry and the account that pulls from it."""

    server: str
    """Registry host as images name it: `harbor.example.com`, `registry.example.com:5000`, `docker.io`..."""
    username: str
    """Account name (plain: it is part of the key the kubelet matches, and of preview messages)."""
    password: pulumi.Input[str]
    """Password or token; always treated as a secret."""
    email: NotRequired[str]
    """Optional e-mail, written as kubectl's --docker-email would."""


class NamespaceArgs(TypedDict):
    """A namespace that gets the pull Secret."""

    name: str
    """Namespace name (plain: it decides which resources exist)."""


class RegistryCredentialsArgs(TypedDict):
    """Arguments of RegistryCredentials."""

    registries: Sequence[RegistryArgs]
    """Registries aggregated into one `kubernetes.io/dockerconfigjson` Secret per namespace."""
    namespaces: Sequence[NamespaceArgs]
    """Namespaces that get the Secret."""
    secret_name: NotRequired[str]
    """Name of the Secret in every namespace; defaults to the component's name."""
