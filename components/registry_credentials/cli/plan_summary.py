"""A plan in a few lines: each Kubernetes object, which method (1-4) it serves, and which methods are off and why.

The offline render prints it before the manifests, and the demo's real `pulumi up` prints it for what the API
server then holds, so both read the same way. Pure: it sees object bodies and stack outputs, never a credential.
"""

import json
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Set, Tuple

PULL_SECRET_TYPE = "kubernetes.io/dockerconfigjson"
METHODS = {1: "node level", 2: "ServiceAccounts", 3: "namespace defaults", 4: "pod level"}
"""The four methods, numbered as the README numbers them."""
_POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController")


@dataclass(frozen=True)
class Seen:
    """One Kubernetes object of the plan (or of the cluster), as the summary needs it."""

    kind: str
    namespace: str
    name: str
    ours: bool
    """Registered by a RegistryCredentials component (its child), not by the rest of the program."""
    patch: bool
    """A server-side-apply patch of an object that already exists."""
    body: Mapping[str, Any]


def pod_spec(seen: Seen) -> Optional[Mapping[str, Any]]:
    """The pod spec a workload's pods get (a Pod's own, a template's, a CronJob's job template's), or None."""
    spec = seen.body.get("spec")
    if not isinstance(spec, dict):
        return None
    if seen.kind == "Pod":
        return spec
    if seen.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    elif seen.kind not in _POD_TEMPLATE_KINDS:
        return None
    template = spec.get("template") if isinstance(spec, dict) else None
    inner = template.get("spec") if isinstance(template, dict) else None
    return inner if isinstance(inner, dict) else None


def _names(entries: Any) -> List[str]:
    if not isinstance(entries, list):
        return []
    return [e["name"] for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)]


class _Cluster:
    """What the objects say together: our Secrets, the ServiceAccounts that list them, the node agent's namespace."""

    def __init__(self, objects: Sequence[Seen]) -> None:
        self.secrets: Set[Tuple[str, str]] = {
            (o.namespace, o.name) for o in objects
            if o.ours and o.kind == "Secret" and o.body.get("type") == PULL_SECRET_TYPE
        }
        self.node_namespaces = {o.namespace for o in objects if o.ours and o.kind == "DaemonSet"}
        self.carriers: Set[Tuple[str, str]] = {
            (o.namespace, o.name) for o in objects if o.kind == "ServiceAccount" and self._carries(o)
        }

    def _carries(self, account: Seen) -> bool:
        entries = account.body.get("imagePullSecrets")
        if isinstance(entries, str):  # a list a first preview cannot know yet: only our own patches are shown so
            return account.ours
        return any((account.namespace, name) in self.secrets for name in _names(entries))

    def role(self, seen: Seen) -> Tuple[Optional[int], str]:
        """(method, what the object does for it); method None for what serves every method or none."""
        if seen.ours:
            return self._our_role(seen)
        spec = pod_spec(seen)
        if spec is None:
            return None, "the program's own"
        secrets = [n for n in _names(spec.get("imagePullSecrets")) if (seen.namespace, n) in self.secrets]
        if secrets:
            return 4, f"{'it lists' if seen.kind == 'Pod' else 'its pods list'} {', '.join(secrets)}"
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if (seen.namespace, account) in self.carriers:
            runs = "it runs" if seen.kind == "Pod" else "its pods run"
            return (3, f"{runs} as `default`, which lists the Secret") if account == "default" else (
                2, f"{runs} as {account}, which lists the Secret")
        return None, "none of our Secrets reaches its pods (anonymous pulls, or its own credentials)"

    def _our_role(self, seen: Seen) -> Tuple[Optional[int], str]:
        if seen.namespace in self.node_namespaces or (seen.kind == "Namespace" and seen.name in self.node_namespaces):
            what = {"Secret": "the node agent's source", "ConfigMap": "the node agent's script",
                    "DaemonSet": "keeps config.json on every node", "Namespace": "the node agent's namespace"}
            return 1, what.get(seen.kind, "the node agent's")
        if seen.kind == "Secret":
            return None, "pull Secret: methods 2-4 in this namespace rest on it"
        if seen.kind == "Namespace":
            return None, "created for the pull Secret (create: true)"
        if seen.kind == "ServiceAccount":
            listed = seen.body.get("imagePullSecrets")
            if seen.patch and listed is None:
                return None, "an empty patch that makes sure it exists before the next one"
            if isinstance(listed, str):  # a first preview cannot know the rest of the list yet
                listed = "adds the Secret to its list (the rest of the list is known at up)"
            else:
                listed = f"lists {', '.join(_names(listed))}"
            if seen.name == "default":
                return 3, f"patched: {listed}"
            return 2, f"{'patched' if seen.patch else 'created'}: {listed}"
        return None, "part of the component"


def _off(cluster: _Cluster, used: Set[int]) -> List[str]:
    """One line per method that serves nothing, saying why and how to turn it on."""
    lines = []
    if 1 not in used:
        lines.append(f"method 1, {METHODS[1]}: off, as nodeBootstrap.enabled (node_bootstrap in Python) is not true: "
                     "no privileged DaemonSet writes the nodes' config.json")
    if 2 not in used:
        lines.append(f"method 2, {METHODS[2]}: none; no namespace lists serviceAccounts or patchServiceAccounts")
    secret_namespaces = sorted({ns for ns, _ in cluster.secrets} - cluster.node_namespaces)
    without_default = [ns for ns in secret_namespaces if (ns, "default") not in cluster.carriers]
    if without_default:
        lines.append(f"method 3, {METHODS[3]}: off in {', '.join(without_default)} (defaultServiceAccount: false)")
    if 4 not in used:
        lines.append(f"method 4, {METHODS[4]}: no pod spec here lists the Secret itself; pods can take it from the "
                     "imagePullSecrets output (in Python, also from pull_secret_transform())")
    return lines


def _shown(value: Any) -> str:
    return value if isinstance(value, str) and value else json.dumps(value, sort_keys=True)


def summary(title: str, objects: Sequence[Seen], outputs: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The plan's lines: a title, each object with its method, what is off and why, then the stack outputs."""
    cluster = _Cluster(objects)
    rows: List[Tuple[str, str]] = []
    used: Set[int] = set()
    for seen in objects:
        method, what = cluster.role(seen)
        if method is not None:
            used.add(method)
        where = f"{seen.namespace}/{seen.name}" if seen.namespace else seen.name
        label = f"{seen.kind} {where}{' (patch)' if seen.patch else ''}"
        rows.append((label, f"method {method}, {METHODS[method]}: {what}" if method else what))
    count = len(objects)
    lines = [f"{title}: {count} object{'' if count == 1 else 's'}"]
    width = max((len(label) for label, _ in rows), default=0)
    lines += [f"  {label.ljust(width)}  {what}" for label, what in rows]
    off = _off(cluster, used)
    if off:
        lines.append("off:")
        lines += [f"  {line}" for line in off]
    if outputs:
        lines.append("stack outputs:")
        lines += [f"  {key}: {_shown(value)}" for key, value in sorted(outputs.items())]
    return lines

