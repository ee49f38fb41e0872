"""The main job for real: `pulumi up` of one of this repository's stacks against a throwaway local control plane.

Starts etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 (and two kwok nodes when the stack turns node
bootstrap on), creates the namespaces the stack expects to exist, sets demo passwords it makes itself (never
printed), runs `pulumi up`, prints what the API server then holds as the offline render prints its plan (each
object and the method it serves, what is off and why, the outputs), and tears everything down.
"""

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping

from ruamel.yaml import YAML

from registry_credentials.cli import plan_summary
from registry_credentials.cli.plan_summary import Seen
from toolchain.controlplane import ControlPlane
from toolchain.engine import REPO, Engine, run

PROJECT = "registry-credentials"
PART_OF = "app.kubernetes.io/part-of=registry-credentials"


def stack_config(stack: str) -> Dict[str, Any]:
    """The project's keys of stacks/Pulumi.<stack>.yaml, without the `registry-credentials:` prefix."""
    path = REPO / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise SystemExit(f"no stack file {path.relative_to(REPO)}; stacks are: "
                         + ", ".join(p.name[7:-5] for p in sorted((REPO / "stacks").glob("Pulumi.*.yaml"))))
    config = (YAML(typ="safe").load(path.read_text()) or {}).get("config") or {}
    return {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith(f"{PROJECT}:")}


def existing_namespaces(config: Mapping[str, Any]) -> List[str]:
    """Namespaces the stack patches but does not create: they must exist before `pulumi up`."""
    names = []
    for entry in config.get("namespaces") or []:
        entry = {"name": entry} if isinstance(entry, str) else entry
        if not entry.get("create"):
            names.append(entry["name"])
    return names


def node_bootstrap_on(config: Mapping[str, Any]) -> bool:
    """Whether the stack turns method 1 on."""
    node = config.get("nodeBootstrap") or {}
    return str(node.get("enabled", False)).lower() == "true"


def cluster_objects(plane: ControlPlane) -> List[Seen]:
    """What `pulumi up` left in the API server that is ours, in apply order, as the plan summary reads it."""
    found: List[Seen] = []
    kinds = [("Namespace", "/api/v1/namespaces"), ("Secret", "/api/v1/secrets"),
             ("ConfigMap", "/api/v1/configmaps"), ("ServiceAccount", "/api/v1/serviceaccounts"),
             ("DaemonSet", "/apis/apps/v1/daemonsets")]
    for kind, path in kinds:
        for item in plane.get(f"{path}?labelSelector={PART_OF}")["items"]:
            meta = item["metadata"]
            found.append(Seen(kind, meta.get("namespace", ""), meta["name"], ours=True, patch=False, body=item))
    ours = {(s.namespace, s.name) for s in found if s.kind == "Secret"}
    # The `default` ServiceAccounts carry no label of ours: method 3 patches them, so they list one of our Secrets.
    patched = [a for a in plane.get("/api/v1/serviceaccounts")["items"] if a["metadata"]["name"] == "default"
               and any((a["metadata"]["namespace"], e["name"]) in ours for e in a.get("imagePullSecrets") or [])]
    at = max((i for i, s in enumerate(found) if s.kind == "ServiceAccount"), default=len(found) - 1) + 1
    found[at:at] = [Seen("ServiceAccount", a["metadata"]["namespace"], "default", ours=True, patch=True, body=a)
                    for a in sorted(patched, key=lambda a: a["metadata"]["namespace"])]
    return found


def summary(plane: ControlPlane, stack: str, outputs: Mapping[str, Any]) -> List[str]:
    """The plan summary of what the API server holds (as the offline render prints it), then the agents' state."""
    shown = {key: "[secret]" if value.secret else value.value for key, value in outputs.items()}
    objects = cluster_objects(plane)
    lines = plan_summary.summary(f"pulumi up --stack {stack} created (read back from the API server)", objects, shown)
    for ds in (s for s in objects if s.kind == "DaemonSet"):
        status = ds.body.get("status", {})
        lines.append(f"node agents of {ds.namespace}/{ds.name}: {status.get('numberReady', 0)}/"
                     f"{status.get('desiredNumberScheduled', 0)} ready (kwok's fake nodes: scheduled and admitted, "
                     "nothing runs)")
    return lines


def main(argv: Any = None) -> int:
    """Run the demo for one stack; 0 when up and destroy both worked."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="dev")
    parser.add_argument("--bin", required=True, help="the toolchain's bin directory (scripts/toolchain prints it)")
    args = parser.parse_args(argv)
    config = stack_config(args.stack)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="regcreds-demo-") as scratch:
        plane = ControlPlane(Path(scratch) / "control-plane", Path(args.bin))
        print("starting a local control plane (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1 ...")
        plane.start()
        try:
            if node_bootstrap_on(config):
                plane.add_nodes(2)
            for namespace in existing_namespaces(config):
                plane.create_namespace(namespace)
            engine = Engine(Path(args.bin), Path(scratch), plane.kubeconfig)
            project = engine.project(REPO, args.stack)
            # Demo passwords, made here and never printed; real ones come from `pulumi config set --secret`.
            demo = {f"passwords.{r['name']}": secrets.token_urlsafe(18) for r in config.get("registries") or []}
            stack = project.stack(args.stack, secrets=demo)
            print(f"pulumi up --stack {args.stack} (the real CLI, pulumi-kubernetes and API server) ...")
            run(project, "up", stack)
            print()
            for line in summary(plane, args.stack, stack.outputs()):
                print(line)
            print("\npulumi destroy ...")
            run(project, "destroy", stack)
        finally:
            plane.stop()
    print(f"torn down; {time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
