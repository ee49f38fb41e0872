"""The pod-level walk over a resource's props, shared by the transform and the image check.

What a transform sees is the engine's wire form of the resource inputs, not the SDK's typed args:

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

from typing import Any, Callable, Dict, Generator, Mapping, Optional, Tuple, Union

import pulumi
from pulumi.runtime.known_types import is_unknown
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret, wrap_rpc_secret

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

Rewrap = Callable[[Any], Any]
Resolved = Tuple[bool, Any]
# The walker yields each Output it must look into and is sent back (is_known, value); it returns the new props,
# or None to leave the resource unchanged. One walker serves both the synchronous and the awaiting driver.
Walk = Generator["pulumi.Output[Any]", Resolved, Optional[Dict[str, Any]]]
Opened = Generator["pulumi.Output[Any]", Resolved, Optional[Tuple[Any, Rewrap]]]


class NeedsAwait:
    """Marks that the synchronous driver met an Output and the walk must be redone by the awaiting driver."""


NEEDS_AWAIT = NeedsAwait()


def drive_sync(walk: Walk) -> Union[Optional[Dict[str, Any]], NeedsAwait]:
    """Run a walk over plain props: its result, or NEEDS_AWAIT when it met an Output (then use drive_async)."""
    try:
        next(walk)
    except StopIteration as done:
        new_props: Optional[Dict[str, Any]] = done.value
        return new_props
    walk.close()
    return NEEDS_AWAIT


async def drive_async(walk: Walk) -> Optional[Dict[str, Any]]:
    """Run a walk, awaiting each Output it asks for: its result."""
    try:
        output = next(walk)
        while True:
            # Output.is_known/future are the SDK's own awaitables; an output whose value still contains unknowns
            # reports is_known False, and rebuilding it would serialize the whole value as unknown.
            known = await output.is_known()
            value = await output.future() if known else None
            output = walk.send((known, value))
    except StopIteration as done:
        new_props: Optional[Dict[str, Any]] = done.value
        return new_props


def open_value(node: Any) -> Opened:
    """Look through secret envelopes and Outputs; return (plain value, rewrap) or None if the value is unknown."""
    if isinstance(node, pulumi.Output):
        known, value = yield node
        if not known:
            return None
        inner = yield from open_value(value)
        if inner is None:
            return None
        plain, rewrap_inner = inner
        # apply keeps the output's secretness and dependencies; it runs because the output is known.
        return plain, lambda new: node.apply(lambda _old: rewrap_inner(new))
    if is_rpc_secret(node):
        inner = yield from open_value(unwrap_rpc_secret(node))
        if inner is None:
            return None
        plain, rewrap_inner = inner
        return plain, lambda new: wrap_rpc_secret(rewrap_inner(new))
    if is_unknown(node):
        return None
    return node, same


def same(value: Any) -> Any:
    """The rewrap of a plain value: itself."""
    return value


def namespace_of(props: Mapping[str, Any], default_namespace: str) -> Generator[Any, Resolved, Optional[str]]:
    """Return the resource's namespace, the default when it names none, or None when it cannot be known."""
    node: Any = props
    for key in ("metadata", "namespace"):
        if not isinstance(node, Mapping):
            return None
        if key not in node:
            return default_namespace
        opened = yield from open_value(node[key])
        if opened is None:
            return None
        node = opened[0]
        if node is None:
            return default_namespace
    # An empty namespace means "the provider's default", exactly as a missing one does.
    if node == "":
        return default_namespace
    return node if isinstance(node, str) else None


