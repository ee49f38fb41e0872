"""Time the plugin as the language host runs it: start until it prints its port, GetSchema, and Construct.

Run: `./venv/bin/python bench/plugin_bench.py [--runs N]`. Not a test: numbers depend on the machine.
Construct goes to Pulumi's MockMonitor over gRPC (tests/support/plugin_host.py) with 1 and 50 namespaces.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.plugin_host import PluginProcess, RecordingMocks, output_value  # noqa: E402


def live(args):
    ns, name = args.resource_id.split("/")
    return {"metadata": {"name": name, "namespace": ns, "managedFields": []}, "imagePullSecrets": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    asyncio.set_event_loop(asyncio.new_event_loop())
    timings: dict = {"start (to port)": [], "GetSchema": [], "Construct 1 ns": [], "Construct 50 ns": []}
    for _ in range(runs):
        began = time.perf_counter()
        plugin = PluginProcess()
        timings["start (to port)"].append(time.perf_counter() - began)
        began = time.perf_counter()
        plugin.schema()
        timings["GetSchema"].append(time.perf_counter() - began)
        for count in (1, 50):
            inputs = {
                "registries": [{"server": "harbor.example.com", "username": "ci",
                                "password": output_value("pw", secret=True)}],
                "namespaces": [{"name": f"ns-{i}"} for i in range(count)],
            }
            began = time.perf_counter()
            plugin.construct(RecordingMocks(live), inputs)
            timings[f"Construct {count} ns"].append(time.perf_counter() - began)
        plugin.close()
    print(f"{'step':<18}{'median ms':>10}{'max ms':>10}   ({runs} runs)")
    for step, values in timings.items():
        print(f"{step:<18}{statistics.median(values) * 1000:>10.0f}{max(values) * 1000:>10.0f}")


if __name__ == "__main__":
    main()
