"""Diagnostics for `explain` and preview warnings: keys that never match, Docker Hub look-alikes, shadowed keys.

They only ever see keys, never credentials.
"""

from dataclasses import dataclass
from typing import Sequence

from ..servers import DOCKER_HUB_KEY
from .gostrings import to_bytes, to_str
from .gourl import GoURLError, go_url_parse, split_host_port
from .lookup import FALLBACK_KEY, parse_key_bytes, split_url, urls_match_bytes
from .reference import normalize_image


@dataclass(frozen=True)
class KeyProblem:
    """Why an `auths` key does not do what it appears to do, and how to fix it."""

    key: str
    kind: str
    message: str


_FIX_DOCKER_HUB = f"use '{DOCKER_HUB_KEY}' (the kubectl default) or 'docker.io' for Docker Hub"


def _host_and_path(index_key: bytes) -> tuple[bytes, bytes] | None:
    # How URLsMatchStr re-reads an index key.
    try:
        parsed = go_url_parse(b"https://" + index_key)
    except GoURLError:
        return None
    return parsed.host, parsed.path


def _path_suffixes(path: bytes) -> list[bytes]:
    # Completions of a key's path prefix into image paths: a prefix matches some valid image iff one of
    # these does (image paths are lowercase components joined by '/', separators between alphanumerics).
    if not path:
        return [b"/a", b"/a/a"]
    return [path, path + b"a", path + b"/a", path + b"a/a", path + b"/a/a"]


def _matches_some(index_key: bytes, candidates: list[bytes]) -> bool:
    for candidate in candidates:
        try:
            repository = normalize_image(to_str(candidate))
        except ValueError:
            continue
        if urls_match_bytes(index_key, to_bytes(repository)):
            return True
    return False


def _can_match_any_image(index_key: bytes) -> bool:
    # Probe with images built from the key itself; for a literal host this is exact, for '*' globs it tries
    # a few fills (including "localhost" and an uppercase name, the single-label hosts distribution keeps).
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    host, path = host_path
    try:
        hostname, port = split_host_port(host)
        if b":" in hostname:
            hostname = b"[" + hostname + b"]"
    except ValueError:
        hostname, port = host, b""
    hostnames = [hostname]
    if b"*" in hostname:
        hostnames = [hostname.replace(b"*", fill) for fill in (b"a", b"A", b"0")]
        if hostname == b"*":
            hostnames.append(b"localhost")
    domains = [h + (b":" + port if port else b"") for h in hostnames]
    return _matches_some(index_key, [d + s for d in domains for s in _path_suffixes(path)])


def _can_match_docker_hub(index_key: bytes) -> bool:
    # A direct match (not the isDefaultRegistryMatch fallback) against some docker.io/... repository.
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    return _matches_some(index_key, [b"docker.io" + s for s in _path_suffixes(host_path[1])])


def _docker_hub_coverage(index_key: bytes) -> str:
    host_path = _host_and_path(index_key)
    path = host_path[1] if host_path else b""
    if not path:
        return "all Docker Hub images"
    if path in (b"/library", b"/library/"):
        return "official images (docker.io/library/...)"
    return f"Docker Hub images whose name starts with docker.io{to_str(path)}"


def _looks_like_docker_hub(index_key: bytes) -> bool:
    # Label-aware, so "myhostdocker.io" (TestIsDefaultRegistryMatch's non-Hub example) is not flagged.
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    hostname, _ = split_url(host_path[0])
    name = b".".join(hostname).lower()
    return any(name == d or name.endswith(b"." + d) for d in (b"docker.io", b"docker.com"))


def _never_matches_hint(index_key: bytes) -> str:
    host_path = _host_and_path(index_key)
    if host_path is None:
        return "the kubelet cannot re-read it when matching"
    host, path = host_path
    if host.startswith(b"[") and host.endswith(b"]"):
        return (
            "a bracketed IPv6 host without a port is compared as a glob character class; add the port, "
            "e.g. '[fd00::1]:5000'"
        )
    if path != path.lower():
        return "image paths are always lowercase; write the path in lowercase"
    if b"." not in host and b":" not in host and host != b"localhost" and host == host.lower():
        return (
            "image names read a first component without '.' or ':' as a Docker Hub namespace; use the "
            "registry's dotted name or add its port, e.g. 'myregistry.local' or 'myregistry:5000'"
        )
    return "no valid image reference has this host, port and path; write host[:port][/path-prefix]"


def diagnose_keys(config_keys: Sequence[str]) -> list[KeyProblem]:
    """Flag `auths` keys that never match, look like Docker Hub but are not, or are shadowed."""
    parsed = [(key, *parse_key_bytes(key)) for key in config_keys]
    direct_hub = [
        (key, index_key)
        for key, index_key, _ in parsed
        if index_key is not None and index_key != FALLBACK_KEY and _can_match_docker_hub(index_key)
    ]
    problems: list[KeyProblem] = []
    for key, index_key, error in parsed:
        if index_key is None:
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' is not a URL the kubelet can parse ({error}), so it ignores this entry; "
                "write it as host[:port][/path-prefix], e.g. 'registry.example.com:5000'"
            )))
            continue
        indexed = to_str(index_key)
        cut = next((c for c in "?#" if c in key), None)
        if cut is not None:
            what = "a URL query" if cut == "?" else "a URL fragment"
            used = index_key == FALLBACK_KEY or _can_match_any_image(index_key)
            effect = (
                f"so it is used only where '{indexed}' matches, never as written"
                if used
                else "which never matches any image"
            )
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' contains '{cut}', which starts {what}: the kubelet drops everything from it and "
                f"files the entry under '{indexed}', {effect}; remove the '{cut}' part ('*' is the only "
                "usable wildcard, e.g. '*.example.com')"
            )))
            continue
        host_path = _host_and_path(index_key)
        if host_path is not None and host_path[0] == b"":
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' has no registry host (the kubelet files it under '{indexed}'), so it never "
                f"matches an image; write the registry host, e.g. 'registry.example.com', or {_FIX_DOCKER_HUB}"
            )))
            continue
        if index_key == FALLBACK_KEY:
            if direct_hub:
                coverages = [_docker_hub_coverage(ik) for _, ik in direct_hub]
                covers = " and ".join(f"'{k}' matches {c}" for (k, _), c in zip(direct_hub, coverages))
                scope = "all Docker Hub images" if "all Docker Hub images" in coverages else " and ".join(coverages)
                others = " and ".join(f"'{k}'" for k, _ in direct_hub)
                problems.append(KeyProblem(key, "shadowed", (
                    f"'{key}' is the Docker Hub fallback key, but {covers} directly; the kubelet falls back to "
                    f"index.docker.io only when no key matches, so the credentials under '{key}' are never "
                    f"tried for {scope}. Keep one Docker Hub entry (drop '{key}', or drop {others}), or put "
                    "the same credentials under both"
                )))
            continue
        if _looks_like_docker_hub(index_key) and not _can_match_docker_hub(index_key):
            problems.append(KeyProblem(key, "not-docker-hub", (
                f"'{key}' looks like Docker Hub, but the kubelet files it under '{indexed}', which never "
                "matches a Docker Hub image (those are named docker.io/library/nginx, docker.io/<user>/<app>, "
                "...) and is not the index.docker.io fallback key; "
                f"{_FIX_DOCKER_HUB}"
            )))
            continue
        if not _can_match_any_image(index_key):
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' (filed under '{indexed}') never matches any image: {_never_matches_hint(index_key)}"
            )))
    return problems
