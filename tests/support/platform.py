"""Cluster-state fixtures and scenario helpers over the platform model (support.platform_model).

The rules live in support.platform_model; this module only sets up clusters and drives `pulumi preview` /
`pulumi up` / `pulumi destroy` sequences of the real program.
"""

import json
import runpy
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from registry_credentials.cli.mockrun import Run
from registry_credentials.cli.render import redact
from support.platform_model import Cluster, Platform, ProviderOptions, Step, fields_of, run_on_platform, ssa_apply
from support.stack import PROJECT, PROJECT_DIR

FOREIGN_MANAGER = "kubectl-edit"


def cluster_with(namespaces: Iterable[str], accounts: Mapping[str, Sequence[str]] = (),
                 applied: bool = False) -> Cluster:
    """Existing namespaces with clean `default` ServiceAccounts; `accounts` maps "ns/sa" to its live pull secrets.

    The pull secrets are set as `kubectl patch` sets them (an Update: on a ServiceAccount that tracks no field the
    API server then records no manager), or with `applied`, as `kubectl apply --server-side` does (manager
    `kubectl`, an Apply).
    """
    cluster = Cluster()
    for namespace in namespaces:
        cluster.put("Namespace", "", namespace)
    for key, pull_secrets in dict(accounts).items():
        namespace, name = key.split("/")
        if ("ServiceAccount", namespace, name) not in cluster.objects:
            cluster.put("ServiceAccount", namespace, name, {}, manager="kubectl-create")  # `kubectl create sa`
        if pull_secrets:
            body = {"imagePullSecrets": [{"name": n} for n in pull_secrets]}
            if applied:
                ssa_apply(cluster, "ServiceAccount", namespace, name, fields_of(body), "kubectl", force=False)
            else:
                cluster.update(("ServiceAccount", namespace, name), fields_of(body), manager=FOREIGN_MANAGER)
    return cluster


def kubectl_secret(cluster: Cluster, namespace: str, name: str, data_b64: str) -> None:
    """A Secret as `kubectl create secret docker-registry` makes it (manager kubectl-create, operation Update)."""
    cluster.put("Secret", namespace, name, {"type": "kubernetes.io/dockerconfigjson",
                                            "data": {".dockerconfigjson": data_b64}}, manager="kubectl-create")


class Stack:
    """One stack of a program against one platform: preview, up (its preview, then the update), destroy."""

    def __init__(self, platform: Platform, program: Optional[Callable[[], Any]] = None,
                 project: str = PROJECT, stack: str = "test", run_transforms: bool = False) -> None:
        self.platform = platform
        self.program = program or (lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"))
        self.project, self.stack = project, stack
        self.run_transforms = run_transforms
        self.config: Dict[str, Any] = {}
        self.secret_keys: List[str] = [f"{project}:passwords"]

    def configure(self, values: Mapping[str, Any]) -> "Stack":
        """Set the stack config (`<project>:<key>`, objects as JSON; `passwords` is secret)."""
        self.config = {f"{self.project}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
        return self

    def run(self, preview: bool) -> Run:
        """One program run against the platform."""
        return run_on_platform(self.platform, self.program, preview=preview, project=self.project,
                               stack=self.stack, config=self.config, secret_keys=self.secret_keys,
                               run_transforms=self.run_transforms)

    def preview(self) -> List[Step]:
        """`pulumi preview`: the planned changes."""
        self.last = self.run(preview=True)
        return self.platform.changes()

    def up(self) -> Run:
        """`pulumi up`: a preview, then the update."""
        self.preview()
        self.last = self.run(preview=False)
        return self.last

    def deploy(self) -> Run:
        """Preview, up, and a second preview that must plan no change (what held-back scenarios check)."""
        run = self.up()
        planned = self.preview()
        assert planned == [], f"second preview is not empty: {[(s.op, s.urn.split('::')[-1]) for s in planned]}"
        return run

    def destroy(self) -> List[Step]:
        """`pulumi destroy`."""
        return self.platform.destroy()


def ops(steps: Iterable[Step]) -> Dict[str, str]:
    """Logical name -> op, for assertions."""
    return {s.urn.split("::")[-1]: s.op for s in steps}


def live(platform: Platform, kind: str, namespace: str, name: str) -> Optional[dict]:
    """The live object's body (managedFields included), or None."""
    obj = platform.cluster.get((kind, namespace, name))
    return obj.body() if obj else None


def owners(platform: Platform, kind: str, namespace: str, name: str, field: str) -> List[str]:
    """Managers owning a top-level field of a live object."""
    obj = platform.cluster.get((kind, namespace, name))
    return sorted((obj.owners.get((field,)) or set()) if obj else [])


def state_json(platform: Platform) -> str:
    """The stack state as `pulumi stack export` would hold it, secret outputs replaced (for plaintext scans)."""
    entries = []
    for entry in platform.state.values():
        # Nested secret markers the provider kept stay secret in state too (render.redact replaces them).
        outputs = {k: ("[secret]" if k in entry.secret_outputs else redact(v)) for k, v in entry.outputs.items()}
        entries.append({"urn": entry.urn, "outputs": outputs})
    return json.dumps(entries, default=str)


__all__ = ["ProviderOptions", "Stack", "cluster_with", "kubectl_secret", "live", "ops", "owners",
           "state_json"]
