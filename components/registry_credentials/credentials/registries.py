"""A registry's own settings (server, username, password, email), each checked once into an Entry."""

from dataclasses import dataclass, field
from typing import Any, Collection, List, Mapping, Optional, Sequence, Tuple

from ..checks.names import has_control_chars
from ..checks.problems import Problems
from ..checks.values import ARGS, Source, check_known
from ..errors import ConfigError
from .dockerconfig import Entry, registry_label, render_entries
from .servers import Server, ServerSyntaxError, normalize_server

REGISTRY_SETTINGS = ("server", "username", "password", "email")
"""A registry's credential settings (snake_case); how it is checked adds verify.settings.CHECK_SETTINGS."""
TOKEN_FIELDS = ("identitytoken", "registrytoken")
"""Docker config.json fields the kubelet ignores; accepted so that the message can say what to use instead."""
_TOKEN_USERNAMES = (
    "Use the username/password form instead: Azure ACR username 00000000-0000-0000-0000-000000000000 with the "
    "token as password; Google GCR/Artifact Registry username oauth2accesstoken with an access token as password; "
    "AWS ECR username AWS with the output of `aws ecr get-login-password` as password."
)
_PLAIN = (str, bytes, bool, int, float, list, tuple, dict)


def password_command(name: str, stack: Optional[str] = None) -> str:
    """The exact command that stores a registry's password as a stack config secret (of `stack`, when known)."""
    # --type string: under --path, Pulumi turns "true", "false" and digits into booleans and numbers.
    where = f"--stack {stack} " if stack else ""
    return f"pulumi config set {where}--secret --path --type string 'passwords.{name}' '<password>'"


def is_known(password: Any) -> bool:
    """True for a plain value; False for an Output (or anything else known only later), checked once it resolves."""
    return password is None or isinstance(password, _PLAIN)


def check_password(field_name: str, password: Any, registry_name: Optional[str] = None,
                   stack: Optional[str] = None) -> str:
    """A password: text, not empty and not only whitespace. `registry_name`: it comes from stack config `passwords`
    (of `stack`)."""
    if registry_name is not None:
        command = password_command(registry_name, stack)
        if isinstance(password, (bool, int, float)):
            raise ConfigError(
                f"{field_name}: was stored as a {'boolean' if isinstance(password, bool) else 'number'}, not text "
                f"(pulumi config set --path converts digits, true and false); set it again with {command}"
            )
        if not isinstance(password, str) or not password:
            raise ConfigError(f"{field_name}: the password of registry {registry_name!r} is not set; run {command}")
        if not password.strip():
            raise ConfigError(f"{field_name}: is only whitespace; set the real password with {command}")
    else:
        if password is not None and not isinstance(password, str):
            kind = type(password).__name__
            raise ConfigError(f"{field_name}: must be a string or a pulumi.Output of one, not {kind}")
        if not password or not password.strip():
            raise ConfigError(f"{field_name}: must not be empty or only whitespace; set it as a secret")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{field_name}: is not valid UTF-8 text") from None
    return password


@dataclass(frozen=True)
class Registries:
    """The checked registries: entries in input order, each one's password, and preview warnings."""

    entries: Tuple[Entry, ...]
    passwords: Tuple[Any, ...] = field(repr=False)
    """Per entry: the checked text, or a value known later (an Output), checked when it resolves."""
    warnings: Tuple[str, ...] = ()
    rendered: Optional[str] = field(default=None, repr=False)
    """The `.dockerconfigjson`, when every password is known now (so its size is checked now too)."""


def check_registries(
    items: Any,
    problems: Optional[Problems] = None,
    source: Source = ARGS,
    more_settings: Collection[str] = (),
    reported: bool = False,
) -> Registries:
    """Check `registries`, collecting every problem into `problems` (or raising them together when none is given).

    `more_settings` are allowed keys that another module checks (how each registry is verified); `reported` means
    the caller has already said what is wrong with the list itself.
    """
    collect = problems if problems is not None else Problems()
    before = len(collect.found)
    entries: List[Entry] = []
    passwords: List[Any] = []
    warnings: List[str] = []
    if items is None:
        items = []
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        if not reported:
            collect.add(
                "registries: must be a plain list of {server, username, password[, email]} entries (it decides "
                "which keys exist: pass passwords as Outputs, not the whole list)"
            )
        items = []
    elif not items and not reported:
        collect.add("registries: at least one registry is required, e.g. [{server: harbor.example.com, ...}]")
    # Stack config names each registry and keeps its password in the secret `passwords` object (its reader refuses a
    # password here), so what it is told it may write is `name`, never `password`.
    own = [s for s in (*REGISTRY_SETTINGS, *more_settings) if not (source.named_passwords and s == "password")]
    allowed = [source.name(s) for s in own] + (["name"] if source.named_passwords else [])
    seen: dict = {}
    for index, item in enumerate(items):
        checked = _check_one(index, item, collect, source, allowed)
        if checked is None:
            continue
        entry, password, warning = checked
        if entry.key in seen:
            collect.add(
                f"{entry.label()}: server is the same registry as {seen[entry.key].label()} (both become the key "
                f"{entry.key!r}); the kubelet would keep only one of them. Remove one, or merge them."
            )
            continue
        seen[entry.key] = entry
        entries.append(entry)
        passwords.append(password)
        if warning:
            warnings.append(f"{entry.label()}: {warning}")
    rendered = None
    if source.passwords_known and len(collect.found) == before and all(isinstance(p, str) for p in passwords):
        # Known passwords let the whole Secret, and its size limit, be checked now; Outputs are checked when known.
        rendered = collect.check("registries", lambda _field: render_entries(entries, passwords))
    if problems is None:
        collect.raise_all()
    return Registries(tuple(entries), tuple(passwords), tuple(warnings), rendered)


def _check_one(
    index: int, item: Any, problems: Problems, source: Source, allowed: Sequence[str]
) -> Optional[Tuple[Entry, Any, Optional[str]]]:
    where = f"registries[{index}]"
    if not isinstance(item, Mapping):
        fields = "name, server, username" if source.named_passwords else "server, username, password"
        problems.add(f"{where}: expected a mapping with {fields} and optional email")
        return None
    server_text = item.get("server")
    label = registry_label(index, server_text)
    normalized = problems.check(f"{where}.server", _check_server, server_text, label)
    # `name` names the password in stack config, and the Python API has always let it through; token fields are
    # accepted so that the message below can say what to use instead, but they are not advertised.
    told = ("name", "password") if source.named_passwords else ("name",)  # the reader reports a stack password
    settings = {k: v for k, v in item.items() if k not in (*told, *TOKEN_FIELDS)}
    problems.check(label, check_known, settings, allowed)
    tokens = [name for name in TOKEN_FIELDS if item.get(name)]
    username, password = item.get("username"), item.get("password")
    if tokens and not username and not password:
        problems.add(
            f"{label}.{tokens[0]}: the kubelet silently ignores {' and '.join(tokens)} and would pull anonymously. "
            f"{_TOKEN_USERNAMES}"
        )
        return None
    username = problems.check(f"{label}.username", _check_username, username)
    if source.passwords_known and not source.named_passwords and is_known(password):
        password = problems.check(f"{label}.password", check_password, password)
    email = item.get("email")
    if email is not None:
        email = problems.check(f"{label}.email", _check_email, email)
    if normalized is None or username is None or (source.passwords_known and password is None):
        return None
    warning = normalized.warning
    if tokens:
        ignored = f"{' and '.join(tokens)} ignored: the kubelet only uses username/password"
        warning = f"{warning}; {ignored}" if warning else ignored
    entry = Entry(index=index, server=server_text, key=normalized.key, username=username, email=email or None)
    return entry, password, warning


def _check_server(field_name: str, server: Any, label: str) -> Server:
    """The `auths` key a server becomes; `label` names the registry by that server once it can be shown."""
    if not isinstance(server, str) or not server.strip():
        raise ConfigError(f"{field_name}: must be a non-empty registry host, e.g. harbor.example.com")
    if has_control_chars(server):
        raise ConfigError(f"{field_name}: {server!r} contains a control character (newline, tab...); remove it")
    try:
        return normalize_server(server)
    except ServerSyntaxError as err:
        raise ConfigError(f"{label}.server: cannot be parsed: {err}") from None


def _check_username(field_name: str, username: Any) -> str:
    if not isinstance(username, str) or not username.strip():
        raise ConfigError(f"{field_name}: must not be empty; set the registry user (e.g. a robot account)")
    if has_control_chars(username):
        raise ConfigError(f"{field_name}: contains a control character (newline, tab...); remove it")
    if ":" in username:
        raise ConfigError(
            f"{field_name}: must not contain ':' because the kubelet splits `auth` at the first ':'; "
            "use the account name without a colon"
        )
    return username


def _check_email(field_name: str, email: Any) -> str:
    if not isinstance(email, str) or has_control_chars(email):
        raise ConfigError(f"{field_name}: must be a single-line string or omitted")
    return email


def render_dockerconfigjson(registries: Sequence[Mapping[str, Any]]) -> str:
    """Return the `.dockerconfigjson` text `kubectl create secret docker-registry` would store."""
    checked = check_registries(registries)
    if checked.rendered is None:
        raise ConfigError("registries: every password must be a string here (an Output cannot be rendered now)")
    return checked.rendered
