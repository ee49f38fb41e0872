"""A read-only transform that warns when a workload in a managed namespace uses an image no configured key covers."""

from typing import Any, Callable, Collection, Generator, Mapping, Optional, Sequence, Tuple

import pulumi

from ..credentials.coverage import pod_spec_images, uncovered
from .wire import POD_SPEC_PATHS, NeedsAwait, drive_async, drive_sync, namespace_of, open_value


def image_check_transform(
    keys: Sequence[str], namespaces: Collection[str], warn: Callable[[str], None], default_namespace: str = "default"
) -> pulumi.ResourceTransform:
    """Return a transform calling `warn` for each image in a managed namespace that none of `keys` covers.

    Under the real engine, secrets and unknowns (and, when the resource declares its own transforms, every top-level
    prop with dependencies) arrive as `pulumi.Output` objects. The check then awaits exactly the outputs on its way,
    using the walker in pod/wire.py; a value still unknown (preview) is skipped rather than guessed.
    """
    keys = list(keys)

    def transform(args: pulumi.ResourceTransformArgs) -> Any:
        """Warn about uncovered images; never changes the resource."""
        path = POD_SPEC_PATHS.get(args.type_)
        if not args.custom or path is None:
            return None

        def walk() -> Generator[Any, Any, None]:
            found = yield from _check(args.props, path, namespaces, default_namespace)
            if found is None:
                return None
            namespace, name, images = found
            for image in uncovered(keys, images):
                warn(
                    f"{args.type_.rsplit(':', 1)[-1]} {namespace}/{name or args.name}: image {image} matches none "
                    f"of the configured registry keys ({', '.join(keys)}); the kubelet would pull it anonymously. "
                    "Add its registry, or fix the image name."
                )
            return None

        if isinstance(drive_sync(walk()), NeedsAwait):
            return drive_async(walk())  # resolves to None: the resource is never changed
        return None

    return transform


def _check(
    props: Any, path: Tuple[str, ...], namespaces: Collection[str], default_namespace: str
) -> Generator[Any, Any, Optional[Tuple[str, Any, list]]]:
    opened = yield from open_value(props)
    props = opened[0] if opened else None
    if not isinstance(props, Mapping):
        return None
    namespace = yield from namespace_of(props, default_namespace)
    if namespace is None or namespace not in namespaces:
        return None
    metadata = yield from open_value(props.get("metadata"))
    name = metadata[0].get("name") if metadata and isinstance(metadata[0], Mapping) else None
    name_opened = yield from open_value(name)
    spec: Any = props
    for key in path:
        opened = yield from open_value(spec)
        spec = opened[0].get(key) if opened and isinstance(opened[0], Mapping) else None
    plain_spec = yield from _deep(spec)
    return namespace, name_opened[0] if name_opened else None, list(pod_spec_images(plain_spec))


def _deep(node: Any) -> Generator[Any, Any, Any]:
    """A plain copy of `node` with every Output and secret opened; unknown parts become None."""
    opened = yield from open_value(node)
    if opened is None:
        return None
    value = opened[0]
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            result[key] = yield from _deep(item)
        return result
    if isinstance(value, list):
        items = []
        for item in value:
            items.append((yield from _deep(item)))
        return items
    return value
