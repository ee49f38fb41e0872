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

What it sees and how it walks it: pod/wire.py.
"""

from typing import Any, Awaitable, Dict, Generator, List, Mapping, Optional, Sequence, Tuple, Union

import pulumi

from ..errors import ConfigError
from .wire import (
    POD_SPEC_PATHS,
    NeedsAwait,
    Resolved,
    Rewrap,
    Walk,
    drive_async,
    drive_sync,
    namespace_of,
    open_value,
    same,
)


def pull_secret_transform(
    secret_names: Mapping[str, Union[str, Sequence[str]]], *, default_namespace: str = "default"
) -> pulumi.ResourceTransform:
    """Return a transform that adds ``{"name": secret_names[ns]}`` to the pod spec of each managed workload.

    A namespace may map to several Secrets (the component's, then the `-previous` one of a rotation): each missing
    one is added, in that order, which is the order the kubelet tries them in.
    """
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

        def walk() -> Walk:
            return _inject(args.props, path, names, default_namespace)

        outcome = drive_sync(walk())
        if isinstance(outcome, NeedsAwait):
            return _awaited(walk(), args.opts)
        return _result(outcome, args.opts)

    return transform


def _checked_names(secret_names: Mapping[str, Union[str, Sequence[str]]]) -> Dict[str, Tuple[str, ...]]:
    # Copy now: a caller mutating its mapping later must not change what an already registered transform does.
    if not isinstance(secret_names, Mapping):
        raise ConfigError("secret_names: expected a mapping of namespace -> pull Secret name")
    names: Dict[str, Tuple[str, ...]] = {}
    for namespace, secrets in secret_names.items():
        if not isinstance(namespace, str) or not namespace:
            raise ConfigError(f"secret_names: namespace keys must be non-empty strings, got {namespace!r}")
        listed = (secrets,) if isinstance(secrets, str) else tuple(secrets) if isinstance(secrets, Sequence) else ()
        if not listed or any(not isinstance(s, str) or not s for s in listed):
            raise ConfigError(f"secret_names[{namespace!r}]: must be the non-empty name of the pull Secret (or a "
                              "list of them)")
        names[namespace] = listed
    return names


def _result(
    new_props: Optional[Dict[str, Any]], opts: pulumi.ResourceOptions
) -> Optional[pulumi.ResourceTransformResult]:
    return None if new_props is None else pulumi.ResourceTransformResult(props=new_props, opts=opts)


async def _awaited(walk: Walk, opts: pulumi.ResourceOptions) -> Optional[pulumi.ResourceTransformResult]:
    return _result(await drive_async(walk), opts)


def _inject(props: Any, path: Tuple[str, ...], names: Mapping[str, Tuple[str, ...]], default_namespace: str) -> Walk:
    if not isinstance(props, Mapping):
        return None
    namespace = yield from namespace_of(props, default_namespace)
    if namespace is None or namespace not in names:
        return None
    new_props: Optional[Dict[str, Any]] = yield from _edit(props, path, names[namespace])
    return new_props


def _edit(node: Any, path: Tuple[str, ...], secret: Tuple[str, ...]) -> Generator[Any, Resolved, Any]:
    """Return a copy of ``node`` with the pull secret added at the end of ``path``, or None to change nothing."""
    opened = yield from open_value(node)
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


def _with_pull_secret(pod_spec: Mapping[str, Any], secrets: Tuple[str, ...]) -> Generator[Any, Resolved, Any]:
    """Return a copy of the PodSpec with each of ``secrets`` not listed yet appended to imagePullSecrets (in order),
    or None when every one is present."""
    current = pod_spec.get("imagePullSecrets")
    if current is None:
        entries: List[Any] = []
        rewrap: Rewrap = same
    else:
        opened = yield from open_value(current)
        if opened is None:
            return None
        value, rewrap = opened
        if not isinstance(value, (list, tuple)):
            return None
        entries = list(value)
    listed = []
    for entry in entries:
        name = yield from _entry_name(entry)
        if name is _UNREADABLE:
            # An entry we cannot read might be this very Secret, and a duplicate key fails server-side apply.
            return None
        listed.append(name)
    missing = [secret for secret in secrets if secret not in listed]
    if not missing:
        return None
    new_pod_spec = dict(pod_spec)
    new_pod_spec["imagePullSecrets"] = rewrap([*entries, *({"name": secret} for secret in missing)])
    return new_pod_spec


_UNREADABLE = object()


def _entry_name(entry: Any) -> Generator[Any, Resolved, Any]:
    opened = yield from open_value(entry)
    if opened is None:
        return _UNREADABLE
    value = opened[0]
    if not isinstance(value, Mapping):
        return None
    if "name" not in value:
        return None
    name = yield from open_value(value["name"])
    return _UNREADABLE if name is None else name[0]
