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
    """A namespace that gets the pull Secret, and which of its ServiceAccounts carry it."""

    name: str
    """Namespace name (plain: it decides which resources exist)."""
    create: NotRequired[bool]
    """Create the namespace too (default false: it must exist before preview, because its ServiceAccounts are read)."""
    default_service_account: NotRequired[bool]
    """Add the Secret to the `default` ServiceAccount, so pods that name no ServiceAccount can pull (default true)."""
    service_accounts: NotRequired[Sequence[str]]
    """ServiceAccounts to create with the Secret in their imagePullSecrets."""
    patch_service_accounts: NotRequired[Sequence[str]]
    """Existing ServiceAccounts to add the Secret to."""
    foreign_pull_secrets: NotRequired[str]
    """What to do when a patched ServiceAccount already lists others' pull secrets: `fail` (default) or `keep`."""


class RegistryCredentialsArgs(TypedDict):
    """Arguments of RegistryCredentials."""

    registries: Sequence[RegistryArgs]
    """Registries aggregated into one `kubernetes.io/dockerconfigjson` Secret per namespace."""
    namespaces: Sequence[NamespaceArgs]
    """Namespaces that get the Secret."""
    secret_name: NotRequired[str]
    """Name of the Secret in every namespace; defaults to the component's name."""
