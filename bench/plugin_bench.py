"""Time the plugin: its start as the language host runs it (until it prints its port), GetSchema, and Construct.

Run: `./venv/bin/python bench/plugin_bench.py [--runs N]`. Not a test: numbers depend on the machine.
Start and GetSchema go to the real plugin process over gRPC; Construct runs the plugin's own provider class in this
process under Pulumi's mock runtime (no engine to answer it here), with 1 and 50 namespaces.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pulumi
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from registry_credentials.cli.mockrun import run_program
from registry_credentials.component import TYPE_TOKEN
from registry_credentials.plugin.provider import RegistryCredentialsProvider

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "provider"


def start() -> "tuple[subprocess.Popen, int]":
    """The plugin as RunPlugin starts it (`python <dir> <engine address>`), and the port it prints."""
    process = subprocess.Popen([sys.executable, str(PLUGIN_DIR), "127.0.0.1:1"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def construct(provider: RegistryCredentialsProvider, namespaces: int) -> None:
    inputs = {
        "registries": [{"server": "harbor.example.com", "username": "ci", "password": pulumi.Output.secret("pw")}],
        "namespaces": [{"name": f"ns-{i}"} for i in range(namespaces)],
    }
    run_program(lambda: provider.construct("creds", TYPE_TOKEN, inputs, pulumi.ResourceOptions()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    asyncio.set_event_loop(asyncio.new_event_loop())
    timings: dict = {"start (to port)": [], "GetSchema": [], "Construct 1 ns": [], "Construct 50 ns": []}
    provider = RegistryCredentialsProvider()
    for _ in range(runs):
        began = time.perf_counter()
        process, port = start()
        timings["start (to port)"].append(time.perf_counter() - began)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            began = time.perf_counter()
            provider_pb2_grpc.ResourceProviderStub(channel).GetSchema(provider_pb2.GetSchemaRequest(), timeout=30)
            timings["GetSchema"].append(time.perf_counter() - began)
        process.kill()
        process.wait()
        for count in (1, 50):
            began = time.perf_counter()
            construct(provider, count)
            timings[f"Construct {count} ns"].append(time.perf_counter() - began)
    print(f"{'step':<18}{'median ms':>10}{'max ms':>10}   ({runs} runs)")
    for step, values in timings.items():
        print(f"{step:<18}{statistics.median(values) * 1000:>10.0f}{max(values) * 1000:>10.0f}")


if __name__ == "__main__":
    main()
