#!/usr/bin/env python3
"""Scale benchmark, run by hand (not by the tests): what registering everything costs under Pulumi's mock runtime.

For N namespaces (a Secret and a default ServiceAccount patch each) and R registries it runs, each in a fresh
process, (a) the RegistryCredentials component and (b) a minimal hand-written program that registers the same
Secrets and patches without the component, and prints time and peak memory of the registration phase (imports
excluded) and the component/baseline ratio. Usage:

    venv/bin/python bench/scale_bench.py                 # the default matrix, 3 interleaved runs each
    venv/bin/python bench/scale_bench.py --runs 5 --namespaces 10 100 1000 --registries 1 10 100
"""

import argparse
import base64
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Dict, List

from sidebyside import header, interleaved, med_min, ratio_cell


def registries(count: int) -> List[dict]:
    """`count` registries with distinct hosts and throwaway passwords."""
    return [{"server": f"registry-{i}.example.com", "username": f"robot-{i}", "password": f"bench-password-{i}"}
            for i in range(count)]


def component_program(namespaces: int, registry_count: int) -> None:
    """The component, as a stack program would use it."""
    import pulumi

    from registry_credentials import RegistryCredentials

    regs = [{**r, "password": pulumi.Output.secret(r["password"])} for r in registries(registry_count)]
    # verify off: the hand-written programs log in nowhere, and these hosts do not exist (with the default, warn,
    # each preview would spend the login timeout on them: bench/verify_bench.py measures that).
    RegistryCredentials("rc", {"registries": regs, "namespaces": [{"name": f"ns-{i}"} for i in range(namespaces)],
                               "verify": "off"})


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
    import pulumi_kubernetes.core.v1  # noqa: F401  (loaded lazily on first use, by both programs)

    if kind == "component":
        import registry_credentials.component  # noqa: F401  (our own modules: imports, not registration)

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


def one_run(kind: str, namespaces: int, registry_count: int) -> Dict[str, float]:
    """One fresh process running one program."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(namespaces), str(registry_count)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the benchmark table: every case's programs run interleaved, fresh processes each."""
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
    print(header(f"registration under Pulumi's mocks, {args.runs} interleaved fresh processes per program, "
                 "median (min); time and peak RSS growth of the registration phase (imports excluded)"))
    print("# baseline: the same resources hand-written (Secret + live read + patch per namespace);")
    print("# naive: hand-written without the live read (what clobbers others' pull secrets).")
    print("| namespaces | registries | registrations comp/base/naive | component s | baseline s | naive s "
          "| time comp/base per run | comp/naive | component MiB | baseline MiB | memory comp/base | "
          "component ms/ns | baseline ms/ns |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = [(n, 1) for n in args.namespaces] + [(100, r) for r in args.registries if r != 1]
    for namespaces, registry_count in cases:
        sides = {kind: (lambda k=kind: one_run(k, namespaces, registry_count)) for kind in PROGRAMS}
        runs = interleaved(sides, args.runs)
        comp, base, naive = runs["component"], runs["baseline"], runs["naive"]
        seconds = {kind: [r["seconds"] for r in results] for kind, results in runs.items()}
        mib = {kind: [r["peak_mib"] for r in results] for kind, results in runs.items()}
        print(f"| {namespaces} | {registry_count} | {int(comp[0]['records'])}/{int(base[0]['records'])}/"
              f"{int(naive[0]['records'])} | {med_min(seconds['component'])} | {med_min(seconds['baseline'])} "
              f"| {med_min(seconds['naive'])} | {ratio_cell(comp, base, 'seconds')} "
              f"| {ratio_cell(comp, naive, 'seconds')} | {med_min(mib['component'], 1)} "
              f"| {med_min(mib['baseline'], 1)} | {ratio_cell(comp, base, 'peak_mib')} "
              f"| {1000 * statistics.median(seconds['component']) / namespaces:.2f} "
              f"| {1000 * statistics.median(seconds['baseline']) / namespaces:.2f} |", flush=True)


if __name__ == "__main__":
    main()
