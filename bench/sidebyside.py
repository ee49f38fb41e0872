"""Side-by-side measurement shared by the benches: interleaved runs, median (min) of each side, the ratio per run.

Interleaving (A, B, A, B, ...) puts both sides under the same machine load, so a noisy neighbour shifts both and the
per-run ratio stays meaningful where absolute times do not (these machines are shared).
"""

import os
import platform
import shlex
import statistics
import sys
from datetime import datetime, timezone
from typing import Callable, Dict, List, Sequence

Measure = Callable[[], Dict[str, float]]
"""One run of one side: figures by name (seconds, MiB...)."""


def header(what: str) -> str:
    """The line every bench prints first: the exact command, the date and the machine size."""
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            memory = f", {int(meminfo.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    command = " ".join(shlex.quote(arg) for arg in [os.path.relpath(sys.argv[0])] + sys.argv[1:])
    return (f"# {what}\n# command: python {command}\n# {datetime.now(timezone.utc):%Y-%m-%d}, {platform.machine()}, "
            f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}")


def interleaved(sides: Dict[str, Measure], runs: int) -> Dict[str, List[Dict[str, float]]]:
    """Run every side once per round, `runs` rounds, in the order given: results per side, in run order."""
    results: Dict[str, List[Dict[str, float]]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, measure in sides.items():
            results[name].append(measure())
    return results


def med_min(values: Sequence[float], digits: int = 2) -> str:
    """`median (min)` of `values`."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f})"


def ratios(top: Sequence[Dict[str, float]], bottom: Sequence[Dict[str, float]], key: str) -> List[float]:
    """`top / bottom` of figure `key`, run by run (runs are paired because they were interleaved)."""
    return [a[key] / b[key] for a, b in zip(top, bottom) if b[key]]


def ratio_cell(top: Sequence[Dict[str, float]], bottom: Sequence[Dict[str, float]], key: str) -> str:
    """`median× (min×)` of the per-run ratios, then every ratio: what a table cell shows."""
    each = ratios(top, bottom, key)
    if not each:
        return "n/a"
    return f"{statistics.median(each):.2f}× ({min(each):.2f}) [{' '.join(f'{r:.2f}' for r in each)}]"
