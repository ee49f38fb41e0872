"""Normalise registry server spellings into the `auths` keys the kubelet reads."""

import re
from dataclasses import dataclass
from typing import Optional

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
"""The key `kubectl create secret docker-registry` writes by default; the kubelet's Docker Hub fallback uses it."""

# Hosts people write for Docker Hub. Only docker.io and index.docker.io ever match a Docker Hub image
# in the kubelet (keyring.go isDefaultRegistryMatch / URLsMatch); the other two never do.
_DOCKER_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io", "hub.docker.com"}
_DOCKER_HUB_WHY = {
    "hub.docker.com": (
        "hub.docker.com is Docker Hub's website, not its registry: the kubelet never matches it to an image"
    ),
    "registry-1.docker.io": (
        "registry-1.docker.io is the endpoint containerd talks to, but the kubelet matches keys against image "
        "names (docker.io/...), so it never matches"
    ),
}

_LABEL = r"(?:[A-Za-z0-9*](?:[A-Za-z0-9*-]*[A-Za-z0-9*])?)"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])"
# Matched with fullmatch: `$` would also accept a trailing newline.
_SERVER_RE = re.compile(rf"(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?(?P<path>/[A-Za-z0-9._~/-]*)?")


@dataclass(frozen=True)
class Server:
    """The key a server becomes, and why it was rewritten (if it was)."""

    key: str
    warning: Optional[str] = None


class ServerSyntaxError(ValueError):
    """The server cannot be read as `[scheme://]host[:port][/path-prefix]`; the message never quotes the server."""


def userinfo(text: str) -> str:
    """The `user:password` a server or key holds before its host ('' for none): what a message must never show.

    The authority ends at the first '/', '?' or '#', and its userinfo at its last '@' (Go's net/url Parse, which
    the kubelet reads keys with: it ignores the userinfo when it matches a key to an image).
    """
    rest = text.partition("://")[2] or text
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return authority[:authority.rindex("@")] if "@" in authority else ""


def normalize_server(server: str) -> Server:
    """Return the `auths` key for a server: `host[:port][/path]`, or the canonical Docker Hub key."""
    rest = server
    for scheme in ("https://", "http://"):
        if rest.startswith(scheme):
            rest = rest[len(scheme):]
            break
    else:
        if "://" in rest:
            raise ServerSyntaxError("only the https:// or http:// scheme (or none) is allowed")
    if userinfo(server):
        raise ServerSyntaxError(
            "it holds credentials (user:password@host); give only the host, the username in username and the "
            "password as a secret"
        )
    match = _SERVER_RE.fullmatch(rest)
    if not match:
        raise ServerSyntaxError(
            "expected host[:port][/path-prefix], e.g. harbor.example.com or registry.example.com:5000/team "
            "(no spaces, query strings or fragments)"
        )
    host, port, path = match.group("host"), match.group("port"), match.group("path") or ""
    if port is not None and not 0 < int(port) < 65536:
        raise ServerSyntaxError(f"port {port} is out of range")
    # The kubelet drops a leading /v1/ or /v2/ (only with the trailing slash) and an empty or "/" path.
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path == "/":
        path = ""
    hub = host.lower()
    if hub in _DOCKER_HUB_HOSTS and port is None:
        return _docker_hub(hub, path)
    key = f"{host}{':' + port if port else ''}{path}"
    if host != host.lower():
        # The kubelet compares hosts byte for byte (kubernetes/kubernetes pkg/credentialprovider/keyring.go
        # URLsMatch -> filepath.Match on each host label), and image names keep the case written in the pod
        # spec, so this key never serves `harbor.example.com/...`. Written as given: it does serve images
        # spelled the same way.
        return Server(key=key, warning=(
            f"the host has uppercase letters; the kubelet matches hosts case-sensitively, so images named "
            f"{key.lower()}/... would pull anonymously; write the server as your images spell it (lowercase)"
        ))
    return Server(key=key)


def _docker_hub(host: str, path: str) -> Server:
    why = _DOCKER_HUB_WHY.get(host)
    if not path:
        warning = f"{why}; writing the key {DOCKER_HUB_KEY} instead" if why else None
        return Server(key=DOCKER_HUB_KEY, warning=warning)
    # A path prefix only matches when the host is docker.io itself, which is what images normalise to.
    key = f"docker.io{path}"
    if host == "docker.io":
        return Server(key=key)
    reason = why or "index.docker.io with a path never matches: images normalise to docker.io/..."
    return Server(key=key, warning=f"{reason}; writing the key {key} instead")
