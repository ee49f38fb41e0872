"""Which namespaces one component instance covers by label, and the one name its cluster objects share (no Pulumi)."""

import hashlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Tuple

from .settings import SelectedNamespaces

NAME_LABEL = "kubernetes.io/metadata.name"
"""The API server labels every namespace with its own name (Kubernetes 1.22+, kubernetes.io docs "Well-Known
Labels, Annotations and Taints"), so a label selector can leave namespaces out by name."""
_STEM = 40


@dataclass(frozen=True)
class Selection:
    """The selected namespaces (minus the ones the component serves itself) and the objects' shared name."""

    settings: SelectedNamespaces
    secret_name: str
    name: str
    """Name of every cluster object of this instance: the admission policy, its binding, the engine's objects."""
    excluded: Tuple[str, ...]
    """Namespaces the component serves itself (`namespaces`, the node agent's, the source): never selected, so
    the policy and the engine never fight the component's own Secrets and ServiceAccount patches."""

    def namespace_selector(self) -> Dict[str, Any]:
        """The label selector, with the excluded namespaces left out by name."""
        selector = self.settings.selector()
        if self.excluded:
            selector["matchExpressions"] = [
                *selector.get("matchExpressions", []),
                {"key": NAME_LABEL, "operator": "NotIn", "values": list(self.excluded)},
            ]
        return selector


def object_name(secret_name: str, identity: str) -> str:
    """`<secret name>-<digest of the instance>`: readable, at most 51 characters, unique per project, stack and
    component (two stacks on one cluster must not share a cluster-scoped policy), the same on every run."""
    stem = secret_name[:_STEM].rstrip(".-")
    return f"{stem}-{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:10]}"


def select(settings: SelectedNamespaces, secret_name: str, identity: str, served: Iterable[str]) -> Selection:
    """The Selection of one instance: `identity` is `project/stack/component`, `served` the namespaces it serves."""
    excluded = tuple(sorted({*served, settings.source_namespace}))
    return Selection(settings=settings, secret_name=secret_name, name=object_name(secret_name, identity),
                     excluded=excluded)
