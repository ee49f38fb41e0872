"""Opt-in resource transform that adds a namespace's pull Secret to the Pods and pod templates a stack creates there.

This is "method 4": instead of relying on the ServiceAccount, every pod spec names the pull Secret itself. Use it
with either

    pulumi.runtime.register_resource_transform(pull_secret_transform(names))      # whole stack, call it first
    pulumi.ResourceOptions(transforms=[pull_secret_transform(names)])            # one resource and its children

A pod gets its ServiceAccount's pull secrets only when its own ``imagePullSecrets`` is empty, so once this
transform adds an entry the ServiceAccount's list no longer applies to that pod: the namespace's Secret has to
carry every registry the pod needs (the component's per-namespace Secret does).

Kinds: the ``POD_SPEC_PATHS`` table, custom resources only. ``*Patch`` and ``*List`` types, beta API versions and
every other kind are left alone. Nothing is invented: a workload without its pod spec is left as it is.

Namespace: ``metadata.namespace``; when it is missing or empty the object lands in the Kubernetes provider's
default namespace (its ``namespace`` option, else the kubeconfig context's namespace, else ``default``). The
transform cannot see the provider, so ``default_namespace`` must name that same namespace.

What the transform sees is the engine's wire form of the resource inputs, not the SDK's typed args:

* keys are camelCase (``imagePullSecrets``, ``jobTemplate``) and ``apiVersion``/``kind`` are present;
* a secret may arrive as an RPC secret envelope (``{"4dabf1...": "1b4706...", "value": ...}``); the Python SDK
  pushes secretness up to the enclosing map or list, so one secret env var can make the whole ``spec`` one;
* an unknown value (preview) may arrive as ``pulumi.output.Unknown``, or as an unknown sentinel string;
* the engine upgrades secrets and unknowns to output values, and properties with dependencies too when the
  resource itself declares transforms, so any node may arrive as a ``pulumi.Output``.

Plain props are handled synchronously. When an ``Output`` stands on the way to the namespace or the pod spec, the
transform returns a coroutine instead (``ResourceTransform`` allows that) which awaits just those outputs and
rebuilds the ones it changes with ``apply``, so they stay secret. (The Python SDK sends no per-property
dependencies back from any transform; the resource keeps its dependencies through the ``dependsOn`` of the
returned ``opts``.) Whenever a value that decides the edit is unknown or has an unexpected shape, the resource is
left exactly as it was.
"""

from typing import Any, Awaitable, Callable, Dict, Generator, List, Mapping, Optional, Tuple, Union

import pulumi
from pulumi.runtime.known_types import is_unknown
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret, wrap_rpc_secret

from ..errors import ConfigError

POD_SPEC_PATHS: Mapping[str, Tuple[str, ...]] = {
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
"""Resource type token -> path of camelCase keys from the props to the PodSpec. Anything else is left alone."""

_Rewrap = Callable[[Any], Any]
_Resolved = Tuple[bool, Any]
# The walker yields each Output it must look into and is sent back (is_known, value); it returns the new props,
# or None to leave the resource unchanged. One walker serves both the synchronous and the awaiting driver.
_Walk = Generator["pulumi.Output[Any]", _Resolved, Optional[Dict[str, Any]]]
_Open = Generator["pulumi.Output[Any]", _Resolved, Optional[Tuple[Any, _Rewrap]]]


class _NeedsAwait:
    """Marks that the synchronous driver met an Output and the walk must be redone by the awaiting driver."""


_NEEDS_AWAIT = _NeedsAwait()


def pull_secret_transform(
    secret_names: Mapping[str, str], *, default_namespace: str = "default"
) -> pulumi.ResourceTransform:
    """Return a transform that adds ``{"name": secret_names[ns]}`` to the pod spec of each managed workload."""
    names = _checked_names(secret_names)
    if not isinstance(default_namespace, str) or not default_namespace:
        raise ConfigError(
            "default_namespace: must be a non-empty namespace name, the one the Kubernetes provider uses for "
            "objects without metadata.namespace (the provider's `namespace` option or its kubeconfig context)"
        )

    def transform(
        args: pulumi.ResourceTransformArgs,
    ) -> Union[Optional[pulumi.ResourceTransformResult], Awaitable[Optional[pulumi.ResourceTransformResult]]]:
        """Add the namespace's pull Secret to this resource's pod spec, or return None to leave it unchanged."""
        path = POD_SPEC_PATHS.get(args.type_)
        # Components can reuse any type string, and *Patch/*List types are not in the table.
        if not args.custom or path is None:
            return None

        def walk() -> _Walk:
            return _inject(args.props, path, names, default_namespace)

        outcome = _drive_sync(walk())
        if isinstance(outcome, _NeedsAwait):
            return _drive_async(walk(), args.opts)
        return _result(outcome, args.opts)

    return transform


def _checked_names(secret_names: Mapping[str, str]) -> Dict[str, str]:
    # Copy now: a caller mutating its mapping later must not change what an already registered transform does.
    if not isinstance(secret_names, Mapping):
        raise ConfigError("secret_names: expected a mapping of namespace -> pull Secret name")
    names: Dict[str, str] = {}
    for namespace, secret in secret_names.items():
        if not isinstance(namespace, str) or not namespace:
            raise ConfigError(f"secret_names: namespace keys must be non-empty strings, got {namespace!r}")
        if not isinstance(secret, str) or not secret:
            raise ConfigError(f"secret_names[{namespace!r}]: must be the non-empty name of the pull Secret")
        names[namespace] = secret
    return names


def _result(
    new_props: Optional[Dict[str, Any]], opts: pulumi.ResourceOptions
) -> Optional[pulumi.ResourceTransformResult]:
    return None if new_props is None else pulumi.ResourceTransformResult(props=new_props, opts=opts)


def _drive_sync(walk: _Walk) -> Union[Optional[Dict[str, Any]], _NeedsAwait]:
    try:
        next(walk)
    except StopIteration as done:
        new_props: Optional[Dict[str, Any]] = done.value
        return new_props
    walk.close()
    return _NEEDS_AWAIT


async def _drive_async(walk: _Walk, opts: pulumi.ResourceOptions) -> Optional[pulumi.ResourceTransformResult]:
    try:
        output = next(walk)
        while True:
            # Output.is_known/future are the SDK's own awaitables; an output whose value still contains unknowns
            # reports is_known False, and rebuilding it would serialize the whole value as unknown.
            known = await output.is_known()
            value = await output.future() if known else None
            output = walk.send((known, value))
    except StopIteration as done:
        return _result(done.value, opts)


def _open(node: Any) -> _Open:
    """Look through secret envelopes and Outputs; return (plain value, rewrap) or None if the value is unknown."""
    if isinstance(node, pulumi.Output):
        known, value = yield node
        if not known:
            return None
        inner = yield from _open(value)
        if inner is None:
            return None
        plain, rewrap_inner = inner
        # apply keeps the output's secretness and dependencies; it runs because the output is known.
        return plain, lambda new: node.apply(lambda _old: rewrap_inner(new))
    if is_rpc_secret(node):
        inner = yield from _open(unwrap_rpc_secret(node))
        if inner is None:
            return None
        plain, rewrap_inner = inner
        return plain, lambda new: wrap_rpc_secret(rewrap_inner(new))
    if is_unknown(node):
        return None
    return node, _same


def _same(value: Any) -> Any:
    return value


def _inject(props: Any, path: Tuple[str, ...], names: Mapping[str, str], default_namespace: str) -> _Walk:
    if not isinstance(props, Mapping):
        return None
    namespace = yield from _namespace(props, default_namespace)
    if namespace is None or namespace not in names:
        return None
    new_props: Optional[Dict[str, Any]] = yield from _edit(props, path, names[namespace])
    return new_props


def _namespace(props: Mapping[str, Any], default_namespace: str) -> Generator[Any, _Resolved, Optional[str]]:
    """Return the resource's namespace, the default when it names none, or None when it cannot be known."""
    node: Any = props
    for key in ("metadata", "namespace"):
        if not isinstance(node, Mapping):
            return None
        if key not in node:
            return default_namespace
        opened = yield from _open(node[key])
        if opened is None:
            return None
        node = opened[0]
        if node is None:
            return default_namespace
    # An empty namespace means "the provider's default", exactly as a missing one does.
    if node == "":
        return default_namespace
    return node if isinstance(node, str) else None


def _edit(node: Any, path: Tuple[str, ...], secret: str) -> Generator[Any, _Resolved, Any]:
    """Return a copy of ``node`` with the pull secret added at the end of ``path``, or None to change nothing."""
    opened = yield from _open(node)
    if opened is None:
        return None
    value, rewrap = opened
    # Never invent a spec or template: an object missing one is invalid or not ours to complete.
    if not isinstance(value, Mapping):
        return None
    if not path:
        new_pod_spec = yield from _with_pull_secret(value, secret)
        return None if new_pod_spec is None else rewrap(new_pod_spec)
    key = path[0]
    if key not in value:
        return None
    new_child = yield from _edit(value[key], path[1:], secret)
    if new_child is None:
        return None
    # Copy only the maps on the path; untouched siblings are shared, never mutated, and may hold Outputs.
    new_value = dict(value)
    new_value[key] = new_child
    return rewrap(new_value)


def _with_pull_secret(pod_spec: Mapping[str, Any], secret: str) -> Generator[Any, _Resolved, Any]:
    """Return a copy of the PodSpec with ``{"name": secret}`` appended to imagePullSecrets, or None if present."""
    current = pod_spec.get("imagePullSecrets")
    if current is None:
        entries: List[Any] = []
        rewrap: _Rewrap = _same
    else:
        opened = yield from _open(current)
        if opened is None:
            return None
        value, rewrap = opened
        if not isinstance(value, (list, tuple)):
            return None
        entries = list(value)
    for entry in entries:
        name = yield from _entry_name(entry)
        if name is _UNREADABLE:
            # An entry we cannot read might be this very Secret, and a duplicate key fails server-side apply.
            return None
        if name == secret:
            return None
    new_pod_spec = dict(pod_spec)
    new_pod_spec["imagePullSecrets"] = rewrap([*entries, {"name": secret}])
    return new_pod_spec


_UNREADABLE = object()


def _entry_name(entry: Any) -> Generator[Any, _Resolved, Any]:
    opened = yield from _open(entry)
    if opened is None:
        return _UNREADABLE
    value = opened[0]
    if not isinstance(value, Mapping):
        return None
    if "name" not in value:
        return None
    name = yield from _open(value["name"])
    return _UNREADABLE if name is None else name[0]
