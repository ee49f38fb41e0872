#!/usr/bin/env python3
"""Offline render at growing namespace counts: the whole command, and what each added namespace costs.

Each run is a fresh `registry-credentials render --stack bench -o json` process on a project copy with N namespaces
(one registry), sizes interleaved run by run. The marginal cost of a namespace between two sizes is
(t(big) - t(small)) / (big - small); a linear render keeps it flat as N grows. Run by hand, not by the tests:

    venv/bin/python bench/render_bench.py                     # 10, 100, 1000 namespaces, 3 runs
    venv/bin/python bench/render_bench.py --runs 5 --namespaces 100 1000
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from sidebyside import header, interleaved, med_min

ROOT = Path(__file__).resolve().parents[1]


def project(directory: Path, namespaces: int) -> Path:
    """A copy of the repository's project with one stack of `namespaces` namespaces and one registry."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, directory / name)
    (directory / "stacks").mkdir()
    lines = ["config:",
             "  registry-credentials:registries: [{name: harbor, server: harbor.example.com, username: robot}]",
             "  registry-credentials:namespaces:"]
    lines += [f"    - name: ns-{i}" for i in range(namespaces)]
    (directory / "stacks" / "Pulumi.bench.yaml").write_text("\n".join(lines) + "\n")
    return directory


def render(directory: Path) -> Dict[str, float]:
    """One render as a fresh process: wall seconds and CPU seconds (user + system) of the child."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "REGISTRY_CREDENTIALS_"))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "registry_credentials", "render", "--stack", "bench", "-o", "json"],
                   cwd=directory, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def main() -> None:
    """Print the table: time per size, then the marginal cost of a namespace between consecutive sizes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--namespaces", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    sizes = sorted(set(args.namespaces))
    with tempfile.TemporaryDirectory() as scratch:
        dirs = {}
        for n in sizes:
            (Path(scratch) / str(n)).mkdir()
            dirs[n] = project(Path(scratch) / str(n), n)
        results = interleaved({str(n): (lambda d=dirs[n]: render(d)) for n in sizes}, args.runs)
    print(header(f"offline render, {args.runs} interleaved runs per size, median (min)"))
    print("| namespaces | wall s | CPU s |")
    print("|---|---|---|")
    for n in sizes:
        runs = results[str(n)]
        print(f"| {n} | {med_min([r['seconds'] for r in runs])} | {med_min([r['cpu'] for r in runs])} |")
    print()
    print("| namespaces | marginal ms per namespace (CPU), median (min) over runs | growth vs the previous step |")
    print("|---|---|---|")
    previous: List[float] = []
    for small, big in zip(sizes, sizes[1:]):
        each = [1000 * (b["cpu"] - a["cpu"]) / (big - small) for a, b in zip(results[str(small)], results[str(big)])]
        growth = (f"{statistics.median(each) / statistics.median(previous):.2f}× "
                  f"[{' '.join(f'{b / a:.2f}' for a, b in zip(previous, each))}]" if previous else "")
        print(f"| {small} → {big} | {med_min(each, 1)} | {growth} |")
        previous = each


if __name__ == "__main__":
    main()
