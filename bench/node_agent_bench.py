"""Time the node agent's `--once` sync for 1, 100 and 1000 registries and print a small table.

Run: `./venv/bin/python bench/node_agent_bench.py [--runs N]`. Not a test: numbers depend on the machine.
`--floor` instead runs the agent and a floor script side by side (interleaved fresh processes, see
measure_floor): median (min) per side, the ratio per run, and peak RSS; `--compare OLD_AGENT.py` adds a third
side, another copy of the agent (e.g. `git show HEAD~3:components/registry_credentials/node/agent.py`), and
`--cached` one more: the agent imported from its cached bytecode (`python3 -c "import node_agent; ..."`), which
shows what compiling the script on every start (as `python3 node_agent.py` does) costs. `--instructions` counts
each side's instructions once under valgrind (callgrind) instead of timing it: deterministic, so it still
compares on a machine too loaded for wall times (and the pod's 100m CPU limit makes CPU the cost that counts).
`--memory` instead prints the peak RSS of one sync at the largest inputs the agent accepts (each size cap
reached in bytes or in JSON items, alone and all at once) against the pod's memory limit.
Columns (medians of N runs, milliseconds):
  first   a sync into an empty kubelet root next to a foreign config.json (writes state + config)
  steady  a sync that finds everything in place (reads, writes nothing)
  wall    a `python3 node_agent.py --once` subprocess, interpreter start included
  in-proc the agent's `sync()` called in this process
RSS is the peak resident set of one agent subprocess (os.wait4's ru_maxrss, the largest over the runs),
measured from a minimal launcher so the benchmark's own memory is not counted.
"""

import argparse
import base64
import contextlib
import importlib.util
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from registry_credentials.node.daemonset import pod_spec
from registry_credentials.node.settings import NodeBootstrap
from sidebyside import header as bench_header
from sidebyside import interleaved, med_min, ratio_cell

AGENT = Path(__file__).resolve().parents[1] / "components" / "registry_credentials" / "node" / "agent.py"
SIZES = (1, 100, 1000)


def load_agent() -> Any:
    """Import node_agent.py by path (it is a standalone script, not part of the package import)."""
    spec = importlib.util.spec_from_file_location("node_agent", AGENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_source(directory: Path, count: int) -> Path:
    """Write a kubectl-style .dockerconfigjson with count registries."""
    auths = {}
    for number in range(count):
        user, password = f"robot{number}", f"bench-pw-{number:06d}-xxxxxxxxxxxxxxxx"
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        auths[f"registry{number}.example.com"] = {"username": user, "password": password, "auth": auth}
    path = directory / f"source-{count}.json"
    path.write_text(json.dumps({"auths": auths}, separators=(",", ":")))
    return path


def fresh_root(base: Path, name: str) -> Path:
    """A kubelet root with a small foreign config.json."""
    root = base / name
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {"foreign.example": {"auth": "Zm9vOmJhcg=="}}}))
    return root


# A child's ru_maxrss includes the memory of the process it was forked from, so the agent is started from
# this small, import-free launcher rather than from the benchmark process (whose RSS would be the floor).
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_subprocess(args: List[str]) -> Tuple[float, int]:
    """Run a command from the launcher; return (wall seconds, peak RSS KiB of that child alone)."""
    output = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, *args], capture_output=True, text=True,
                            check=True).stdout
    elapsed, peak, code = output.split()
    if int(code) != 0:
        raise SystemExit(f"{args} exited {code}")
    return float(elapsed), int(peak)


def agent_args(source: Path, root: Path) -> List[str]:
    """Command line of one --once sync."""
    return [sys.executable, str(AGENT), "--source", str(source), "--kubelet-root", str(root), "--once",
            "--owner-id", "bench", "--ready-file", ""]


def measure_wall(base: Path, source: Path, runs: int) -> Dict[str, Any]:
    """Median wall time of first and steady subprocess syncs, and peak RSS."""
    first, steady, rss = [], [], []
    for run in range(runs):
        elapsed, peak = run_subprocess(agent_args(source, fresh_root(base, f"wall-{source.stem}-{run}")))
        first.append(elapsed)
        rss.append(peak)
    root = fresh_root(base, f"wall-steady-{source.stem}")
    run_subprocess(agent_args(source, root))
    for _ in range(runs):
        elapsed, peak = run_subprocess(agent_args(source, root))
        steady.append(elapsed)
        rss.append(peak)
    return {"first": statistics.median(first), "steady": statistics.median(steady), "rss": max(rss)}


def measure_in_process(agent: Any, base: Path, source: Path, runs: int) -> Dict[str, float]:
    """Median in-process sync() time, first and steady (agent log lines discarded)."""

    def timed(action: Callable[[], Any]) -> float:
        with contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            action()
            return time.perf_counter() - start

    def sync_into(root: Path) -> Callable[[], Any]:
        return lambda: agent.sync(str(source), str(root), "bench", None)

    first = [timed(sync_into(fresh_root(base, f"proc-{source.stem}-{run}"))) for run in range(runs)]
    steady_root = fresh_root(base, f"proc-steady-{source.stem}")
    timed(sync_into(steady_root))
    steady = [timed(sync_into(steady_root)) for _ in range(runs)]
    return {"first": statistics.median(first), "steady": statistics.median(steady)}


def run_any(args: List[str]) -> Tuple[int, int]:
    """Run a command from the launcher whatever its exit code; return (exit code, peak RSS KiB)."""
    output = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, *args], capture_output=True, text=True,
                            check=True).stdout
    _, peak, code = output.split()
    return int(code), int(peak)


def items(raw: bytes) -> int:
    """The agent's item count (structural characters)."""
    return sum(raw.count(c) for c in (b"{", b"[", b",", b":"))


def worst_source(agent: Any, directory: Path, many_items: bool) -> Path:
    """The largest source the agent accepts: MAX_SOURCE_ENTRIES registries, padded to the byte or the item cap."""
    count = agent.MAX_SOURCE_ENTRIES
    auths: Dict[str, Any] = {}
    for number in range(count):
        auth = base64.b64encode(f"robot{number}:pw{number}".encode()).decode()
        auths[f"registry{number}.example.com"] = {"auth": auth}
    base = len(json.dumps({"auths": auths}, separators=(",", ":")).encode())
    base_items = items(json.dumps({"auths": auths}, separators=(",", ":")).encode())
    if many_items:
        # Extra fields are kept as they are: spend the item budget on tiny containers, [] is 1 item, "[]," 2.
        per_entry = (agent.MAX_JSON_ITEMS - base_items - 2 * count) // (2 * count)
        for entry in auths.values():
            entry["x"] = [[] for _ in range(per_entry)]
    else:
        per_entry = (agent.MAX_SOURCE_BYTES - base - 16 * count) // count
        for entry in auths.values():
            entry["email"] = "e" * per_entry
    path = directory / f"worst-source-{'items' if many_items else 'bytes'}.json"
    raw = json.dumps({"auths": auths}, separators=(",", ":")).encode()
    assert len(raw) <= agent.MAX_SOURCE_BYTES and items(raw) <= agent.MAX_JSON_ITEMS, (len(raw), items(raw))
    path.write_bytes(raw)
    return path


def worst_config(agent: Any, root: Path) -> None:
    """A foreign config.json at the item cap (tiny containers), padded to the byte cap."""
    pad_items = agent.MAX_JSON_ITEMS - 100
    document: Dict[str, Any] = {"auths": {"foreign.example": {"auth": "Zm9vOmJhcg=="}}, "pad": [{}] * (pad_items // 2)}
    raw = json.dumps(document, separators=(",", ":")).encode()
    document["text"] = "t" * (agent.MAX_CONFIG_BYTES - len(raw) - 4096)  # room for a small source's entry
    raw = json.dumps(document, separators=(",", ":")).encode()
    assert len(raw) <= agent.MAX_CONFIG_BYTES and items(raw) <= agent.MAX_JSON_ITEMS, (len(raw), items(raw))
    (root / "config.json").write_bytes(raw)


def worst_state(agent: Any, root: Path) -> None:
    """A valid state at its item cap: as many registered agents as fit (never expiring)."""
    state = agent.new_state(created_config=False)
    number = 0
    while True:
        state["agents"][f"agent-{number:06d}"] = {"seq": number + 1, "expires": None}
        number += 1
        if number % 1000 == 0:
            raw = json.dumps(state, separators=(",", ":")).encode()
            if items(raw) > agent.MAX_STATE_ITEMS - 12000 or len(raw) > agent.MAX_STATE_BYTES - 200_000:
                break
    state["next_seq"] = number + 1
    (root / agent.STATE_NAME).write_bytes(json.dumps(state, separators=(",", ":")).encode())


def measure_limits(agent: Any, base: Path, runs: int) -> None:
    """Peak RSS of one --once sync at the largest inputs the agent accepts, against the pod's memory limit."""
    limits = pod_spec(NodeBootstrap(), "bench")["containers"][0]["resources"]["limits"]
    limit_mib = int(limits["memory"].removesuffix("Mi"))
    print(f"\nlargest accepted inputs (caps: source {agent.MAX_SOURCE_BYTES} B / {agent.MAX_SOURCE_ENTRIES} "
          f"registries, config {agent.MAX_CONFIG_BYTES} B, state {agent.MAX_STATE_BYTES} B, "
          f"{agent.MAX_JSON_ITEMS} items ({agent.MAX_STATE_ITEMS} state)); pod limit {limit_mib} MiB")
    sources = {"bytes": worst_source(agent, base, False), "items": worst_source(agent, base, True)}
    cases = [
        ("source at byte cap", "bytes", False, False),
        ("source at item cap", "items", False, False),
        ("config at caps", None, True, False),
        ("state at caps", None, False, True),
        ("source+config+state at caps", "items", True, True),
    ]
    small = make_source(base, 1)
    header = ("input", "exit", "peak RSS MiB", "headroom MiB")
    print(" | ".join(header))
    print(" | ".join("-" * len(name) for name in header))
    for name, source_kind, config, state in cases:
        peaks, codes = [], set()
        for run in range(runs):
            root = base / f"limits-{len(os.listdir(base))}"
            root.mkdir()
            if config:
                worst_config(agent, root)
            if state:
                worst_state(agent, root)
            source = sources[source_kind] if source_kind else small
            code, peak = run_any(agent_args(source, root))
            peaks.append(peak)
            codes.add(code)
        peak_mib = max(peaks) / 1024
        cells = (name, ",".join(map(str, sorted(codes))), f"{peak_mib:.1f}", f"{limit_mib - peak_mib:.1f}")
        print(" | ".join(cell.rjust(len(head)) for cell, head in zip(cells, header)))


# The floor: the least any Python agent must do in a fresh process. Read both JSON files with the C parser, merge,
# and (only when the result differs) write a temp file, fsync it, rename it over config.json.
FLOOR = """
import json, os, sys
with open(sys.argv[1], "rb") as f:
    source = json.loads(f.read())
path = os.path.join(sys.argv[2], "config.json")
with open(path, "rb") as f:
    raw = f.read()
config = json.loads(raw)
config.setdefault("auths", {}).update(source["auths"])
data = json.dumps(config, indent=2).encode()
if data != raw:
    temp = path + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    os.rename(temp, path)
"""


CACHED = "import sys; sys.path.insert(0, {directory!r}); import node_agent; sys.exit(node_agent.main())"


def count_instructions(args: List[str]) -> Tuple[float, int]:
    """Instructions (millions) one run of a command executes, counted by valgrind's callgrind; (count, 0)."""
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
                            capture_output=True, text=True, check=False)
    found = [line for line in result.stderr.splitlines() if "Collected :" in line]
    if result.returncode != 0 or not found:
        raise SystemExit(f"{args} under valgrind: exit {result.returncode}\n{result.stderr[-2000:]}")
    return int(found[-1].split()[-1]) / 1e6, 0


def measure_floor(base: Path, agents: Dict[str, Path], runs: int, cached: bool = False,
                  instructions: bool = False) -> None:
    """Agent(s) and floor script side by side: fresh processes, interleaved run by run, per size and phase.

    first: a sync into a fresh kubelet root holding a small foreign config.json (a new root per run);
    steady: a sync that finds everything in place (the agent writes nothing; the floor compares and writes nothing).
    Wall time is measured from the import-free launcher (fork + exec + wait4), interpreter start included.
    """
    def side(command: Callable[[Path, Path], List[str]], source: Path, phase: str,
             name: str) -> Callable[[], Dict[str, float]]:
        steady_root = fresh_root(base, f"{name}-{source.stem}-{phase}-steady")
        run_subprocess(command(source, steady_root))  # the first sync, so the measured ones are steady
        counter = [0]

        def measure() -> Dict[str, float]:
            counter[0] += 1
            root = fresh_root(base, f"{name}-{source.stem}-{phase}-{counter[0]}") if phase == "first" else steady_root
            if instructions:
                return {"ms": count_instructions(command(source, root))[0], "rss": 0.0}
            elapsed, peak = run_subprocess(command(source, root))
            return {"ms": elapsed * 1000, "rss": peak / 1024}
        return measure

    def agent_command(path: Path) -> Callable[[Path, Path], List[str]]:
        return lambda source, root: [sys.executable, str(path), "--source", str(source), "--kubelet-root", str(root),
                                     "--once", "--owner-id", "bench", "--ready-file", ""]

    def floor_command(source: Path, root: Path) -> List[str]:
        return [sys.executable, "-c", FLOOR, str(source), str(root)]

    commands = {name: agent_command(path) for name, path in agents.items()}
    if cached:
        directory = base / "cached"
        directory.mkdir()
        (directory / "node_agent.py").write_bytes(AGENT.read_bytes())
        import py_compile  # written here: PYTHONDONTWRITEBYTECODE would keep the import from caching it

        py_compile.compile(str(directory / "node_agent.py"), doraise=True)
        code = CACHED.format(directory=str(directory))
        commands["agent cached"] = lambda source, root: [
            sys.executable, "-c", code, "--source", str(source), "--kubelet-root", str(root), "--once",
            "--owner-id", "bench", "--ready-file", ""]
    names = list(commands)
    unit = "M instr" if instructions else "ms"
    cols = ["registries", "sync"] + [f"{name} {unit}" for name in names] + [f"floor {unit}"]
    cols += [f"{name} / floor" for name in names]
    if not instructions:
        cols += [f"{name} RSS MiB" for name in names] + ["floor RSS MiB"]
    print(f"# {runs} runs per side, interleaved ({', '.join(names)}, floor); {unit} and ratio: median (min), "
          "then every run's ratio")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for count in SIZES:
        source = make_source(base, count)
        for phase in ("first", "steady"):
            sides = {name: side(command, source, phase, name.replace(" ", "-")) for name, command in commands.items()}
            sides["floor"] = side(floor_command, source, phase, "floor")
            got = interleaved(sides, runs)
            cells = [str(count), phase] + [med_min([r["ms"] for r in got[name]], 1) for name in names + ["floor"]]
            cells += [ratio_cell(got[name], got["floor"], "ms") for name in names]
            if not instructions:
                cells += [f"{max(r['rss'] for r in got[name]):.1f}" for name in names + ["floor"]]
            print("| " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--memory", action="store_true", help="only the peak RSS at the largest accepted inputs")
    parser.add_argument("--floor", action="store_true", help="the agent against the floor script, side by side")
    parser.add_argument("--compare", type=Path, default=None, help="with --floor: another agent.py as a third side")
    parser.add_argument("--cached", action="store_true", help="with --floor: also the agent from cached bytecode")
    parser.add_argument("--instructions", action="store_true",
                        help="with --floor: count instructions under valgrind instead of timing (use --runs 1)")
    options = parser.parse_args()
    runs = options.runs
    if options.floor:
        print(bench_header("node agent --once sync against the floor script, fresh processes"))
        agents = {"agent": AGENT}
        if options.compare:
            agents["compared"] = options.compare.resolve()
        with tempfile.TemporaryDirectory() as scratch:
            measure_floor(Path(scratch), agents, runs, options.cached, options.instructions)
        return
    agent = load_agent()
    if options.memory:
        with tempfile.TemporaryDirectory() as scratch:
            measure_limits(agent, Path(scratch), runs)
        return
    print(f"machine: nproc={os.cpu_count()} {platform.machine()} python={platform.python_version()} "
          f"runs={runs} (medians)")
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        baseline, baseline_rss = min(run_subprocess([sys.executable, "-c", "pass"]) for _ in range(runs))
        print(f"bare interpreter start: {baseline * 1000:.1f} ms, {baseline_rss / 1024:.1f} MiB RSS")
        header = ("registries", "source KiB", "wall first ms", "wall steady ms", "in-proc first ms",
                  "in-proc steady ms", "peak RSS MiB")
        print(" | ".join(header))
        print(" | ".join("-" * len(name) for name in header))
        for count in SIZES:
            source = make_source(base, count)
            wall = measure_wall(base, source, runs)
            proc = measure_in_process(agent, base, source, runs)
            cells = (str(count), f"{source.stat().st_size / 1024:.1f}", f"{wall['first'] * 1000:.1f}",
                     f"{wall['steady'] * 1000:.1f}", f"{proc['first'] * 1000:.2f}", f"{proc['steady'] * 1000:.2f}",
                     f"{wall['rss'] / 1024:.1f}")
            print(" | ".join(cell.rjust(len(name)) for cell, name in zip(cells, header)))


if __name__ == "__main__":
    main()
