"""Which configured keys the kubelet would use for an image, from the pod Secret and from the node file."""

from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from .keyring import Step, lookup_steps, normalize_image, parse_key, urls_match

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class Explanation:
    """The kubelet's view of one image: its repository and the keys each keyring would try."""

    image: str
    repository: Optional[str]
    pod: Tuple[str, ...]
    node: Tuple[str, ...]
    error: Optional[str] = None
    pod_steps: Tuple[Step, ...] = ()
    """The pod Secrets' credentials step by step (`source`: the Secret's position in imagePullSecrets)."""
    node_steps: Tuple[Step, ...] = ()

    @property
    def covered(self) -> bool:
        """True when some credential would be tried (otherwise the pull is anonymous)."""
        return bool(self.pod or self.node)


def explain(pod_keys: Sequence[str], node_keys: Sequence[str], image: str) -> Explanation:
    """Explain one image. Pod secrets are tried before the node file (image_manager.go's union order)."""
    return explain_sources([pod_keys], node_keys, image)


def explain_sources(pod_secrets: Sequence[Sequence[str]], node_keys: Sequence[str], image: str) -> Explanation:
    """Explain one image for a pod listing several pull Secrets (each one's keys, in imagePullSecrets order).

    The kubelet adds them, in that order, to one keyring (pkg/credentialprovider/secrets/secrets.go
    MakeDockerKeyring), and puts the node's credentials after it (UnionDockerKeyring).
    """
    try:
        repository = normalize_image(image)
    except ValueError as err:
        return Explanation(image, None, (), (), error=str(err))
    pod = tuple(lookup_steps(pod_secrets, repository))
    node = tuple(lookup_steps([node_keys], repository))
    return Explanation(image, repository, _keys(pod), _keys(node), pod_steps=pod, node_steps=node)


def _keys(steps: Sequence[Step]) -> Tuple[str, ...]:
    return tuple(key for step in steps for key in step.keys)


def is_fallback(key: str, repository: str) -> bool:
    """True when `key` serves `repository` only through the kubelet's Docker Hub fallback."""
    parsed = parse_key(key)
    return parsed is not None and not urls_match(parsed, repository)


def pod_spec_images(pod_spec: Any) -> Iterator[str]:
    """Images named in a PodSpec's containers (wire form); values not yet known are skipped."""
    if not isinstance(pod_spec, Mapping):
        return
    for field in _CONTAINER_LISTS:
        containers = pod_spec.get(field)
        if not isinstance(containers, list):
            continue
        for container in containers:
            image = container.get("image") if isinstance(container, Mapping) else None
            if isinstance(image, str):
                yield image


def uncovered(keys: Sequence[str], images: Sequence[str]) -> List[str]:
    """Images for which no key would be tried: the kubelet would pull them anonymously."""
    return [image for image in images if not explain(keys, (), image).covered]
