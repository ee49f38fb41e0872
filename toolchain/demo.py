"""The main job for real: `pulumi up` of one of this repository's stacks against a throwaway local control plane.

Starts etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 (and two kwok nodes when the stack turns node
bootstrap on), creates the namespaces the stack expects to exist, sets demo passwords it makes itself (never
printed), runs `pulumi up`, prints what the API server then holds grouped by method, and tears everything down.
"""

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping

from ruamel.yaml import YAML

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


def summary(plane: ControlPlane, outputs: Mapping[str, Any], config: Mapping[str, Any]) -> List[str]:
    """What the API server holds, by method; registry keys and names only, never a credential."""
    lines = []
    secrets_found = plane.get(f"/api/v1/secrets?labelSelector={PART_OF}")["items"]
    lines.append(f"Pull Secrets (kubernetes.io/dockerconfigjson, as kubectl renders them): {len(secrets_found)}")
    for item in secrets_found:
        lines.append(f"  {item['metadata']['namespace']}/{item['metadata']['name']}")
    daemonsets = plane.get(f"/apis/apps/v1/daemonsets?labelSelector={PART_OF}")["items"]
    if daemonsets:
        for ds in daemonsets:
            status = ds.get("status", {})
            lines.append(f"Method 1, node level: DaemonSet {ds['metadata']['namespace']}/{ds['metadata']['name']}, "
                         f"{status.get('numberReady', 0)}/{status.get('desiredNumberScheduled', 0)} agents ready "
                         "(kwok's fake nodes: scheduled and admitted, nothing runs)")
    else:
        lines.append("Method 1, node level: off in this stack (nodeBootstrap.enabled is not true)")
    accounts = plane.get("/api/v1/serviceaccounts")["items"]
    ours = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in secrets_found}
    named = [a for a in accounts if a["metadata"]["name"] != "default"
             and "registry-credentials" == (a["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of")]
    patched = [a for a in accounts if a["metadata"]["name"] == "default"
               and any((a["metadata"]["namespace"], e["name"]) in ours for e in a.get("imagePullSecrets") or [])]
    lines.append(f"Method 2, named ServiceAccounts: {len(named) or 'none configured'}")
    for account in named:
        lines.append(f"  {account['metadata']['namespace']}/{account['metadata']['name']}")
    lines.append(f"Method 3, namespace defaults: {len(patched)} `default` ServiceAccounts list the Secret")
    for account in patched:
        names = ", ".join(e["name"] for e in account.get("imagePullSecrets") or [])
        lines.append(f"  {account['metadata']['namespace']}/default: imagePullSecrets [{names}]")
    refs = outputs.get("imagePullSecrets")
    lines.append("Method 4, pod level: the `imagePullSecrets` stack output, ready for pod specs and the transform:")
    for namespace, value in sorted(((refs.value if refs else None) or {}).items()):
        lines.append(f"  {namespace}: {value}")
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
        print(f"starting a local control plane (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1 ...")
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
            print(f"\nCreated by `pulumi up --stack {args.stack}`:")
            for line in summary(plane, stack.outputs(), config):
                print(line)
            print("\npulumi destroy ...")
            run(project, "destroy", stack)
        finally:
            plane.stop()
    print(f"torn down; {time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
