"""keyring.go: which `auths` keys `BasicDockerKeyring` files a key under, matches, and tries for an image."""

from dataclasses import dataclass
from typing import Sequence

from .gofilepath import BadPattern, go_filepath_match
from .gostrings import go_quote, to_bytes, to_str
from .gourl import GoURLError, go_url_parse, split_host_port
from .reference import normalize_image

# keyring.go: `defaultRegistryHost = "index.docker.io"`; Lookup falls back to creds stored under exactly this key.
FALLBACK_KEY = b"index.docker.io"


def split_url(host: bytes) -> tuple[list[bytes], bytes]:
    """keyring.go SplitURL: an unsplittable host keeps everything (brackets, a bare ':') and has no port."""
    try:
        hostname, port = split_host_port(host)
    except ValueError:
        hostname, port = host, b""
    return hostname.split(b"."), port


def parse_key_bytes(key: str) -> tuple[bytes | None, str | None]:
    """BasicDockerKeyring.Add: returns (index key, None) or (None, url.Parse error)."""
    value = key if key.startswith(("https://", "http://")) else "https://" + key
    try:
        parsed = go_url_parse(to_bytes(value))
    except GoURLError as err:
        return None, f"parse {go_quote(value)}: {err}"
    effective_path = parsed.path
    # "It also considers /v2/ and /v1/ equivalent to the hostname" -- only with the trailing slash.
    if effective_path.startswith((b"/v2/", b"/v1/")):
        effective_path = effective_path[3:]
    if effective_path and effective_path != b"/":
        return parsed.host + effective_path, None
    return parsed.host, None


def parse_key(key: str) -> str | None:
    """Return the index key `BasicDockerKeyring.Add` files an `auths` key under, or None if it is ignored."""
    index_key, _ = parse_key_bytes(key)
    return None if index_key is None else to_str(index_key)


def urls_match_bytes(glob: bytes, target: bytes) -> bool:
    """URLsMatchStr -> URLsMatch; Lookup treats every error as "no match"."""
    try:
        glob_url = go_url_parse(b"https://" + glob)
        target_url = go_url_parse(b"https://" + target)
    except GoURLError:
        return False
    glob_parts, glob_port = split_url(glob_url.host)
    target_parts, target_port = split_url(target_url.host)
    if glob_port != target_port:
        return False
    if len(glob_parts) != len(target_parts):
        return False
    # Plain string prefix, not path-segment aware: "host/pong" matches "host/pongz".
    if not target_url.path.startswith(glob_url.path):
        return False
    for glob_part, target_part in zip(glob_parts, target_parts):
        try:
            if not go_filepath_match(glob_part, target_part):
                return False
        except BadPattern:
            return False
    return True


def urls_match(key: str, image: str) -> bool:
    """`URLsMatchStr(key, image)` on an index key and a normalised repository name; errors count as no match."""
    return urls_match_bytes(to_bytes(key), to_bytes(image))


def is_default_registry_match(image: str) -> bool:
    """`isDefaultRegistryMatch`: whether the kubelet treats `image` as a Docker Hub image for the fallback."""
    first, slash, _ = image.partition("/")
    if not first:
        return False
    if not slash:
        return True
    if first in ("docker.io", "index.docker.io"):
        return True
    # "Docker looks for either a '.' (domain separator) or ':' (port separator)".
    return "." not in first and ":" not in first


@dataclass(frozen=True)
class Step:
    """Credentials a lookup tries at one point: those one config (`source`, in Add order) holds under one index key.

    `keys` are in the config's own order, but the kubelet tries them in an order that varies from lookup to lookup:
    Add ranges over the config's Go map (`for loc, ident := range cfg`), and Go randomises map order.
    """

    source: int
    keys: tuple[str, ...]


def _build_index(sources: Sequence[Sequence[str]]) -> dict[bytes, list[Step]]:
    # BasicDockerKeyring.Add, once per source: the creds of equal index keys are appended, config after config.
    index: dict[bytes, list[Step]] = {}
    for source, config_keys in enumerate(sources):
        grouped: dict[bytes, list[str]] = {}
        for key in config_keys:
            index_key, _ = parse_key_bytes(key)
            if index_key is not None:
                grouped.setdefault(index_key, []).append(key)
        for index_key, keys in grouped.items():
            index.setdefault(index_key, []).append(Step(source, tuple(keys)))
    return index


def lookup_steps(sources: Sequence[Sequence[str]], repository: str) -> list[Step]:
    """`Add` each config of `sources` in turn to one BasicDockerKeyring, then `Lookup` an already-normalised
    repository: the credentials tried, step by step (a pod's pull Secrets are one keyring, in list order)."""
    index = _build_index(sources)
    target = to_bytes(repository)
    found: list[Step] = []
    # Add keeps the index de-duplicated and sorted in reverse byte order; Lookup concatenates every match.
    for index_key in sorted(index, reverse=True):
        if urls_match_bytes(index_key, target):
            found.extend(index[index_key])
    if found:
        return found
    if is_default_registry_match(repository) and FALLBACK_KEY in index:
        return list(index[FALLBACK_KEY])
    return []


def lookup_normalized(config_keys: Sequence[str], repository: str) -> list[str]:
    """`BasicDockerKeyring.Lookup` on an already-normalised repository: the keys whose creds are tried, in order
    (keys under one index key in file order, which is one of the orders the kubelet may try them in)."""
    return [key for step in lookup_steps([config_keys], repository) for key in step.keys]


def lookup(config_keys: Sequence[str], image: str) -> list[str]:
    """Return the `auths` keys (as written) whose credentials the kubelet tries for a pod image, in order."""
    return lookup_normalized(config_keys, normalize_image(image))
