"""Render registry credentials as `.dockerconfigjson`, byte for byte as `kubectl create secret docker-registry` does."""

import base64
import datetime
import json
from dataclasses import dataclass
from typing import Optional, Sequence

from ..checks.names import has_control_chars
from ..errors import ConfigError
from .servers import ServerSyntaxError, normalize_server

MAX_SECRET_BYTES = 1024 * 1024
"""The API server rejects a Secret whose decoded data adds up to more than this (core/v1 MaxSecretSize)."""

# json.Marshal (what kubectl calls) escapes HTML characters and the JS line separators; Python does not.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_TABLE = str.maketrans(_GO_ESCAPES)


def registry_label(index: int, server: object) -> str:
    """How messages name a registry: by position, and by its server when that is a valid one.

    An invalid server is never shown: it may hold a credential (`user:password@host`, a pasted token).
    """
    return f"registries[{index}] ({server})" if _is_valid_server(server) else f"registries[{index}]"


def _is_valid_server(server: object) -> bool:
    if not isinstance(server, str) or not server.strip() or has_control_chars(server):
        return False
    try:
        normalize_server(server)
    except ServerSyntaxError:
        return False
    return True


def credential_label(label: str, username: str) -> str:
    """How command output names one credential: its registry's label and its user, never the password."""
    return f"{label} user {username!r}"


@dataclass(frozen=True)
class Entry:
    """One checked registry: its position, the server as written, the `auths` key, and plain identity."""

    index: int
    server: str
    key: str
    username: str
    email: Optional[str] = None
    expires: Optional[datetime.date] = None
    """When this credential stops working (`expires`), if the configuration says."""

    def label(self) -> str:
        """Name the registry in messages without any credential."""
        return registry_label(self.index, self.server)


def render_entries(entries: Sequence[Entry], passwords: Sequence[str]) -> str:
    """Render checked entries with their checked passwords (same order) as `.dockerconfigjson` text."""
    auths = {}
    for entry, password in zip(entries, passwords, strict=True):
        # Field order and omitempty follow kubectl's DockerConfigEntry struct tags.
        item = {"username": entry.username, "password": password}
        if entry.email:
            item["email"] = entry.email
        item["auth"] = base64.b64encode(f"{entry.username}:{password}".encode("utf-8")).decode("ascii")
        auths[entry.key] = item
    # Go's encoder writes map keys sorted by their UTF-8 bytes; code-point order is the same order.
    text = json.dumps({"auths": dict(sorted(auths.items()))}, separators=(",", ":"), ensure_ascii=False)
    text = text.translate(_GO_ESCAPE_TABLE)
    size = len(text.encode("utf-8"))
    if size > MAX_SECRET_BYTES:
        raise ConfigError(
            f"registries: the rendered .dockerconfigjson is {size} bytes, over the Secret limit of "
            f"{MAX_SECRET_BYTES} bytes; split the registries across several component instances"
        )
    return text


def encode_secret_data(dockerconfigjson: str) -> str:
    """Base64 the rendered text as the Secret's `data[.dockerconfigjson]` value, as kubectl stores it."""
    return base64.b64encode(dockerconfigjson.encode("utf-8")).decode("ascii")
