"""Typed arguments of the RegistryCredentials component (TypedDicts, as Pulumi's schema inference expects)."""

from typing import Mapping, Sequence, TypedDict

import pulumi
from typing_extensions import NotRequired

# Constrained strings are `str` Enums, each in the folder that owns its setting: the plugin's schema analyzer turns
# them into schema enums, and a member equals its text, so callers and stack config keep passing plain "fail".
from .credentials.rotation import ExpiredCredentials
from .selected_namespaces.settings import SecretCopy
from .service_accounts.settings import ForeignPullSecrets
from .verify.settings import VerifyMode

__all__ = [
    "ExpiredCredentials", "ForeignPullSecrets", "LabelSelectorRequirementArgs", "NamespaceArgs", "NodeBootstrapArgs",
    "PreviousCredentialArgs", "RegistryArgs", "RegistryCredentialsArgs", "SecretCopy", "SelectedNamespacesArgs",
    "TolerationArgs", "VerifyMode",
]


class PreviousCredentialArgs(TypedDict):
    """The credential being rotated out: pods can pull with it, after the current one, until `until`."""

    until: str
    """The last day (`YYYY-MM-DD`) it is kept; the first run after that day drops it everywhere, with a warning."""
    password: pulumi.Input[str]
    """Its password or token; always treated as a secret."""
    username: NotRequired[str]
    """Its account name (default: the registry's current `username`)."""


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
    verify: NotRequired[VerifyMode]
    """Check these credentials against the registry at preview: `warn`, `fail` or `off` (default: the component's)."""
    ca_file: NotRequired[str]
    """PEM CA bundle trusted, in addition to the default ones, when checking this registry."""
    insecure: NotRequired[bool]
    """Check over plain HTTP or without TLS verification (development registries only; warned at preview)."""
    expires: NotRequired[str]
    """When this credential stops working (`YYYY-MM-DD`): preview warns before it, and fails after it."""
    previous: NotRequired[PreviousCredentialArgs]
    """The credential being rotated out, kept valid alongside this one until `previous.until`."""


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
    foreign_pull_secrets: NotRequired[ForeignPullSecrets]
    """What to do when a patched ServiceAccount already lists others' pull secrets: `fail` (default) or `keep`."""


class TolerationArgs(TypedDict):
    """A pod toleration, as in a PodSpec."""

    key: NotRequired[str]
    """Taint key to tolerate; empty with operator Exists tolerates every taint."""
    operator: NotRequired[str]
    """`Exists` or `Equal` (default `Equal`)."""
    value: NotRequired[str]
    """Taint value to match with operator Equal."""
    effect: NotRequired[str]
    """`NoSchedule`, `PreferNoSchedule` or `NoExecute`; empty matches all."""
    toleration_seconds: NotRequired[int]
    """How long a NoExecute taint is tolerated before eviction."""


class NodeBootstrapArgs(TypedDict):
    """Method 1: a DaemonSet that keeps `{kubelet root-dir}/config.json` on every node holding our credentials."""

    enabled: NotRequired[bool]
    """Turn the DaemonSet on (default false)."""
    namespace: NotRequired[str]
    """Namespace of the DaemonSet (default `registry-credentials-node`)."""
    create_namespace: NotRequired[bool]
    """Create that namespace, labelled for the privileged Pod Security level hostPath needs (default true)."""
    name: NotRequired[str]
    """Name of the DaemonSet and its ConfigMap (default `registry-credentials-node-agent`)."""
    image: NotRequired[str]
    """Image with Python >= 3.9 (default `python:3.13-alpine`); it may live in one of the configured registries."""
    kubelet_root_dir: NotRequired[str]
    """The kubelet's --root-dir on the nodes (default `/var/lib/kubelet`)."""
    interval_seconds: NotRequired[int]
    """How often each agent re-reads the Secret, so out-of-band rotation reaches nodes (default 60)."""
    max_surge: NotRequired[str]
    """RollingUpdate maxSurge, a count or a percentage (default `10%`); maxUnavailable is always 0."""
    tolerations: NotRequired[Sequence[TolerationArgs]]
    """Default: tolerate every taint, so every node gets the file."""
    node_selector: NotRequired[Mapping[str, str]]
    """Only nodes with these labels."""
    priority_class_name: NotRequired[str]
    """Priority class of the agent pods."""


class LabelSelectorRequirementArgs(TypedDict):
    """One requirement of a label selector, as in a Kubernetes LabelSelector."""

    key: str
    """The label's name."""
    operator: str
    """`In`, `NotIn`, `Exists` or `DoesNotExist`."""
    values: NotRequired[Sequence[str]]
    """The values, for `In` and `NotIn` (and only for them)."""


class SelectedNamespacesArgs(TypedDict):
    """Namespaces selected by label, also those created after `pulumi up`: an engine you run copies the Secret in."""

    secret_copy: SecretCopy
    """The engine you run that copies the Secret: `kyverno`, `kyverno-cluster-policy` or `external-secrets`."""
    match_labels: NotRequired[Mapping[str, str]]
    """Namespaces with all these labels (and every expression, when there are some)."""
    match_expressions: NotRequired[Sequence[LabelSelectorRequirementArgs]]
    """Label selector requirements, ANDed."""
    source_namespace: NotRequired[str]
    """Namespace of the Secret the engine copies, which nothing else uses (default `registry-credentials-source`)."""
    create_source_namespace: NotRequired[bool]
    """Create that namespace (default true)."""


class RegistryCredentialsArgs(TypedDict):
    """Arguments of RegistryCredentials."""

    registries: Sequence[RegistryArgs]
    """Registries aggregated into one `kubernetes.io/dockerconfigjson` Secret per namespace."""
    namespaces: Sequence[NamespaceArgs]
    """Namespaces that get the Secret."""
    secret_name: NotRequired[str]
    """Name of the Secret in every namespace; defaults to the component's name."""
    node_bootstrap: NotRequired[NodeBootstrapArgs]
    """Node-level credentials (method 1); off unless `enabled` is true."""
    verify: NotRequired[VerifyMode]
    """Check the credentials against each registry at preview: `warn` (default), `fail` (stop on a rejection) or `off`."""
    expiry_warning_days: NotRequired[int]
    """Warn at preview when a registry's `expires` is this many days away or fewer (default 14)."""
    expired_credentials: NotRequired[ExpiredCredentials]
    """Once a registry's `expires` has passed: `fail` the preview (default) or `warn` and deploy anyway."""
    selected_namespaces: NotRequired[SelectedNamespacesArgs]
    """Namespaces selected by label, now and later (off unless set); the ones in `namespaces` are left out."""
