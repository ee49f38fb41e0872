"""A read-only transform that warns when a workload in a managed namespace uses an image no configured key covers."""

from typing import Any, Callable, Collection, Mapping, Optional, Sequence

import pulumi
from pulumi.runtime import rpc

from .coverage import pod_spec_images, uncovered
from .pod_transform import POD_SPEC_PATHS


def image_check_transform(
    keys: Sequence[str], namespaces: Collection[str], warn: Callable[[str], None], default_namespace: str = "default"
) -> pulumi.ResourceTransform:
    """Return a transform calling `warn` for each image in a managed namespace that none of `keys` covers."""
    keys = list(keys)

    def transform(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        """Warn about uncovered images; never changes the resource."""
        path = POD_SPEC_PATHS.get(args.type_)
        if not args.custom or path is None:
            return None
        metadata = _plain(args.props.get("metadata")) or {}
        namespace = metadata.get("namespace") or default_namespace
        if namespace not in namespaces:
            return None
        spec: Any = args.props
        for key in path:
            spec = _plain(spec)
            spec = spec.get(key) if isinstance(spec, Mapping) else None
        for image in uncovered(keys, list(pod_spec_images(_plain(spec)))):
            warn(
                f"{args.type_.rsplit(':', 1)[-1]} {namespace}/{metadata.get('name') or args.name}: image {image} "
                f"matches none of the configured registry keys ({', '.join(keys)}); the kubelet would pull it "
                "anonymously. Add its registry, or fix the image name."
            )
        return None

    return transform


def _plain(value: Any) -> Any:
    """A plain value from transform props: secret envelopes opened, Outputs and unknowns treated as absent."""
    if rpc.is_rpc_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    return value if isinstance(value, (Mapping, list, str)) else None
