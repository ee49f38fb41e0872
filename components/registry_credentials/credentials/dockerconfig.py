"""Validate registry credentials and render `.dockerconfigjson` exactly as kubectl does."""

import base64
import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from ..errors import ConfigError
from ..checks.names import has_control_chars
from .servers import ServerSyntaxError, normalize_server
from ..checks.values import REGISTRY_KEYS, check_bool, check_choice, did_you_mean

MAX_SECRET_BYTES = 1024 * 1024
"""The API server rejects a Secret whose decoded data adds up to more than this (core/v1 MaxSecretSize)."""

REGISTRY_FIELDS = tuple(snake for snake in REGISTRY_KEYS.values() if snake != "name")
"""Settings of one registry in the Python API (settings.REGISTRY_KEYS is the table to extend)."""
_TOKEN_FIELDS = ("identitytoken", "registrytoken")
_TOKEN_USERNAMES = (
    "Use the username/password form instead: Azure ACR username 00000000-0000-0000-0000-000000000000 with the "
    "token as password; Google GCR/Artifact Registry username oauth2accesstoken with an access token as password; "
    "AWS ECR username AWS with the output of `aws ecr get-login-password` as password."
)

# json.Marshal (what kubectl calls) escapes HTML characters and the JS line separators; Python does not.
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_TABLE = str.maketrans(_GO_ESCAPES)


@dataclass(frozen=True)
class Entry:
    """One validated registry: its position, the server as written, the `auths` key, and plain identity."""

    index: int
    server: str
    key: str
    username: str
    email: Optional[str] = None

    def label(self) -> str:
        """Name the registry in messages without any credential."""
        return f"registries[{self.index}] ({self.server})"


@dataclass(frozen=True)
class Checked:
    """Validated entries in input order, plus preview warnings."""

    entries: "tuple[Entry, ...]"
    warnings: "tuple[str, ...]"


def check_registries(registries: Sequence[Mapping[str, Any]], passwords_known: bool = True) -> Checked:
    """Validate registries and normalise their servers; raise ConfigError on the first problem."""
    if isinstance(registries, (str, bytes)) or not isinstance(registries, Sequence):
        raise ConfigError("registries: expected a list of {server, username, password[, email]} entries")
    if not registries:
        raise ConfigError("registries: at least one registry is required, e.g. [{server: harbor.example.com, ...}]")
    entries: list = []
    warnings: list = []
    seen: dict = {}
    for index, registry in enumerate(registries):
        entry, warning = _check_one(index, registry, passwords_known)
        if entry.key in seen:
            other = seen[entry.key]
            raise ConfigError(
                f"{entry.label()}: server is the same registry as {other.label()} (both become the key "
                f"{entry.key!r}); the kubelet would keep only one of them. Remove one, or merge them."
            )
        seen[entry.key] = entry
        entries.append(entry)
        if warning:
            warnings.append(f"{entry.label()}: {warning}")
    return Checked(entries=tuple(entries), warnings=tuple(warnings))


def _check_one(index: int, registry: Mapping[str, Any], passwords_known: bool) -> "tuple[Entry, Optional[str]]":
    where = f"registries[{index}]"
    if not isinstance(registry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with server, username, password and optional email")
    server = registry.get("server")
    if not isinstance(server, str) or not server.strip():
        raise ConfigError(f"{where}.server: must be a non-empty registry host, e.g. harbor.example.com")
    if has_control_chars(server):
        raise ConfigError(f"{where}.server: {server!r} contains a control character (newline, tab...); remove it")
    where = f"{where} ({server})"
    for key in registry:
        if key not in REGISTRY_FIELDS and key not in _TOKEN_FIELDS and key != "name":
            shown = key if isinstance(key, str) and key.isprintable() else repr(key)
            raise ConfigError(
                f"{where}.{shown}: unknown setting{did_you_mean(str(key), REGISTRY_FIELDS)}; "
                f"allowed: {', '.join(REGISTRY_FIELDS)}"
            )
    check_bool(f"{where}.insecure", registry.get("insecure"))
    if registry.get("verify") is not None:
        check_choice(f"{where}.verify", registry["verify"], "verify")
    ca_file = registry.get("ca_file")
    if ca_file is not None and (not isinstance(ca_file, str) or not ca_file.strip() or has_control_chars(ca_file)):
        raise ConfigError(f"{where}.ca_file: must be the path of a PEM CA bundle")
    tokens = [field for field in _TOKEN_FIELDS if registry.get(field)]
    username, password = registry.get("username"), registry.get("password")
    if tokens and not username and not password:
        raise ConfigError(
            f"{where}.{tokens[0]}: the kubelet silently ignores {' and '.join(tokens)} and would pull "
            f"anonymously. {_TOKEN_USERNAMES}"
        )
    try:
        normalized = normalize_server(server)
    except ServerSyntaxError as err:
        raise ConfigError(f"{where}.server: cannot be parsed: {err}") from None
    if not isinstance(username, str) or not username.strip():
        raise ConfigError(f"{where}.username: must not be empty; set the registry user (e.g. a robot account)")
    if has_control_chars(username):
        raise ConfigError(f"{where}.username: contains a control character (newline, tab...); remove it")
    if ":" in username:
        raise ConfigError(
            f"{where}.username: must not contain ':' because the kubelet splits `auth` at the first ':'; "
            "use the account name without a colon"
        )
    if passwords_known:
        _check_password(where, password)
    email = registry.get("email")
    if email is not None and (not isinstance(email, str) or has_control_chars(email)):
        raise ConfigError(f"{where}.email: must be a single-line string or omitted")
    warning = normalized.warning
    if tokens:
        ignored = f"{' and '.join(tokens)} ignored: the kubelet only uses username/password"
        warning = f"{warning}; {ignored}" if warning else ignored
    entry = Entry(index=index, server=server, key=normalized.key, username=username, email=email or None)
    return entry, warning


def _check_password(where: str, password: Any) -> None:
    if password is not None and not isinstance(password, str):
        raise ConfigError(f"{where}.password: must be a string, not {type(password).__name__}")
    if not password or not password.strip():
        raise ConfigError(f"{where}.password: must not be empty or only whitespace; set it as a secret")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{where}.password: is not valid UTF-8 text") from None


def render_entries(entries: Sequence[Entry], passwords: Sequence[str]) -> str:
    """Render validated entries with their passwords (same order) as `.dockerconfigjson` text."""
    auths = {}
    for entry, password in zip(entries, passwords, strict=True):
        _check_password(entry.label(), password)
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


def render_dockerconfigjson(registries: Sequence[Mapping[str, Any]]) -> str:
    """Return the `.dockerconfigjson` text `kubectl create secret docker-registry` would store."""
    checked = check_registries(registries)
    return render_entries(checked.entries, [registries[e.index]["password"] for e in checked.entries])


def encode_secret_data(dockerconfigjson: str) -> str:
    """Base64 the rendered text as the Secret's `data[.dockerconfigjson]` value, as kubectl stores it."""
    return base64.b64encode(dockerconfigjson.encode("utf-8")).decode("ascii")
