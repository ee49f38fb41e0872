#!/usr/bin/env python3
"""Scale benchmark, run by hand (not by the tests): what registering everything costs under Pulumi's mock runtime.

For N namespaces (a Secret and a default ServiceAccount patch each) and R registries it runs, each in a fresh
process, (a) the RegistryCredentials component and (b) a minimal hand-written program that registers the same
Secrets and patches without the component, and prints time and peak memory of the registration phase (imports
excluded) and the component/baseline ratio. Usage:

    venv/bin/python bench/scale_bench.py                 # the default matrix, 3 runs each, medians
    venv/bin/python bench/scale_bench.py --runs 5 --namespaces 10 100 1000 --registries 1 10 100
"""

import argparse
import base64
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Dict, List


def registries(count: int) -> List[dict]:
    """`count` registries with distinct hosts and throwaway passwords."""
    return [{"server": f"registry-{i}.example.com", "username": f"robot-{i}", "password": f"bench-password-{i}"}
            for i in range(count)]


def component_program(namespaces: int, registry_count: int) -> None:
    """The component, as a stack program would use it."""
    import pulumi

    from registry_credentials import RegistryCredentials

    regs = [{**r, "password": pulumi.Output.secret(r["password"])} for r in registries(registry_count)]
    RegistryCredentials("rc", {"registries": regs, "namespaces": [{"name": f"ns-{i}"} for i in range(namespaces)]})


def baseline_program(namespaces: int, registry_count: int, read_live: bool = True) -> None:
    """The same resources, hand-written, no component: a Secret, a read of the live default ServiceAccount (so
    others' pull secrets could be kept, as the component does) and its patch, per namespace. No validation."""
    import pulumi
    import pulumi_kubernetes as k8s

    regs = registries(registry_count)
    auths = {r["server"]: {"username": r["username"], "password": r["password"],
                           "auth": base64.b64encode(f"{r['username']}:{r['password']}".encode()).decode()}
             for r in regs}
    data = pulumi.Output.secret(base64.b64encode(json.dumps({"auths": auths}).encode()).decode())
    for i in range(namespaces):
        ns = f"ns-{i}"
        secret = k8s.core.v1.Secret(f"pull-{ns}", metadata={"name": "pull", "namespace": ns},
                                    type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": data})
        pull = [{"name": "pull"}]
        if read_live:
            live = k8s.core.v1.ServiceAccount.get(f"live-{ns}", f"{ns}/default")
            pull = live.image_pull_secrets.apply(lambda entries: [*(entries or []), {"name": "pull"}])
        k8s.core.v1.ServiceAccountPatch(f"default-{ns}", metadata={"name": "default", "namespace": ns},
                                        image_pull_secrets=pull, opts=pulumi.ResourceOptions(depends_on=[secret]))


PROGRAMS = {
    "component": component_program,
    "baseline": baseline_program,
    "naive": lambda namespaces, registry_count: baseline_program(namespaces, registry_count, read_live=False),
}


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(kind: str, namespaces: int, registry_count: int) -> Dict[str, float]:
    """Run one program under mocks in this (fresh) process and measure the registration phase."""
    import asyncio

    import pulumi_kubernetes  # noqa: F401  (imports are not what we measure)

    from registry_credentials.cli.mockrun import run_program

    asyncio.set_event_loop(asyncio.new_event_loop())
    program = PROGRAMS[kind]
    before = _rss_mib()
    started = time.perf_counter()
    run = run_program(lambda: program(namespaces, registry_count))
    seconds = time.perf_counter() - started
    # Peak RSS growth over the process after imports: no tracing overhead distorting the timing.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    return {"seconds": seconds, "peak_mib": peak, "records": len(run.records)}


def measure(kind: str, namespaces: int, registry_count: int, runs: int) -> Dict[str, float]:
    """Median of `runs` fresh processes."""
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(namespaces), str(registry_count)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--namespaces", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--registries", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, namespaces, registry_count = args.child
        print(json.dumps(child(kind, int(namespaces), int(registry_count))))
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, median of "
          f"{args.runs} fresh processes. Time and peak RSS growth of the registration phase (imports excluded).")
    print("# baseline: the same resources hand-written (Secret + live read + patch per namespace);")
    print("# naive: hand-written without the live read (what clobbers others' pull secrets).")
    print("| namespaces | registries | registrations comp/base/naive | component s | baseline s | naive s "
          "| time ratio vs baseline | vs naive | component MiB | baseline MiB | memory ratio | component ms/ns |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = [(n, 1) for n in args.namespaces] + [(100, r) for r in args.registries if r != 1]
    for namespaces, registry_count in cases:
        comp, base, naive = (measure(kind, namespaces, registry_count, args.runs) for kind in PROGRAMS)
        print(f"| {namespaces} | {registry_count} | {int(comp['records'])}/{int(base['records'])}/"
              f"{int(naive['records'])} | {comp['seconds']:.2f} | {base['seconds']:.2f} | {naive['seconds']:.2f} "
              f"| {comp['seconds'] / base['seconds']:.2f} | {comp['seconds'] / naive['seconds']:.2f} "
              f"| {comp['peak_mib']:.1f} | {base['peak_mib']:.1f} | {comp['peak_mib'] / base['peak_mib']:.2f} "
              f"| {1000 * comp['seconds'] / namespaces:.2f} |", flush=True)


if __name__ == "__main__":
    main()
