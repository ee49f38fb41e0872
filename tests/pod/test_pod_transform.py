"""The opt-in pull-secret transform (method 4): pure-function table, wire shapes, and registration under mocks."""

import asyncio
import copy
import inspect
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import grpc
import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.output import UNKNOWN
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc, resource_pb2

from registry_credentials import ConfigError
from registry_credentials.pod.transform import POD_SPEC_PATHS, pull_secret_transform

NAMES = {"apps": "apps-pull", "batch": "batch-pull", "default": "default-pull"}
SECRET = "apps-pull"

# The test's own copy of where each kind keeps its PodSpec, so the module's table is checked, not reused.
KIND_PATHS: Dict[str, Tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:PodTemplate": ("template", "spec"),
    "kubernetes:core/v1:ReplicationController": ("spec", "template", "spec"),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD_TYPE = "kubernetes:core/v1:Pod"
UNCHANGED = "unchanged"
_ABSENT = object()

# Wire-protocol signatures (sdk/go/common/resource/properties.go and plugin/rpc.go), spelled out rather than taken
# from the Python SDK so that a disagreement between the two shows up here.
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"  # a typed sentinel; the Python SDK decodes only the string one
NS_URN = "urn:pulumi:stack::project::kubernetes:core/v1:Namespace::apps"


@pytest.fixture(scope="module", autouse=True)
def module_event_loop() -> asyncio.AbstractEventLoop:
    """Reuse the session's current loop (conftest may set one) or set one; never one loop per test."""
    with warnings.catch_warnings():
        # Python 3.12+ warns, and 3.14 raises, when asking for a loop none was set for.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
            if not loop.is_closed():
                return loop
        except RuntimeError:
            pass
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def container(name: str = "app", image: Any = "registry.example.com/app:1") -> Dict[str, Any]:
    """A minimal container in wire (camelCase) form."""
    return {"name": name, "image": image}


def pod_spec(pull_secrets: Any = _ABSENT, **extra: Any) -> Dict[str, Any]:
    """A PodSpec with one container, optionally with imagePullSecrets (any wire value)."""
    spec: Dict[str, Any] = {"containers": [container()], **extra}
    if pull_secrets is not _ABSENT:
        spec["imagePullSecrets"] = pull_secrets
    return spec


def nest(path: Sequence[str], leaf: Any) -> Any:
    """Build {path[0]: {path[1]: ... leaf}}."""
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


def workload(type_: str, namespace: Any = "apps", spec: Any = _ABSENT, metadata: Any = _ABSENT) -> Dict[str, Any]:
    """Props for `type_` as the engine sends them: apiVersion, kind, metadata and the nested PodSpec."""
    group_version, kind = type_.split(":")[1:]
    group, version = group_version.split("/")
    props: Dict[str, Any] = {"apiVersion": version if group == "core" else f"{group}/{version}", "kind": kind}
    if metadata is _ABSENT:
        metadata = {"name": "web"}
        if namespace is not _ABSENT:
            metadata["namespace"] = namespace
    if metadata is not _ABSENT:
        props["metadata"] = metadata
    path = KIND_PATHS.get(type_, ("spec", "template", "spec"))
    props.update(nest(path, pod_spec() if spec is _ABSENT else spec))
    return props


def args_for(type_: str, props: Any, custom: bool = True) -> pulumi.ResourceTransformArgs:
    """Transform args as the SDK builds them for a resource named `web`."""
    return pulumi.ResourceTransformArgs(
        custom=custom, type_=type_, name="web", props=props, opts=pulumi.ResourceOptions()
    )


def obj(api_version: str, kind: str, **fields: Any) -> Dict[str, Any]:
    """Props of any object in namespace `apps`."""
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "web", "namespace": "apps"}, **fields}


def at(value: Any, path: Sequence[str]) -> Any:
    """The value under a path of keys."""
    for key in path:
        value = value[key]
    return value


def replaced(props: Dict[str, Any], path: Sequence[str], key: str, value: Any) -> Dict[str, Any]:
    """A deep copy of props with value at path+key."""
    new = copy.deepcopy(props)
    at(new, path)[key] = value
    return new


def frozen(value: Any) -> Any:
    """A comparable snapshot: Unknown has no equality, so it becomes a marker."""
    if isinstance(value, Mapping):
        return {k: frozen(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [frozen(v) for v in value]
    if isinstance(value, pulumi.output.Unknown):
        return "<unknown>"
    return value


def transform_sync(t: Callable, args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
    """Call the transform on props without Outputs, where it must answer without awaiting."""
    result = t(args)
    assert not inspect.isawaitable(result), "plain props must not need the event loop"
    return result


# ---------------------------------------------------------------------------------------------------------------
# Pure-function table: type, props in, expected imagePullSecrets out (or unchanged)


@dataclass
class Case:
    """One row: the resource, what the pod spec's imagePullSecrets must become, and the transform's options."""

    id: str
    type_: str
    props: Dict[str, Any]
    expected: Any  # a list of entries, or UNCHANGED
    custom: bool = True
    default_namespace: str = "default"
    path: Tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.path:
            self.path = KIND_PATHS.get(self.type_, ())


CASES: List[Case] = [
    # Every kind, in a managed namespace, with no pull secrets yet.
    *[Case(f"kind-{t.split(':')[-1]}", t, workload(t), [{"name": SECRET}]) for t in KIND_PATHS],
    Case(
        "cronjob-lands-in-jobTemplate",
        "kubernetes:batch/v1:CronJob",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "batch"},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": pod_spec(restartPolicy="Never")}}},
            },
        },
        [{"name": "batch-pull"}],
    ),
    # Existing entries.
    Case(
        "existing-entries-kept-in-order",
        DEPLOYMENT,
        workload(DEPLOYMENT, spec=pod_spec([{"name": "zeta"}, {"name": "alpha"}])),
        [{"name": "zeta"}, {"name": "alpha"}, {"name": SECRET}],
    ),
    Case(
        "odd-entries-kept-as-they-are",
        DEPLOYMENT,
        workload(DEPLOYMENT, spec=pod_spec([{}, {"name": "x", "extra": 1}])),
        [{}, {"name": "x", "extra": 1}, {"name": SECRET}],
    ),
    Case("empty-list-filled", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec([])), [{"name": SECRET}]),
    Case("null-list-filled", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec(None)), [{"name": SECRET}]),
    Case(
        "duplicate-not-added",
        DEPLOYMENT,
        workload(DEPLOYMENT, spec=pod_spec([{"name": "other"}, {"name": SECRET}])),
        UNCHANGED,
    ),
    # Namespaces.
    Case("unmanaged-namespace", DEPLOYMENT, workload(DEPLOYMENT, namespace="kube-system"), UNCHANGED),
    Case(
        "missing-namespace-is-default", DEPLOYMENT, workload(DEPLOYMENT, namespace=_ABSENT), [{"name": "default-pull"}]
    ),
    Case("empty-namespace-is-default", DEPLOYMENT, workload(DEPLOYMENT, namespace=""), [{"name": "default-pull"}]),
    Case(
        "no-metadata-key-is-default",
        POD_TYPE,
        {k: v for k, v in workload(POD_TYPE).items() if k != "metadata"},
        [{"name": "default-pull"}],
    ),
    Case("null-metadata-is-default", POD_TYPE, workload(POD_TYPE, metadata=None), [{"name": "default-pull"}]),
    Case(
        "custom-default-namespace",
        DEPLOYMENT,
        workload(DEPLOYMENT, namespace=_ABSENT),
        [{"name": "batch-pull"}],
        default_namespace="batch",
    ),
    Case(
        "custom-default-namespace-unmanaged",
        DEPLOYMENT,
        workload(DEPLOYMENT, namespace=_ABSENT),
        UNCHANGED,
        default_namespace="tenant-a",
    ),
    Case(
        "explicit-namespace-beats-default",
        DEPLOYMENT,
        workload(DEPLOYMENT, namespace="apps"),
        [{"name": SECRET}],
        default_namespace="batch",
    ),
    # Unrelated kinds and resources.
    Case("service", "kubernetes:core/v1:Service", obj("v1", "Service", spec={"ports": [{"port": 80}]}), UNCHANGED),
    Case("configmap", "kubernetes:core/v1:ConfigMap", obj("v1", "ConfigMap", data={"a": "b"}), UNCHANGED),
    Case("secret", "kubernetes:core/v1:Secret", obj("v1", "Secret", type="Opaque"), UNCHANGED),
    Case("serviceaccount", "kubernetes:core/v1:ServiceAccount", obj("v1", "ServiceAccount"), UNCHANGED),
    Case("component-type", "regcreds:index:RegistryCredentials", workload(DEPLOYMENT), UNCHANGED, custom=False),
    Case("component-with-a-k8s-type", DEPLOYMENT, workload(DEPLOYMENT), UNCHANGED, custom=False),
    Case("deployment-patch", "kubernetes:apps/v1:DeploymentPatch", workload(DEPLOYMENT), UNCHANGED),
    Case("pod-patch", "kubernetes:core/v1:PodPatch", workload("kubernetes:core/v1:Pod"), UNCHANGED),
    Case(
        "deployment-list",
        "kubernetes:apps/v1:DeploymentList",
        {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [workload(DEPLOYMENT)]},
        UNCHANGED,
    ),
    Case("old-api-version", "kubernetes:batch/v1beta1:CronJob", workload("kubernetes:batch/v1:CronJob"), UNCHANGED),
    # Shapes the transform must not complete or guess at.
    Case("deployment-without-template", DEPLOYMENT, obj("apps/v1", "Deployment", spec={"replicas": 1}), UNCHANGED),
    Case("deployment-without-spec", DEPLOYMENT, obj("apps/v1", "Deployment"), UNCHANGED),
    Case("pod-without-spec", POD_TYPE, obj("v1", "Pod"), UNCHANGED),
    Case("podtemplate-without-template", "kubernetes:core/v1:PodTemplate", obj("v1", "PodTemplate"), UNCHANGED),
    Case("pod-spec-not-a-map", DEPLOYMENT, workload(DEPLOYMENT, spec="not-a-map"), UNCHANGED),
    Case("list-is-a-sentinel-string", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec(UNKNOWN_ARRAY)), UNCHANGED),
    Case("namespace-not-a-string", DEPLOYMENT, workload(DEPLOYMENT, namespace=42), UNCHANGED),
    # Unknown values during preview.
    Case("unknown-namespace", DEPLOYMENT, workload(DEPLOYMENT, namespace=UNKNOWN), UNCHANGED),
    Case("unknown-metadata", DEPLOYMENT, workload(DEPLOYMENT, metadata=UNKNOWN), UNCHANGED),
    Case("unknown-spec", DEPLOYMENT, {**workload(DEPLOYMENT), "spec": UNKNOWN}, UNCHANGED),
    Case("unknown-template", DEPLOYMENT, obj("apps/v1", "Deployment", spec={"template": UNKNOWN}), UNCHANGED),
    Case("unknown-pod-spec", DEPLOYMENT, workload(DEPLOYMENT, spec=UNKNOWN), UNCHANGED),
    Case("unknown-list", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec(UNKNOWN)), UNCHANGED),
    Case("unknown-entry", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec([{"name": "a"}, UNKNOWN])), UNCHANGED),
    Case("unknown-entry-name", DEPLOYMENT, workload(DEPLOYMENT, spec=pod_spec([{"name": UNKNOWN}])), UNCHANGED),
    Case(
        "unknown-elsewhere-is-kept",
        DEPLOYMENT,
        workload(DEPLOYMENT, spec={"containers": [container(image=UNKNOWN)], "serviceAccountName": UNKNOWN}),
        [{"name": SECRET}],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_table(case: Case) -> None:
    t = pull_secret_transform(NAMES, default_namespace=case.default_namespace)
    before = frozen(case.props)
    args = args_for(case.type_, case.props, custom=case.custom)

    result = transform_sync(t, args)

    assert frozen(case.props) == before, "the input props were mutated"
    if case.expected == UNCHANGED:
        assert result is None
        return
    assert result is not None
    assert result.opts is args.opts
    assert at(result.props, case.path)["imagePullSecrets"] == case.expected
    # Nothing but that one list differs, and unknowns elsewhere are passed through as they were.
    assert frozen(result.props) == frozen(replaced(case.props, case.path, "imagePullSecrets", case.expected))
    # Idempotent: a second pass (stack + resource transform, or a packaged component's double call) adds nothing.
    assert transform_sync(t, args_for(case.type_, result.props)) is None


def test_every_supported_kind_is_in_the_table() -> None:
    assert dict(POD_SPEC_PATHS) == KIND_PATHS


def test_each_namespace_gets_its_own_secret() -> None:
    t = pull_secret_transform(NAMES)
    got = {}
    for namespace in ("apps", "batch", "default"):
        result = transform_sync(t, args_for(DEPLOYMENT, workload(DEPLOYMENT, namespace=namespace)))
        assert result is not None
        got[namespace] = at(result.props, KIND_PATHS[DEPLOYMENT])["imagePullSecrets"]
    assert got == {ns: [{"name": name}] for ns, name in NAMES.items()}


def test_untouched_parts_are_shared_not_copied_and_path_is_copied() -> None:
    props = workload(DEPLOYMENT, spec=pod_spec([{"name": "a"}]))
    result = transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, props))
    assert result is not None
    new_pod_spec = at(result.props, KIND_PATHS[DEPLOYMENT])
    old_pod_spec = at(props, KIND_PATHS[DEPLOYMENT])
    assert result.props is not props and new_pod_spec is not old_pod_spec
    assert new_pod_spec["imagePullSecrets"] is not old_pod_spec["imagePullSecrets"]
    # Sharing unchanged siblings is safe (nothing mutates them) and keeps Outputs in them intact.
    assert new_pod_spec["containers"] is old_pod_spec["containers"]
    assert result.props["metadata"] is props["metadata"]


def test_mapping_of_names_is_copied_at_creation() -> None:
    names = dict(NAMES)
    t = pull_secret_transform(names)
    names["apps"] = "changed-later"
    result = transform_sync(t, args_for(DEPLOYMENT, workload(DEPLOYMENT)))
    assert result is not None
    assert at(result.props, KIND_PATHS[DEPLOYMENT])["imagePullSecrets"] == [{"name": SECRET}]


def test_two_transforms_for_the_same_namespace_add_once() -> None:
    first, second = pull_secret_transform(NAMES), pull_secret_transform(NAMES)
    once = transform_sync(first, args_for(DEPLOYMENT, workload(DEPLOYMENT)))
    assert once is not None
    assert transform_sync(second, args_for(DEPLOYMENT, once.props)) is None


@pytest.mark.parametrize(
    "secret_names, default_namespace, message",
    [
        ({"apps": ""}, "default", r"secret_names\['apps'\]"),
        ({"apps": None}, "default", r"secret_names\['apps'\]"),
        ({"": "x"}, "default", "namespace keys"),
        ({1: "x"}, "default", "namespace keys"),
        ([("apps", "x")], "default", "mapping"),
        (NAMES, "", "default_namespace"),
    ],
    ids=["empty-secret", "none-secret", "empty-namespace", "int-namespace", "not-a-mapping", "empty-default"],
)
def test_bad_arguments_raise_config_error(secret_names: Any, default_namespace: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pull_secret_transform(secret_names, default_namespace=default_namespace)


# ---------------------------------------------------------------------------------------------------------------
# Secret envelopes, as the Python SDK deserializes secrets (secretness pushed up to the enclosing map or list)


def envelope(value: Any) -> Dict[str, Any]:
    """An RPC secret envelope, as the SDK deserializes a secret."""
    return {SIG: SECRET_SIG, "value": value}


def test_secret_spec_is_edited_inside_and_stays_secret() -> None:
    # A secret env var makes the whole top-level `spec` one envelope once the SDK pushes secretness up.
    props = workload(DEPLOYMENT)
    props["spec"] = envelope(props["spec"])
    before = frozen(props)

    result = transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, props))

    assert frozen(props) == before
    assert result is not None
    assert rpc.is_rpc_secret(result.props["spec"])
    inner = rpc.unwrap_rpc_secret(result.props["spec"])
    assert inner["template"]["spec"]["imagePullSecrets"] == [{"name": SECRET}]
    assert transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, result.props)) is None


def test_secret_list_stays_secret_and_keeps_its_entries() -> None:
    props = workload(DEPLOYMENT, spec=pod_spec(envelope([{"name": "private"}])))
    result = transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, props))
    assert result is not None
    new_list = at(result.props, KIND_PATHS[DEPLOYMENT])["imagePullSecrets"]
    assert new_list == envelope([{"name": "private"}, {"name": SECRET}])


def test_secret_namespace_is_read() -> None:
    props = workload(DEPLOYMENT, metadata=envelope({"name": "web", "namespace": "apps"}))
    result = transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, props))
    assert result is not None
    assert result.props["metadata"] is props["metadata"]
    assert at(result.props, KIND_PATHS[DEPLOYMENT])["imagePullSecrets"] == [{"name": SECRET}]


def test_secret_duplicate_entry_is_recognised() -> None:
    props = workload(DEPLOYMENT, spec=pod_spec([envelope({"name": SECRET})]))
    assert transform_sync(pull_secret_transform(NAMES), args_for(DEPLOYMENT, props)) is None


# ---------------------------------------------------------------------------------------------------------------
# Registration under Pulumi's mock runtime (pulumi >= 3.260 records transforms; it never runs them)


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back and keep what the mock monitor hands over: resources and stack transforms."""

    def __init__(self) -> None:
        self.resources: List[mocks.MockResourceArgs] = []
        self.stack_transforms: List[Any] = []

    def new_resource(self, args: mocks.MockResourceArgs) -> Tuple[Optional[str], dict]:
        self.resources.append(args)
        return f"{args.name}_id", dict(args.inputs)

    def call(self, args: mocks.MockCallArgs) -> Tuple[dict, Optional[List[Tuple[str, str]]]]:
        return {}, None

    def register_transform(self, transform: Any) -> None:
        self.stack_transforms.append(transform)


class EngineLikeMonitor(mocks.MockMonitor):
    """A mock monitor that also keeps each stack transform's Callback (token and target), as the engine does."""

    def __init__(self, m: pulumi.runtime.Mocks) -> None:
        super().__init__(m)
        self.callbacks: List[callback_pb2.Callback] = []

    def RegisterStackTransform(self, request: callback_pb2.Callback) -> Any:
        self.callbacks.append(request)
        return super().RegisterStackTransform(request)


@dataclass
class MockRuntime:
    """The mocks and the monitor of one mock-runtime test."""

    mocks: RecordingMocks
    monitor: EngineLikeMonitor


def _mock_runtime(loop: asyncio.AbstractEventLoop, preview: bool) -> Iterator[MockRuntime]:
    old = settings.SETTINGS
    m = RecordingMocks()
    monitor = EngineLikeMonitor(m)
    pulumi.runtime.set_mocks(m, project="proj", stack="dev", preview=preview, monitor=monitor)
    try:
        yield MockRuntime(m, monitor)
    finally:
        # Stop the callback server that registering a transform started on this loop (the SDK's own teardown,
        # private, hence the getattr), then restore the settings.
        shutdown = getattr(settings, "_shutdown_callbacks", None)
        if shutdown is not None and settings.SETTINGS.callbacks is not None:
            loop.run_until_complete(shutdown())
        settings.configure(old)


@pytest.fixture
def runtime(module_event_loop: asyncio.AbstractEventLoop) -> Iterator[MockRuntime]:
    """Pulumi's mock runtime for one test (update mode), restoring the previous settings afterwards."""
    yield from _mock_runtime(module_event_loop, preview=False)


@pytest.fixture
def preview_runtime(module_event_loop: asyncio.AbstractEventLoop) -> Iterator[MockRuntime]:
    """Pulumi's mock runtime for one test in preview mode, where unknown values deserialize to Unknown."""
    yield from _mock_runtime(module_event_loop, preview=True)


def deployment(name: str, namespace: str, opts: Optional[pulumi.ResourceOptions] = None) -> k8s.apps.v1.Deployment:
    """A Deployment whose pod template has a secret env var, so the SDK pushes secretness up to `spec`."""
    labels = {"app": name}
    return k8s.apps.v1.Deployment(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                spec=k8s.core.v1.PodSpecArgs(
                    image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name="team-pull")],
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="app",
                            image="registry.example.com/app:1",
                            env=[k8s.core.v1.EnvVarArgs(name="TOKEN", value=pulumi.Output.secret("s3cret"))],
                        )
                    ],
                ),
            ),
        ),
        opts=opts,
    )


def test_register_resource_transform_is_recorded(runtime: MockRuntime) -> None:
    t = pull_secret_transform(NAMES)

    @pulumi.runtime.test
    def program() -> None:
        pulumi.runtime.register_resource_transform(t)

    program()
    assert runtime.monitor.get_registered_transforms() == [t]
    assert runtime.monitor.get_registered_transforms()[0] is t
    assert runtime.mocks.stack_transforms == [t]


def test_resource_option_transform_is_recorded_and_fits_the_recorded_inputs(runtime: MockRuntime) -> None:
    t = pull_secret_transform(NAMES)

    @pulumi.runtime.test
    def program() -> None:
        deployment("web", "apps", pulumi.ResourceOptions(transforms=[t]))

    program()
    [web] = [r for r in runtime.mocks.resources if r.typ == DEPLOYMENT]
    assert len(web.transforms) == 1 and web.transforms[0] is t
    # The mock monitor does not run transforms (docs: unit testing, "Limitations"), so run the recorded one on the
    # recorded inputs: the SDK's camelCase wire form of a real pulumi_kubernetes Deployment.
    assert rpc.is_rpc_secret(web.inputs["spec"]), "the secret env var should have made `spec` an envelope"
    result = transform_sync(web.transforms[0], args_for(web.typ, web.inputs))
    assert result is not None
    spec = result.props["spec"]
    assert rpc.is_rpc_secret(spec)
    pod = rpc.unwrap_rpc_secret(spec)["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "team-pull"}, {"name": SECRET}]
    assert pod["containers"][0]["env"] == [{"name": "TOKEN", "value": "s3cret"}]


def test_transform_on_a_component_is_recorded_for_the_component(runtime: MockRuntime) -> None:
    t = pull_secret_transform(NAMES)

    class App(pulumi.ComponentResource):
        def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
            super().__init__("test:index:App", name, None, opts)
            deployment(f"{name}-web", "apps", pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    @pulumi.runtime.test
    def program() -> None:
        App("app", pulumi.ResourceOptions(transforms=[t]))

    program()
    by_type = {r.typ: r for r in runtime.mocks.resources}
    assert by_type["test:index:App"].transforms == [t]
    # The engine applies a parent's transforms to its children; the request for the child carries none of its own.
    assert by_type[DEPLOYMENT].transforms == []
    assert transform_sync(t, args_for("test:index:App", {}, custom=False)) is None


# ---------------------------------------------------------------------------------------------------------------
# The real callback path: the test plays the engine, dialling the SDK's callback server with a TransformRequest
# shaped as the engine marshals it (plugin.MarshalProperties with KeepOutputValues; secrets and unknowns are
# upgraded to output values, and so are properties with dependencies when the resource declares transforms).


def output_value(value: Any = _ABSENT, secret: bool = False, deps: Sequence[str] = ()) -> Dict[str, Any]:
    """An engine output value: unknown when value is absent."""
    out: Dict[str, Any] = {SIG: OUTPUT_SIG}
    if value is not _ABSENT:
        out["value"] = value
    if secret:
        out["secret"] = True
    if deps:
        out["dependencies"] = list(deps)
    return out


def invoke_transform(
    runtime: MockRuntime, type_: str, props: Dict[str, Any]
) -> Tuple[struct_pb2.Struct, struct_pb2.Struct]:
    """Register a transform, send it one TransformRequest over gRPC, and return (request, response) properties."""
    t = pull_secret_transform(NAMES)
    box: Dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        pulumi.runtime.register_resource_transform(t)
        [callback] = runtime.monitor.callbacks

        async def call() -> None:
            properties = struct_pb2.Struct()
            properties.update(props)
            request = resource_pb2.TransformRequest(
                type=type_,
                name="web",
                custom=True,
                properties=properties,
                options=resource_pb2.TransformResourceOptions(),
            )
            async with grpc.aio.insecure_channel(callback.target) as channel:
                reply = await callback_pb2_grpc.CallbacksStub(channel).Invoke(
                    callback_pb2.CallbackInvokeRequest(token=callback.token, request=request.SerializeToString())
                )
            box["request"] = properties
            box["response"] = resource_pb2.TransformResponse.FromString(reply.response).properties

        return asyncio.ensure_future(call())

    program()
    return box["request"], box["response"]


def as_dict(properties: struct_pb2.Struct) -> Dict[str, Any]:
    """A protobuf Struct as plain JSON-like data."""
    return json_format.MessageToDict(properties)


def lowered(value: Any) -> Any:
    """What the Python SDK serializes for a deserialized engine value it passes through unchanged."""
    if isinstance(value, Mapping) and value.get(SIG) == OUTPUT_SIG:
        if "value" not in value:
            return UNKNOWN_STRING
        inner = lowered(value["value"])
        return {SIG: SECRET_SIG, "value": inner} if value.get("secret") else inner
    if isinstance(value, Mapping):
        return {k: lowered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lowered(v) for v in value]
    return value


@dataclass
class WireCase:
    """One engine-shaped request and the imagePullSecrets the engine must get back (raw wire form), or unchanged."""

    id: str
    props: Dict[str, Any]
    expected: Any
    type_: str = DEPLOYMENT


POD = KIND_PATHS[DEPLOYMENT]

WIRE_CASES: List[WireCase] = [
    WireCase("plain", workload(DEPLOYMENT), [{"name": SECRET}]),
    WireCase(
        "metadata-with-dependencies",
        workload(DEPLOYMENT, metadata=output_value({"name": "web", "namespace": "apps"}, deps=[NS_URN])),
        [{"name": SECRET}],
    ),
    WireCase(
        "spec-with-dependencies",
        {**workload(DEPLOYMENT), "spec": output_value({"template": {"spec": pod_spec()}}, deps=[NS_URN])},
        [{"name": SECRET}],
    ),
    WireCase(
        "namespace-secret-output", workload(DEPLOYMENT, namespace=output_value("apps", secret=True)), [{"name": SECRET}]
    ),
    WireCase(
        "list-secret-output",
        workload(DEPLOYMENT, spec=pod_spec(output_value([{"name": "private"}], secret=True))),
        {SIG: SECRET_SIG, "value": [{"name": "private"}, {"name": SECRET}]},
    ),
    WireCase(
        "entry-output-duplicate",
        workload(DEPLOYMENT, spec=pod_spec([output_value({"name": SECRET}, secret=True)])),
        UNCHANGED,
    ),
    WireCase("namespace-unknown-output", workload(DEPLOYMENT, namespace=output_value()), UNCHANGED),
    WireCase("namespace-unknown-sentinel", workload(DEPLOYMENT, namespace=UNKNOWN_STRING), UNCHANGED),
    WireCase("list-unknown-output", workload(DEPLOYMENT, spec=pod_spec(output_value())), UNCHANGED),
    WireCase("entry-unknown-output", workload(DEPLOYMENT, spec=pod_spec([output_value()])), UNCHANGED),
    WireCase(
        "metadata-output-unmanaged",
        workload(DEPLOYMENT, metadata=output_value({"namespace": "kube-system"}, deps=[NS_URN])),
        UNCHANGED,
    ),
    WireCase("service", obj("v1", "Service"), UNCHANGED, "kubernetes:core/v1:Service"),
]


@pytest.mark.parametrize("case", WIRE_CASES, ids=[c.id for c in WIRE_CASES])
def test_engine_shaped_request_over_grpc(preview_runtime: MockRuntime, case: WireCase) -> None:
    request, response = invoke_transform(preview_runtime, case.type_, case.props)
    if case.expected == UNCHANGED:
        assert response == request
        return
    got = as_dict(response)
    assert at(got, POD)["imagePullSecrets"] == case.expected
    # Everything else comes back as the SDK sends any untouched value: output values lowered to plain values,
    # secret envelopes or the unknown sentinel.
    assert got == replaced(lowered(case.props), POD, "imagePullSecrets", case.expected)


def test_secret_and_unknown_neighbours_survive_the_round_trip(preview_runtime: MockRuntime) -> None:
    spec = pod_spec(
        containers=[
            {
                "name": "app",
                "image": output_value(),
                "env": [{"name": "TOKEN", "value": output_value("s3cret", secret=True)}],
            }
        ]
    )
    _, response = invoke_transform(preview_runtime, DEPLOYMENT, workload(DEPLOYMENT, spec=spec))
    pod = at(as_dict(response), POD)
    assert pod["imagePullSecrets"] == [{"name": SECRET}]
    [app] = pod["containers"]
    assert app["image"] == UNKNOWN_STRING
    assert app["env"] == [{"name": "TOKEN", "value": {SIG: SECRET_SIG, "value": "s3cret"}}]


def test_output_on_the_path_makes_the_transform_await(preview_runtime: MockRuntime) -> None:
    t = pull_secret_transform(NAMES)
    box: Dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> Any:
        metadata = pulumi.Output.from_input({"name": "web", "namespace": "apps"})
        pending = t(args_for(DEPLOYMENT, workload(DEPLOYMENT, metadata=metadata)))
        assert inspect.isawaitable(pending)

        async def finish() -> None:
            box["result"] = await pending

        return asyncio.ensure_future(finish())

    program()
    result = box["result"]
    assert isinstance(result, pulumi.ResourceTransformResult)
    assert at(result.props, POD)["imagePullSecrets"] == [{"name": SECRET}]
