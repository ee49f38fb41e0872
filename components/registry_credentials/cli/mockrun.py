"""Run a Pulumi program under Pulumi's own mock runtime and return what it registered.

This is not an engine: by default resources are not created, only recorded with the inputs the real program sends,
and outputs echo them. `offline_preview.EngineMocks` plugs in here to answer as the engine, pulumi-kubernetes and
the API server would. The offline `render` command and the test suite share it, so both see exactly what `pulumi up` sends.
"""

import inspect
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import get_root_resource

from .. import pulumi_internals

LiveObjects = Mapping[Tuple[str, str], Mapping[str, Any]]
"""(resource type, id) -> state returned when the program reads an existing object (`Resource.get`)."""


@dataclass
class Record:
    """One registration as the engine would receive it: type token, logical name, wire inputs."""

    typ: str
    name: str
    inputs: Dict[str, Any]
    custom: bool
    resource_id: Optional[str] = None
    provider: Optional[str] = None
    transforms: List[Any] = field(default_factory=list)
    parent: Optional[str] = None
    dependencies: List[str] = field(default_factory=list)
    retain_on_delete: bool = False
    urn: Optional[str] = None

    @property
    def read(self) -> bool:
        """True when the program read an existing object instead of declaring one."""
        return bool(self.resource_id)


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back as outputs, fill in what providers compute, and serve reads from `live`."""

    def __init__(self, live: Optional[LiveObjects] = None, run_transforms: bool = False) -> None:
        self.records: List[Record] = []
        self.live = dict(live or {})
        self.run_transforms = run_transforms
        self.stack_transforms: List[Any] = []

    def register_transform(self, transform: Any) -> None:
        """Keep stack transforms, so they can be applied when `run_transforms` is set."""
        self.stack_transforms.append(transform)

    def make_monitor(self) -> "RecordingMonitor":
        """The monitor `run_program` installs for these mocks."""
        return RecordingMonitor(self)

    def _transform_props(self, args: pulumi.runtime.MockResourceArgs) -> Dict[str, Any]:
        """Props as handed to transforms (here the wire form; EngineMocks hands Outputs as the engine does)."""
        return dict(args.inputs)

    def _wire(self, props: Dict[str, Any]) -> Dict[str, Any]:
        """Transformed props back in wire form."""
        return props

    def _transformed(self, args: pulumi.runtime.MockResourceArgs) -> Dict[str, Any]:
        # The mock monitor records transforms but never runs them; its docs suggest running them here.
        # Order as the engine's: the resource's own transforms, then the stack's.
        props = self._transform_props(args)
        for transform in [*(getattr(args, "transforms", None) or []), *self.stack_transforms]:
            result = transform(pulumi.ResourceTransformArgs(
                custom=args.custom, type_=args.typ, name=args.name, props=props, opts=pulumi.ResourceOptions()))
            if inspect.isawaitable(result):
                result = pulumi_internals.run_sync(result)
            if result is not None:
                props = dict(result.props)
        return self._wire(props)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Tuple[Optional[str], dict]:
        """Record the registration and return plausible outputs."""
        inputs = self._transformed(args) if self.run_transforms and args.custom else dict(args.inputs)
        record = self.record(args, inputs)
        if record.read:
            state = self.live.get((args.typ, args.resource_id))
            return args.resource_id, dict(state) if state is not None else dict(args.inputs)
        return self._created(args.typ, args.name, inputs)

    def record(self, args: pulumi.runtime.MockResourceArgs, inputs: Dict[str, Any]) -> Record:
        """Note one registration (or read) with the inputs it was sent."""
        record = Record(
            typ=args.typ,
            name=args.name,
            inputs=inputs,
            custom=args.custom,
            resource_id=args.resource_id or None,
            provider=args.provider or None,
            transforms=list(getattr(args, "transforms", None) or []),
        )
        self.records.append(record)
        return record

    def _created(self, typ: str, name: str, inputs: Dict[str, Any]) -> Tuple[str, dict]:
        state = dict(inputs)
        if typ == "random:index/randomId:RandomId":
            # Provider-computed: absent under mocks unless supplied (it would silently be None otherwise).
            state.update(hex="0a1b2c3d", b64Url="ChssPQ", b64Std="ChssPQ==", dec="169552957")
            return f"{name}-id", state
        metadata = state.get("metadata")
        if typ.startswith("kubernetes:") and isinstance(metadata, dict):
            if not metadata.get("name"):
                # The provider autonames objects without metadata.name as <logical name>-<random suffix>.
                metadata = {**metadata, "name": f"{name}-mock1234"}
                state["metadata"] = metadata
            namespace = metadata.get("namespace")
            return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), state
        return f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Tuple[dict, Optional[list]]:
        """No invokes are expected; answer empty rather than fail a program that adds one."""
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also noting the resource options that `MockResourceArgs` leaves out."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        """Register as the mock monitor does, then attach parent, dependencies and retainOnDelete."""
        response = super().RegisterResource(request)
        self._annotate(request, response.urn, read=False)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        """Read as the mock monitor does, then attach parent and dependencies."""
        response = super().ReadResource(request)
        self._annotate(request, response.urn, read=True)
        return response

    def _annotate(self, request: Any, urn: str, read: bool) -> None:
        with self._lock:
            for record in reversed(self.mocks.records):
                if record.typ == request.type and record.name == request.name and record.read == read:
                    record.parent = request.parent or None
                    record.dependencies = list(request.dependencies)
                    record.retain_on_delete = bool(getattr(request, "retainOnDelete", False))
                    record.urn = urn
                    break


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: List[Tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelname.lower(), record.getMessage()))


@dataclass
class Run:
    """What one program run registered, logged and exported."""

    records: List[Record]
    logs: List[Tuple[str, str]]
    outputs: Dict[str, Any]
    secret_outputs: List[str]
    stack_transforms: List[Any]
    urns: List[str]

    @property
    def warnings(self) -> List[str]:
        """Messages the program sent with pulumi.log.warn."""
        return [message for level, message in self.logs if level == "warning"]

    def of_type(self, typ: str) -> List[Record]:
        """Declared (not read) resources of one type token."""
        return [r for r in self.records if r.typ == typ and not r.read]


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "registry-credentials",
    stack: str = "test",
    config: Optional[Mapping[str, str]] = None,
    secret_keys: Sequence[str] = (),
    live: Optional[LiveObjects] = None,
    preview: bool = False,
    mocks: Optional[RecordingMocks] = None,
    run_transforms: bool = False,
) -> Run:
    """Run `program` under mocks with the given config (full `project:key` names, JSON for objects).

    Pass your own `mocks` to inspect what was registered even when the program raises.
    """
    mocks = mocks if mocks is not None else RecordingMocks(live, run_transforms=run_transforms)
    monitor = mocks.make_monitor()
    capture = _Capture()
    logger = logging.getLogger(f"registry_credentials.cli.mockrun.{id(capture)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(capture)
    outputs: Dict[str, Any] = {}
    secret_outputs: List[str] = []

    async def body() -> None:
        program()
        root = get_root_resource()
        for key, value in dict(getattr(root, "outputs", {}) or {}).items():
            output = pulumi.Output.from_input(value)
            outputs[key] = await output.future()
            if await output.is_secret():
                secret_outputs.append(key)

    with pulumi_internals.fresh_runtime():
        pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)
        set_all_config(dict(config or {}), list(secret_keys))
        try:
            pulumi.runtime.test(body)()
        finally:
            set_all_config({}, [])
            logger.removeHandler(capture)
    return Run(
        records=mocks.records,
        logs=[(level, message) for level, message in capture.messages if level != "debug"],
        outputs=outputs,
        secret_outputs=secret_outputs,
        stack_transforms=monitor.get_registered_transforms(),
        urns=list(monitor.get_registered_resources()),
    )
