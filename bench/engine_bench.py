#!/usr/bin/env python3
"""Real-engine benchmark, run by hand (not by the tests): `pulumi preview` and `pulumi up` of the component against a
hand-written program registering the same resources, and a credential rotation across kwok nodes.

Everything runs on the loopback control plane of the e2e suite (toolchain/controlplane.py) with the toolchain's
Pulumi CLI, pulumi-kubernetes provider and Python language host stand-in (toolchain/engine.py; scripts/toolchain
builds them). Nothing is mocked.

Side by side (`--namespaces`): for N namespaces and 1 registry, the component (bench/scale_bench.py's
component_program: a pull Secret in each namespace and its `default` ServiceAccount patched) and the baseline
(baseline_program: the same Secret, a read of the live ServiceAccount and its patch, hand-written). Each run gets a
fresh control plane, with the N namespaces (and their `default` ServiceAccounts) created through the API before any
timing, and a fresh stack: `pulumi preview`, then `pulumi up --skip-preview`, each timed on its own. Runs are
interleaved (component, baseline, component, ...) so both sides share the machine's load; per-run ratios pair run i
of one side with run i of the other.

Rotation (`--rotation NODES`): the component with node-level credentials (nodeBootstrap: the agent DaemonSet) on
NODES kwok nodes. The first `pulumi up` returns once the DaemonSet is ready on every node; then the password changes
in stack config and a second `pulumi up` rolls the agents. A watch on the agents' pods records when each new pod
appears and turns Ready; the rollout's span (first new pod to the last new pod Ready) and its shape (bursts of pods
turning Ready, split where nothing turned Ready for longer than a threshold) are printed.

Figures: wall time (s) of each CLI command; CPU (s) of the CLI and every descendant it waited for (language host,
Python program, provider), from os.wait4; the control plane's CPU (s) over the command (etcd, kube-apiserver,
controller manager, scheduler, kwok), from /proc.

    venv/bin/python bench/engine_bench.py --namespaces 100 --runs 3
    venv/bin/python bench/engine_bench.py --namespaces 1000 --runs 1
    venv/bin/python bench/engine_bench.py --rotation 100 1000
"""

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from sidebyside import header, interleaved, med_min, ratio_cell  # noqa: E402
from toolchain.controlplane import ControlPlane, Watch  # noqa: E402
from toolchain.engine import Engine, toolchain_bin  # noqa: E402

STACK = "bench"
NODE_NS = "registry-credentials-node"
AGENT = "registry-credentials-node-agent"
PASSWORD = "Bench-harbor-S3cret!"
ROTATED = "Rotated-harbor-S3cret#"
PROJECT = """name: engine-bench
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: venv
"""
PROGRAM = """import sys
import pulumi
sys.path.insert(0, {bench!r})
from scale_bench import {function}
{function}(pulumi.Config().require_int("namespaces"), 1)
"""
PREVIEW = ("preview", "--stack", STACK, "--non-interactive", "--color", "never")
UP = ("up", "--stack", STACK, "--yes", "--skip-preview", "--non-interactive", "--color", "never")


def log(message: str) -> None:
    """Progress, on stderr (stdout is the report), with the machine's load (other work shares these cores)."""
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"[{time.strftime('%H:%M:%S')} load {load}] {message}", file=sys.stderr, flush=True)


# --- measuring one CLI command ------------------------------------------------------------------------------------

def plane_cpu(plane: ControlPlane) -> float:
    """CPU seconds (user + system) the control plane's processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in plane.processes:
        try:
            fields = Path(f"/proc/{process.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime: fields 14 and 15 of stat(5)
    return total


def timed(pulumi: Path, args: Sequence[str], cwd: Path, env: Dict[str, str], log_file: Path,
          plane: ControlPlane) -> Dict[str, float]:
    """Run the CLI once; wall time, CPU of the CLI and its waited-for descendants, and the control plane's CPU."""
    import subprocess

    cluster_before = plane_cpu(plane)
    with log_file.open("ab") as out:
        out.write(f"$ pulumi {' '.join(shlex.quote(a) for a in args)}\n".encode())
        out.flush()
        started = time.perf_counter()
        popen = subprocess.Popen([str(pulumi), *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(popen.pid, 0)
        wall = time.perf_counter() - started
    popen.returncode = os.waitstatus_to_exitcode(status)
    if popen.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"pulumi {' '.join(args)} exited with {popen.returncode} (log {log_file}):\n{tail}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "cluster_cpu": plane_cpu(plane) - cluster_before}


def quiet(pulumi: Path, args: Sequence[str], cwd: Path, env: Dict[str, str], log_file: Path) -> None:
    """An untimed CLI command (stack init, config set)."""
    import subprocess

    with log_file.open("ab") as out:
        out.write(f"$ pulumi {' '.join(shlex.quote(a) for a in args)}\n".encode())
        out.flush()
        subprocess.run([str(pulumi), *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=True,
                       stdin=subprocess.DEVNULL)


# --- the cluster --------------------------------------------------------------------------------------------------

class BenchPlane(ControlPlane):
    """The e2e control plane, optionally with a longer `--node-monitor-grace-period` for the controller manager.

    At 1,000 kwok nodes on 2 busy cores the controller manager's caches fall behind the nodes' lease renewals
    ("read version ... is not as new as written version" for leases), its node-lifecycle controller takes live
    nodes for lost and marks their pods NotReady; kwok never sets them Ready again, so the DaemonSet never
    finishes rolling out and `pulumi up` waits for ever (first attempt at 1,000 nodes: 50 pods stuck). Real nodes'
    kubelets would report again; fake ones do not, so a rotation run gives the controller more patience.
    """

    node_grace: Optional[str] = None

    def _spawn(self, name: str, args: Sequence[str]) -> None:
        if name == "kube-controller-manager" and self.node_grace:
            args = [*args, f"--node-monitor-grace-period={self.node_grace}"]
        super()._spawn(name, args)


def start_plane(bin_dir: Path, work: Path, name: str, node_grace: Optional[str] = None) -> ControlPlane:
    """A fresh loopback control plane in work/name."""
    plane = BenchPlane(work / name, bin_dir)
    plane.node_grace = node_grace
    try:
        return plane.start()
    except BaseException:
        plane.stop()
        raise


def create_namespaces(plane: ControlPlane, names: Sequence[str], timeout: float = 600.0) -> float:
    """Create the namespaces (a few requests at a time) and wait for every `default` ServiceAccount; seconds taken."""
    started = time.perf_counter()

    def create(name: str) -> None:
        status, body = plane.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        if status not in (201, 409):
            raise RuntimeError(f"create namespace {name}: {status} {body}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, names))
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        accounts = plane.get("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault") or {}
        have = {a["metadata"]["namespace"] for a in accounts.get("items", [])}
        if wanted <= have:
            return time.perf_counter() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(wanted - have)} default ServiceAccounts missing after {timeout} s")
        time.sleep(0.5)


def check_cluster(plane: ControlPlane, names: Sequence[str]) -> None:
    """Every namespace holds a pull Secret and its `default` ServiceAccount lists it (the run did the work)."""
    secrets = plane.get("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson") or {}
    by_namespace = {s["metadata"]["namespace"]: s["metadata"]["name"] for s in secrets.get("items", [])}
    accounts = plane.get("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault") or {}
    listed = {a["metadata"]["namespace"]: [e["name"] for e in a.get("imagePullSecrets") or []]
              for a in accounts.get("items", [])}
    wrong = [n for n in names if n not in by_namespace or by_namespace[n] not in listed.get(n, [])]
    if wrong:
        raise RuntimeError(f"{len(wrong)} namespaces without their pull Secret listed, e.g. {wrong[:3]}")


# --- projects -----------------------------------------------------------------------------------------------------

@dataclass
class Project:
    """A project directory with its own backend and PULUMI_HOME, and the CLI's environment for it."""

    directory: Path
    env: Dict[str, str]
    pulumi: Path
    log: Path


def project(bin_dir: Path, plane: ControlPlane, root: Path, files: Dict[str, str]) -> Project:
    """Write `files` into root/project, link this interpreter's venv, make a backend and a home."""
    directory = root / "project"
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    (directory / "venv").symlink_to(Path(sys.prefix))  # the venv has registry_credentials and the SDKs installed
    home, state = root / "home", root / "state"
    home.mkdir()
    state.mkdir()
    env = Engine(bin_dir, root, plane.kubeconfig).environment(home, state)
    return Project(directory, env, bin_dir / "pulumi", root / "pulumi.log")


# --- side by side -------------------------------------------------------------------------------------------------

def side_run(bin_dir: Path, work: Path, side: str, namespaces: int, counter: List[int]) -> Dict[str, float]:
    """One run of one side on a fresh control plane and a fresh stack: preview, then up."""
    counter[0] += 1
    root = work / f"{side}-{namespaces}-{counter[0]}"
    root.mkdir(parents=True)
    plane = start_plane(bin_dir, root, "cluster")
    try:
        names = [f"ns-{i}" for i in range(namespaces)]
        made = create_namespaces(plane, names)
        function = {"component": "component_program", "baseline": "baseline_program"}[side]
        proj = project(bin_dir, plane, root, {
            "Pulumi.yaml": PROJECT,
            "__main__.py": PROGRAM.format(bench=str(BENCH), function=function)})
        quiet(proj.pulumi, ("stack", "init", STACK, "--non-interactive"), proj.directory, proj.env, proj.log)
        # The count comes from stack config: the language host stand-in fails a program whose stack has no config.
        quiet(proj.pulumi, ("config", "set", "--stack", STACK, "namespaces", str(namespaces)), proj.directory,
              proj.env, proj.log)
        log(f"{side} ({root.name}): {namespaces} namespaces made in {made:.1f} s; preview")
        preview = timed(proj.pulumi, PREVIEW, proj.directory, proj.env, proj.log, plane)
        log(f"{side}: preview {preview['wall']:.1f} s (CPU {preview['cpu']:.1f} s, cluster "
            f"{preview['cluster_cpu']:.1f} s); up")
        up = timed(proj.pulumi, UP, proj.directory, proj.env, proj.log, plane)
        log(f"{side}: up {up['wall']:.1f} s (CPU {up['cpu']:.1f} s, cluster {up['cluster_cpu']:.1f} s)")
        check_cluster(plane, names)
        created = re.findall(r"(?m)^\s+\+ (\d+) created$", proj.log.read_text())
        result = {"created": float(created[-1]) if created else 0.0,
                  **{f"preview_{k}": v for k, v in preview.items()}, **{f"up_{k}": v for k, v in up.items()}}
        print(f"# run {side} {namespaces}: {json.dumps({k: round(v, 2) for k, v in result.items()})}", flush=True)
        return result
    finally:
        plane.stop()


def sidebyside(bin_dir: Path, work: Path, counts: Sequence[int], runs: int) -> None:
    """The component/baseline table."""
    print(f"# side by side: component_program vs baseline_program (bench/scale_bench.py), 1 registry, {runs} "
          "interleaved run(s) per side, each on a fresh control plane and stack; seconds, median (min)")
    print(f"# commands: pulumi {' '.join(PREVIEW)}  then  pulumi {' '.join(UP)}")
    print("| namespaces | command | resources created, component/baseline | component wall s | baseline wall s "
          "| wall ratio [per run] | component CPU s | baseline CPU s | CPU ratio [per run] "
          "| cluster CPU s, component | cluster CPU s, baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for namespaces in counts:
        counter = [0]
        results = interleaved({side: (lambda side=side: side_run(bin_dir, work, side, namespaces, counter))
                               for side in ("component", "baseline")}, runs)
        comp, base = results["component"], results["baseline"]
        created = f"{int(comp[0]['created'])}/{int(base[0]['created'])}"
        for step in ("preview", "up"):
            print(f"| {namespaces} | {step} | {created} | {med_min([r[f'{step}_wall'] for r in comp])} "
                  f"| {med_min([r[f'{step}_wall'] for r in base])} | {ratio_cell(comp, base, f'{step}_wall')} "
                  f"| {med_min([r[f'{step}_cpu'] for r in comp])} | {med_min([r[f'{step}_cpu'] for r in base])} "
                  f"| {ratio_cell(comp, base, f'{step}_cpu')} "
                  f"| {med_min([r[f'{step}_cluster_cpu'] for r in comp])} "
                  f"| {med_min([r[f'{step}_cluster_cpu'] for r in base])} |", flush=True)


# --- rotation -----------------------------------------------------------------------------------------------------

def rotation_config(max_surge: str) -> str:
    """A stack file: one registry, one namespace, node-level credentials on every node."""
    return json.dumps({"config": {
        "registry-credentials:registries": [{"name": "harbor", "server": "harbor.example.com",
                                             "username": "robot$bench+puller"}],
        "registry-credentials:namespaces": [{"name": "apps"}],
        "registry-credentials:secretName": "harbor-pull",
        "registry-credentials:nodeBootstrap": {"enabled": True, "image": "harbor.example.com/library/python:3.13",
                                               "maxSurge": max_surge},
    }})


def ready_pods(plane: ControlPlane, nodes: int, revision: Optional[str] = None) -> bool:
    """The DaemonSet is rolled out: every node has exactly one agent pod, Ready (of `revision`, when given)."""
    daemonset = plane.get(f"/apis/apps/v1/namespaces/{NODE_NS}/daemonsets/{AGENT}") or {}
    status = daemonset.get("status", {})
    if status.get("observedGeneration") != daemonset.get("metadata", {}).get("generation"):
        return False
    if not (status.get("desiredNumberScheduled") == nodes == status.get("numberReady")
            == status.get("updatedNumberScheduled") == status.get("currentNumberScheduled")):
        return False
    pods = (plane.get(f"/api/v1/namespaces/{NODE_NS}/pods") or {}).get("items", [])
    return len(pods) == nodes and all(
        revision is None or p["metadata"]["labels"].get("controller-revision-hash") != revision for p in pods)


def is_ready(pod: Dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions") or [])


def bursts(times: Sequence[float], gap: float) -> int:
    """How many groups `times` (sorted) fall into when split wherever nothing happened for more than `gap` s."""
    return 1 + sum(1 for a, b in zip(times, times[1:]) if b - a > gap) if times else 0


def rfc3339(text: str) -> float:
    from datetime import datetime

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp()


def rotation_run(bin_dir: Path, work: Path, nodes: int, max_surge: str, node_grace: str) -> Dict[str, Any]:
    """First up on `nodes` kwok nodes, then a new password and a second up, its agents' rollout watched."""
    root = work / f"rotation-{nodes}"
    root.mkdir(parents=True)
    plane = start_plane(bin_dir, root, "cluster", node_grace=node_grace or None)
    try:
        started = time.perf_counter()
        plane.add_nodes(nodes, timeout=max(120.0, nodes * 1.0))
        log(f"rotation: {nodes} kwok nodes Ready in {time.perf_counter() - started:.1f} s")
        create_namespaces(plane, ["apps"])
        proj = project(bin_dir, plane, root, {
            "Pulumi.yaml": (REPO / "Pulumi.yaml").read_text(), "__main__.py": (REPO / "__main__.py").read_text(),
            f"stacks/Pulumi.{STACK}.yaml": rotation_config(max_surge)})
        quiet(proj.pulumi, ("stack", "init", STACK, "--non-interactive"), proj.directory, proj.env, proj.log)
        quiet(proj.pulumi, ("config", "set", "--stack", STACK, "--secret", "--path", "passwords.harbor", PASSWORD),
              proj.directory, proj.env, proj.log)
        log("rotation: first up")
        first = timed(proj.pulumi, UP, proj.directory, proj.env, proj.log, plane)
        plane.wait_until(lambda: ready_pods(plane, nodes), timeout=600, what="the DaemonSet ready on every node")
        old = {p["metadata"]["labels"]["controller-revision-hash"]
               for p in plane.get(f"/api/v1/namespaces/{NODE_NS}/pods")["items"]}
        assert len(old) == 1, old
        (old_revision,) = old
        log(f"rotation: first up {first['wall']:.1f} s, {nodes} agents Ready; new password, second up")
        quiet(proj.pulumi, ("config", "set", "--stack", STACK, "--secret", "--path", "passwords.harbor", ROTATED),
              proj.directory, proj.env, proj.log)
        with Watch(plane, NODE_NS, {"Pod": f"/api/v1/namespaces/{NODE_NS}/pods"}) as watch:
            up_started = time.monotonic()
            second = timed(proj.pulumi, UP, proj.directory, proj.env, proj.log, plane)
            up_ended = time.monotonic()
            plane.wait_until(lambda: ready_pods(plane, nodes, revision=old_revision), timeout=900,
                             what="the rollout on every node")
            settled = time.monotonic()
        appeared: Dict[str, float] = {}
        ready: Dict[str, float] = {}
        for at, _, kind, pod in watch.events:
            labels = pod.get("metadata", {}).get("labels") or {}
            revision = labels.get("controller-revision-hash", old_revision)
            if kind not in ("ADDED", "MODIFIED") or revision == old_revision:
                continue
            uid = pod["metadata"]["uid"]
            appeared.setdefault(uid, at)
            if is_ready(pod):
                ready.setdefault(uid, at)
        pods = plane.get(f"/api/v1/namespaces/{NODE_NS}/pods")["items"]
        transitions = sorted(rfc3339(c["lastTransitionTime"]) for p in pods for c in p["status"]["conditions"]
                             if c["type"] == "Ready")
        times = sorted(ready.values())
        first_new = min(appeared.values())
        per_second: Dict[int, int] = {}
        for t in times:
            per_second[int(t - times[0])] = per_second.get(int(t - times[0]), 0) + 1
        counts = [per_second.get(s, 0) for s in range(int(times[-1] - times[0]) + 1)]
        result = {
            "nodes": nodes, "max_surge": max_surge,
            "first_up": first, "up": second,
            "up_to_first_new_pod": first_new - up_started,
            "first_new_pod_to_last_ready": times[-1] - first_new,
            "last_ready_after_up_returned": times[-1] - up_ended,
            "settled_after_up_returned": settled - up_ended,
            "new_pods_seen": len(appeared), "new_pods_ready": len(ready),
            "bursts_gap_1s": bursts(times, 1.0), "bursts_gap_0.1s": bursts(times, 0.1),
            "largest_gap": max((b - a for a, b in zip(times, times[1:])), default=0.0),
            "ready_per_second_median": statistics.median(counts), "ready_per_second_max": max(counts),
            "seconds_with_none_ready": sum(1 for c in counts if c == 0),
            "transition_span": transitions[-1] - transitions[0],
            "transition_distinct_seconds": len(set(transitions)),
        }
        print(f"# run rotation {nodes}: {json.dumps(result, default=lambda v: v)}", flush=True)
        return result
    finally:
        plane.stop()


def rotation(bin_dir: Path, work: Path, node_counts: Sequence[int], max_surge: str, node_grace: str) -> None:
    """The rotation table."""
    print(f"# rotation: the component, node level (nodeBootstrap, maxSurge {max_surge}, maxUnavailable 0), 1 "
          "registry, 1 namespace; first `pulumi up`, then `pulumi config set --secret --path passwords.harbor ...` "
          f"and `pulumi {' '.join(UP)}`, the agents' pods watched; kube-controller-manager "
          f"--node-monitor-grace-period={node_grace or 'default'}")
    rows = [rotation_run(bin_dir, work, n, max_surge, node_grace) for n in node_counts]
    print("| nodes | first up s | rotation up s (CPU s) | up start → first new pod s | first new pod → last "
          "Ready s | last Ready after up returned s | new pods Ready | bursts (gap > 1 s) | bursts (gap > 0.1 s) "
          "| largest gap s | Ready per second, median / max | seconds with none Ready |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['nodes']} | {r['first_up']['wall']:.1f} | {r['up']['wall']:.1f} ({r['up']['cpu']:.1f}) "
              f"| {r['up_to_first_new_pod']:.1f} | {r['first_new_pod_to_last_ready']:.1f} "
              f"| {r['last_ready_after_up_returned']:.1f} | {r['new_pods_ready']} | {r['bursts_gap_1s']} "
              f"| {r['bursts_gap_0.1s']} | {r['largest_gap']:.2f} | {r['ready_per_second_median']:g} / "
              f"{r['ready_per_second_max']} | {r['seconds_with_none_ready']} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, nargs="*", default=[], help="side by side at these counts")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per side")
    parser.add_argument("--rotation", type=int, nargs="*", default=[], metavar="NODES",
                        help="a rotation at these kwok node counts")
    parser.add_argument("--max-surge", default="10%", help="nodeBootstrap.maxSurge for --rotation (default 10%%)")
    parser.add_argument("--node-grace", default="10m",
                        help="kube-controller-manager --node-monitor-grace-period for --rotation ('' for its default)")
    parser.add_argument("--work-dir", type=Path, help="where projects, state and logs go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not args.namespaces and not args.rotation:
        args.namespaces = [100]
    bin_dir = toolchain_bin()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="engine-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"toolchain {bin_dir}; work directory {work}")
    print(header("real engine: pulumi preview/up on the loopback control plane"), flush=True)
    try:
        if args.namespaces:
            sidebyside(bin_dir, work, args.namespaces, args.runs)
        if args.rotation:
            rotation(bin_dir, work, args.rotation, args.max_surge, args.node_grace)
    finally:
        if args.keep or args.work_dir:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
