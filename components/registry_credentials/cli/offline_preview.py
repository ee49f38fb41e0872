"""A first `pulumi preview`, offline: what the engine, pulumi-kubernetes and the API server answer a new stack.

Pulumi's default mocks echo inputs back and answer every read, so the render would show values no preview shows.
Here registrations and reads are answered as in the first preview of a stack with no state yet, on a cluster that
meets method 3's precondition (docs/namespace-defaults.md: every namespace the stack reads from exists, with
clean ServiceAccounts):

- a new resource has no id yet in preview, and a Patch resource none in any preview (pulumi-kubernetes
  provider/pkg/provider/provider.go Create, preview branch), so reads by those ids are skipped;
- a read whose id is unknown is skipped, every output unknown (pulumi pkg/resource/deploy/step.go, ReadStep);
- a read that runs finds the object with nothing set and no field managers;
- provider-computed outputs (RandomId.hex) are unknown: left out, the SDK resolves them as unknown;
- transforms get secrets and unknowns as Outputs, and with the resource's own transforms every top-level prop with
  dependencies too (pulumi pkg/resource/deploy/source_eval.go, sdk/python/lib/pulumi/runtime/rpc.py).

`Engine` is what a run is answered by; the test suite drives the same mocks with a model of later runs too.
"""

import asyncio
import threading
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, Set, Tuple

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from .. import pulumi_internals
from .mockrun import RecordingMocks, RecordingMonitor, Run, run_program


class EngineError(pulumi.RunError):
    """What the engine would print as the failure of one step (the run stops there)."""


class Engine(Protocol):
    """Answers one program run's registrations and reads as the engine would."""

    errors: List[EngineError]

    def begin(self, preview: bool) -> None:
        """Start a `pulumi preview` (preview=True) or the update phase of `pulumi up`."""

    def register(self, urn: str, typ: str, inputs: Dict[str, Any], custom: bool, retain_on_delete: bool,
                 secret_inputs: Set[str], additional_secret_outputs: Iterable[str]) -> Tuple[str, Dict[str, Any]]:
        """Answer one RegisterResource: the id ("" = unknown) and the outputs."""

    def read(self, urn: str, typ: str, id_: str) -> Tuple[str, Optional[Dict[str, Any]]]:
        """Answer one ReadResource: (id, outputs), outputs None when the read is skipped (all unknown)."""

    def finish(self) -> None:
        """End of the program."""


class FirstPreview:
    """The engine of a stack's first `pulumi preview`, on a cluster that meets method 3's precondition."""

    def __init__(self) -> None:
        self.errors: List[EngineError] = []

    def begin(self, preview: bool) -> None:
        """Only a preview: nothing is ever created."""
        self.errors = []

    def register(self, urn: str, typ: str, inputs: Dict[str, Any], custom: bool, retain_on_delete: bool,
                 secret_inputs: Set[str], additional_secret_outputs: Iterable[str]) -> Tuple[str, Dict[str, Any]]:
        """A new resource: no id yet, its inputs as outputs (provider-computed ones unknown)."""
        if custom and typ.startswith("pulumi:providers:"):
            return f"{urn}-provider-id", dict(inputs)
        return "", dict(inputs)

    def read(self, urn: str, typ: str, id_: str) -> Tuple[str, Optional[Dict[str, Any]]]:
        """A read by an unknown id is skipped; any other finds the object as it is before our first run."""
        if id_ == rpc.UNKNOWN or not id_:
            return "", None
        namespace, _, name = id_.rpartition("/")
        metadata: Dict[str, Any] = {"name": name}
        if namespace:
            metadata["namespace"] = namespace
        metadata["managedFields"] = []
        return id_, {"apiVersion": "v1", "kind": typ.rsplit(":", 1)[-1], "metadata": metadata}

    def finish(self) -> None:
        """Nothing is deleted: there is no state yet."""


def plain(value: Any) -> Any:
    """`value` without secret envelopes."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class EngineMocks(RecordingMocks):
    """RecordingMocks whose answers come from an Engine instead of echoing inputs."""

    def __init__(self, engine: Engine, run_transforms: bool = False) -> None:
        super().__init__(run_transforms=run_transforms)
        self.engine = engine
        self.request = threading.local()

    def make_monitor(self) -> "EngineMonitor":
        """The monitor that hands the engine what MockResourceArgs leaves out."""
        return EngineMonitor(self)

    def _transform_props(self, args: pulumi.runtime.MockResourceArgs) -> Dict[str, Any]:
        deps = set(getattr(self.request, "property_dependencies", ()) or ())
        own = bool(getattr(args, "transforms", None))
        return {k: engine_form(v, as_output=own and k in deps) for k, v in args.inputs.items()}

    def _wire(self, props: Dict[str, Any]) -> Dict[str, Any]:
        # Transforms may return Outputs; serialise them as the SDK does, back to wire form.
        struct = pulumi_internals.run_sync(rpc.serialize_properties(props, {}))
        return rpc.deserialize_properties(struct, keep_unknowns=True)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Tuple[Optional[str], dict]:
        """Record the registration, then let the engine answer it."""
        inputs = self._transformed(args) if self.run_transforms and args.custom else dict(args.inputs)
        self.record(args, inputs)
        request = self.request
        try:
            return self.engine.register(
                request.urn, args.typ, inputs, args.custom, request.retain_on_delete, request.secret_inputs,
                request.additional_secret_outputs)
        except EngineError as err:
            self.engine.errors.append(err)
            raise


class EngineMonitor(RecordingMonitor):
    """The mock monitor, passing urns and options to the engine and returning read ids as the engine does."""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        """Stash what the engine needs from the request, then register as the mock monitor does."""
        local = self.mocks.request
        local.urn = self.make_urn(request.parent, request.type, request.name)
        local.retain_on_delete = bool(getattr(request, "retainOnDelete", False))
        local.additional_secret_outputs = list(request.additionalSecretOutputs)
        local.property_dependencies = list(request.propertyDependencies.keys())
        local.secret_inputs = {k for k, v in request.object.fields.items() if pulumi_internals.is_wire_secret(v)}
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        """Read through the engine; a skipped read answers no properties (all unknown) and no id."""
        pulumi_internals.ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        self.mocks.record(pulumi.runtime.MockResourceArgs(
            typ=request.type, name=request.name, inputs=rpc.deserialize_properties(request.properties),
            provider=request.provider, resource_id=request.id), {})
        try:
            id_, state = self.mocks.engine.read(urn, request.type, request.id)
        except EngineError as err:
            self.mocks.engine.errors.append(err)
            raise
        props = pulumi_internals.run_sync(rpc.serialize_properties(state or {}, {}))
        pulumi_internals.record_read(self, urn, id_, state or {})
        self._annotate(request, urn, read=True)
        return resource_pb2.ReadResourceResponse(urn=urn, id=id_, properties=props)


def engine_form(value: Any, as_output: bool = False) -> Any:
    """A wire value as the engine hands it to a transform: secrets and unknowns as Outputs."""
    if rpc.is_rpc_secret(value):
        return pulumi.Output.secret(plain(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, pulumi.output.Unknown) or value == rpc.UNKNOWN:
        return _unknown_output()
    if isinstance(value, dict):
        value = {k: engine_form(v) for k, v in value.items()}
    elif isinstance(value, list):
        value = [engine_form(v) for v in value]
    return pulumi.Output.from_input(value) if as_output else value


def _unknown_output() -> pulumi.Output:
    loop = asyncio.get_event_loop()
    known: "asyncio.Future[bool]" = loop.create_future()
    known.set_result(False)
    result: "asyncio.Future[Any]" = loop.create_future()
    result.set_result(None)
    secret: "asyncio.Future[bool]" = loop.create_future()
    secret.set_result(False)
    return pulumi.Output(set(), result, known, secret)


def run_on(engine: Engine, program: Callable[[], Any], *, preview: bool, **kwargs: Any) -> Run:
    """One program run (a preview, or the update phase of an up) answered by `engine`."""
    engine.begin(preview)
    mocks = EngineMocks(engine, run_transforms=kwargs.pop("run_transforms", False))
    result = run_program(program, preview=preview, mocks=mocks, **kwargs)
    if engine.errors:
        raise engine.errors[0]
    engine.finish()
    return result
