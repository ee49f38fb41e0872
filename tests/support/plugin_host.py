"""Run the plugin the way Pulumi's language host does, and stand in for the engine and resource monitor over gRPC.

- RunPlugin (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go) runs `python <plugin dir> <engine address>`
  when the directory has a `__main__.py`; the plugin prints its port on stdout.
- Construct needs an engine (Log, GetRootResource, ...) at that address and a resource monitor at the request's
  monitorEndpoint. The monitor is Pulumi's own `MockMonitor` behind a real gRPC server, with two adapters:
  `SupportsFeature` must answer a real protobuf, and everything else is forwarded as is.
"""

import json
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    plugin_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from registry_credentials import pulumi_internals

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "provider"
PROJECT, STACK = "consumer", "dev"


UNKNOWN = object()
"""An output value's value during preview when the resource producing it is not created yet."""


def output_value(value: Any, secret: bool = False, dependencies: Optional[List[str]] = None) -> Dict[str, Any]:
    """An output value as the engine sends it; no `value` if unknown."""
    result: Dict[str, Any] = pulumi_internals.wire_output_value()
    if value is not UNKNOWN:
        result["value"] = value
    if secret:
        result["secret"] = True
    if dependencies:
        result["dependencies"] = dependencies
    return result


def bare_secret(value: Any) -> Dict[str, Any]:
    """A secret without the output-value wrapper (older engines, and `accepts_output_values` off)."""
    return pulumi_internals.wire_secret(value)


def is_secret(value: Any) -> bool:
    """Whether a deserialized property value is marked secret (bare secret or secret output value)."""
    return isinstance(value, dict) and (rpc.is_rpc_secret(value) or value.get("secret") is True)


def struct(properties: Dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(properties)
    return message


class Engine(engine_pb2_grpc.EngineServicer):
    """The engine calls a provider makes: logs are recorded, the root resource is kept."""

    def __init__(self) -> None:
        self.logs: List[Tuple[int, str]] = []
        self.root = ""

    def Log(self, request, context):  # noqa: N802 (gRPC method name)
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request, context):  # noqa: N802
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


class RecordingMocks(Mocks):
    """Records every registration's inputs as the monitor received them (secrets still marked) and echoes them."""

    def __init__(self, live: Callable[[MockResourceArgs], Dict[str, Any]]) -> None:
        self.registered: List[MockResourceArgs] = []
        self.read: List[MockResourceArgs] = []
        self.requests: List[resource_pb2.RegisterResourceRequest] = []
        self._live = live

    def new_resource(self, args: MockResourceArgs):
        if args.custom is None:  # MockMonitor.ReadResource passes no `custom`: a `.get` of live state
            self.read.append(args)
            return args.resource_id, self._live(args)
        self.registered.append(args)
        state = {k: rpc.unwrap_rpc_secret(v) for k, v in args.inputs.items()}
        if args.typ == "random:index/randomId:RandomId":
            state["hex"] = "00112233aabbccdd"
        return f"{args.name}-id", state

    def call(self, args):
        return {}


class Monitor(MockMonitor):
    """MockMonitor with URNs of a fixed project and stack (it would read them from this process's settings)."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            type_ = parent.split("::")[2].split("$")[-1] + "$" + type_
        return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"

    def RegisterResource(self, request):  # noqa: N802
        # The raw request too: MockResourceArgs carries no dependencies or options.
        self.mocks.requests.append(request)
        return super().RegisterResource(request)


class MonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):
    """Serves a MockMonitor as a gRPC ResourceMonitor."""

    def __init__(self, monitor: MockMonitor) -> None:
        self.monitor = monitor

    def SupportsFeature(self, request, context):  # noqa: N802
        # MockMonitor answers with an ad-hoc object; gRPC needs the real message.
        answer = self.monitor.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=answer.hasSupport)

    def GetDeploymentInfo(self, request, context):  # noqa: N802
        return self.monitor.GetDeploymentInfo(request)

    def RegisterResource(self, request, context):  # noqa: N802
        return self.monitor.RegisterResource(request)

    def ReadResource(self, request, context):  # noqa: N802
        return self.monitor.ReadResource(request)

    def RegisterResourceOutputs(self, request, context):  # noqa: N802
        return self.monitor.RegisterResourceOutputs(request)

    def Invoke(self, request, context):  # noqa: N802
        return self.monitor.Invoke(request)

    def RegisterPackage(self, request, context):  # noqa: N802
        return self.monitor.RegisterPackage(request)

    def SignalAndWaitForShutdown(self, request, context):  # noqa: N802
        return empty_pb2.Empty()


def serve(add: Callable[[grpc.Server], None]) -> Tuple[grpc.Server, str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


class PluginProcess:
    """The plugin launched as the language host launches it, with an engine served in this process."""

    def __init__(self) -> None:
        self.engine = Engine()
        self._engine_server, self.engine_address = serve(
            lambda s: engine_pb2_grpc.add_EngineServicer_to_server(self.engine, s)
        )
        self.process = subprocess.Popen(
            [sys.executable, str(PLUGIN_DIR), self.engine_address],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.provider = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.stderr: List[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise AssertionError(f"plugin printed {line!r} instead of its port; stderr: {self.process.stderr.read()}")
        return int(line)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def schema(self) -> Dict[str, Any]:
        return json.loads(self.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30).schema)

    def plugin_info(self) -> plugin_pb2.PluginInfo:
        return self.provider.GetPluginInfo(empty_pb2.Empty(), timeout=30)

    def construct(
        self, mocks: RecordingMocks, inputs: Dict[str, Any], name: str = "creds", dry_run: bool = False,
        dependencies: Optional[Dict[str, List[str]]] = None, providers: Optional[Dict[str, str]] = None,
    ) -> provider_pb2.ConstructResponse:
        monitor = Monitor(mocks)
        for reference in (providers or {}).values():
            # The consumer's provider exists already; the SDK looks it up (getResource) before using it.
            urn, _, id_ = reference.rpartition("::")
            pulumi_internals.record_read(monitor, urn, id_, {})
        monitor_server, monitor_address = serve(
            lambda s: resource_pb2_grpc.add_ResourceMonitorServicer_to_server(MonitorServicer(monitor), s)
        )
        try:
            return self.provider.Construct(
                provider_pb2.ConstructRequest(
                    project=PROJECT, stack=STACK, name=name, type="registry-credentials:index:RegistryCredentials",
                    inputs=struct(inputs), monitorEndpoint=monitor_address, dryRun=dry_run,
                    accepts_output_values=True, providers=providers or {},
                    inputDependencies={
                        k: provider_pb2.ConstructRequest.PropertyDependencies(urns=v)
                        for k, v in (dependencies or {}).items()
                    },
                ),
                timeout=60,
            )
        finally:
            monitor_server.stop(None)

    def close(self) -> None:
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)
        self._engine_server.stop(None)


def state(response: provider_pb2.ConstructResponse) -> Dict[str, Any]:
    """The component's outputs, deserialized with secrets still marked."""
    return rpc.deserialize_properties(response.state, keep_unknowns=True)
