"""A registry's own settings (server, username, password, email), each checked once into an Entry."""

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any, Collection, List, Mapping, Optional, Sequence, Tuple

from ..checks.names import has_control_chars
from ..checks.problems import Problems
from ..checks.values import ARGS, Source, check_known, kind_of
from ..errors import ConfigError
from .dockerconfig import Entry, registry_label, render_entries
from .rotation import (
    PREVIOUS_SETTINGS,
    ROTATION_SETTINGS,
    Previous,
    alternate_key,
    parse_date,
    same_credential_problem,
    today,
)
from .servers import Server, ServerSyntaxError, normalize_server

REGISTRY_SETTINGS = ("server", "username", "password", "email", *ROTATION_SETTINGS)
"""A registry's credential settings (snake_case); how it is checked adds verify.settings.CHECK_SETTINGS."""
TOKEN_FIELDS = ("identitytoken", "registrytoken")
"""Docker config.json fields the kubelet ignores; accepted so that the message can say what to use instead."""
_TOKEN_USERNAMES = (
    "Use the username/password form instead: Azure ACR username 00000000-0000-0000-0000-000000000000 with the "
    "token as password; Google GCR/Artifact Registry username oauth2accesstoken with an access token as password; "
    "AWS ECR username AWS with the output of `aws ecr get-login-password` as password."
)
_PLAIN = (str, bytes, bool, int, float, list, tuple, dict)


def password_command(name: str, key: str = "passwords", stack: Optional[str] = None) -> str:
    """The exact command that stores a registry's password (in `key`) as a stack config secret (of `stack`, when
    known)."""
    # --type string: under --path, Pulumi turns "true", "false" and digits into booleans and numbers.
    what = "<old password>" if key != "passwords" else "<password>"
    where = f"--stack {stack} " if stack else ""
    return f"pulumi config set {where}--secret --path --type string '{key}.{name}' '{what}'"


def is_known(password: Any) -> bool:
    """True for a plain value; False for an Output (or anything else known only later), checked once it resolves."""
    return password is None or isinstance(password, _PLAIN)


def check_password(field_name: str, password: Any, registry_name: Optional[str] = None,
                   key: str = "passwords", stack: Optional[str] = None) -> str:
    """A password: text, not empty and not only whitespace. `registry_name`: it comes from the stack config secret
    object `key` (`passwords`, or `previousPasswords` for the credential being rotated out) of `stack`."""
    if registry_name is not None:
        command = password_command(registry_name, key, stack)
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
        if password is None:
            raise ConfigError(f"{field_name}: is not set; give the registry's password, as a secret")
        if not isinstance(password, str):
            raise ConfigError(f"{field_name}: must be a string or an Output of one, not {kind_of(password)}")
        if not password.strip():
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
    previous: Tuple[Optional[Previous], ...] = ()
    """Per entry: the credential being rotated out, or None."""
    previous_passwords: Tuple[Any, ...] = field(default=(), repr=False)
    """Per entry: the previous credential's password (checked text or an Output), or None."""
    rendered_previous: Optional[str] = field(default=None, repr=False)
    """The `-previous` Secret's `.dockerconfigjson` (the live windows only), when every password is known now."""
    rendered_node: Optional[str] = field(default=None, repr=False)
    """The node file's credentials (the current ones, and the live previous ones under a second spelling)."""
    today: Optional[datetime.date] = None
    """The date the windows were judged on."""

    def previous_of(self, position: int) -> Optional[Previous]:
        """The previous credential of the entry at `position`, or None."""
        return self.previous[position] if position < len(self.previous) else None

    @property
    def rotating(self) -> bool:
        """True while some window is live: the `-previous` Secrets exist."""
        return any(p is not None and p.live for p in self.previous)

    def outgoing(self) -> List[Tuple[Entry, Any]]:
        """The live previous credentials, each as an entry under its registry's key, with its password."""
        found = []
        for position, entry in enumerate(self.entries):
            previous = self.previous_of(position)
            if previous is not None and previous.live:
                found.append((dataclasses.replace(entry, username=previous.username, expires=None),
                              self.previous_passwords[position]))
        return found

    def node_credentials(self) -> List[Tuple[Entry, Any]]:
        """What the node file holds: every current credential, and each live previous one under a second spelling
        of its key (one JSON object cannot hold a key twice)."""
        current = list(zip(self.entries, self.passwords))
        return current + [(dataclasses.replace(entry, key=alternate_key(entry.key)), password)
                          for entry, password in self.outgoing()]


def check_registries(
    items: Any,
    problems: Optional[Problems] = None,
    source: Source = ARGS,
    more_settings: Collection[str] = (),
    reported: bool = False,
    now: Optional[datetime.date] = None,
) -> Registries:
    """Check `registries`, collecting every problem into `problems` (or raising them together when none is given).

    `more_settings` are allowed keys that another module checks (how each registry is verified); `reported` means
    the caller has already said what is wrong with the list itself; `now` is the date windows are judged on.
    """
    collect = problems if problems is not None else Problems()
    before = len(collect.found)
    now = now or today()
    entries: List[Entry] = []
    passwords: List[Any] = []
    warnings: List[str] = []
    previous: List[Optional[Previous]] = []
    previous_passwords: List[Any] = []
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
        checked = _check_one(index, item, collect, source, allowed, now)
        if checked is None:
            continue
        entry, password, warning, outgoing = checked
        if entry.key in seen:
            collect.add(
                f"{entry.label()}: server is the same registry as {seen[entry.key].label()} (both become the key "
                f"{entry.key!r}); the kubelet would keep only one of them. Remove one, or merge them."
            )
            continue
        seen[entry.key] = entry
        entries.append(entry)
        passwords.append(password)
        previous.append(outgoing[0] if outgoing else None)
        previous_passwords.append(outgoing[1] if outgoing else None)
        if warning:
            warnings.append(f"{entry.label()}: {warning}")
    result = Registries(tuple(entries), tuple(passwords), tuple(warnings), None, tuple(previous),
                        tuple(previous_passwords), today=now)
    known = [*passwords, *(p for _, p in result.outgoing())]
    if source.passwords_known and len(collect.found) == before and all(isinstance(p, str) for p in known):
        # Known passwords let the Secrets, and their size limit, be checked now; Outputs are checked when known.
        result = collect.check("registries", lambda _field: _rendered(result)) or result
    if problems is None:
        collect.raise_all()
    return result


def _rendered(registries: Registries) -> Registries:
    """The registries with every Secret rendered: the pull Secret, and during a window the `-previous` one and the
    node file's (each must fit in a Secret)."""
    return dataclasses.replace(
        registries,
        rendered=render_entries(registries.entries, registries.passwords),
        rendered_previous=render_pairs(registries.outgoing()) if registries.rotating else None,
        rendered_node=render_pairs(registries.node_credentials()),
    )


def render_pairs(pairs: Sequence[Tuple[Entry, str]]) -> str:
    """render_entries of (entry, password) pairs."""
    return render_entries([entry for entry, _ in pairs], [password for _, password in pairs])


def _check_one(
    index: int, item: Any, problems: Problems, source: Source, allowed: Sequence[str], now: datetime.date
) -> Optional[Tuple[Entry, Any, Optional[str], Optional[Tuple[Previous, Any]]]]:
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
    problems.conceal(password)
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
    expires = item.get("expires")
    if expires is not None:
        expires = problems.check(f"{label}.expires", parse_date, expires)
    outgoing = None
    if item.get("previous") is not None:
        outgoing = _check_previous(label, item["previous"], problems, source, (username, password), expires, now)
        if outgoing is None:
            return None
    if normalized is None or username is None or (source.passwords_known and password is None):
        return None
    warning = normalized.warning
    if tokens:
        ignored = f"{' and '.join(tokens)} ignored: the kubelet only uses username/password"
        warning = f"{warning}; {ignored}" if warning else ignored
    entry = Entry(index=index, server=server_text, key=normalized.key, username=username, email=email or None,
                  expires=expires)
    return entry, password, warning, outgoing


def _check_previous(label: str, previous: Any, problems: Problems, source: Source, current: Tuple[Any, Any],
                    expires: Optional[datetime.date], now: datetime.date) -> Optional[Tuple[Previous, Any]]:
    """A registry's `previous`: its username (default: the current one), `until`, and its password."""
    where = f"{label}.previous"
    if not isinstance(previous, Mapping):
        problems.add(f"{where}: expected a mapping such as {{until: '2026-12-20'}} (and the outgoing username if it "
                     "differs), for the credential being rotated out")
        return None
    before = len(problems.found)
    # Stack config keeps the password in `previousPasswords`; the reader has put it here, and refused one written here.
    settings = [s for s in PREVIOUS_SETTINGS if not (source.named_passwords and s == "password")]
    problems.check(where, check_known, {k: v for k, v in previous.items() if k in settings or k != "password"},
                   settings)
    username = previous.get("username")
    username = current[0] if username is None else problems.check(f"{where}.username", _check_username, username)
    until = previous.get("until")
    if until is None:
        problems.add(f"{where}.until: is required: the last day (YYYY-MM-DD) the outgoing credential must keep "
                     "working, e.g. a week from now")
    else:
        until = problems.check(f"{where}.until", parse_date, until)
    password = previous.get("password")
    if source.passwords_known and not source.named_passwords and is_known(password):
        # Stack config: the reader checked previousPasswords.<name> already, with the command that sets it.
        password = problems.check(f"{where}.password", check_password, password)
    if isinstance(until, datetime.date) and isinstance(expires, datetime.date) and expires < until:
        problems.add(
            f"{label}.expires: {expires.isoformat()} is before previous.until {until.isoformat()}: the new "
            "credential would stop working while the outgoing one is still kept; fix either date"
        )
    if (isinstance(password, str) and isinstance(current[1], str) and password == current[1]
            and username == current[0] and password != source.placeholder):
        problems.add(same_credential_problem(where))
    if len(problems.found) > before or username is None or until is None:
        return None
    return Previous(username=username, until=until, live=until >= now), password


def _check_server(field_name: str, server: Any, label: str) -> Server:
    """The `auths` key a server becomes; `label` names the registry by that server once it can be shown."""
    if server is not None and not isinstance(server, str):
        raise ConfigError(f"{field_name}: must be a registry host (text), not {kind_of(server)}")
    if not server or not server.strip():
        raise ConfigError(f"{field_name}: must be a non-empty registry host, e.g. harbor.example.com")
    # An invalid server is never shown (`label` then names the registry by position only): it may hold a
    # credential, as in user:password@host.
    if has_control_chars(server):
        raise ConfigError(f"{field_name}: contains a control character (newline, tab...); remove it")
    try:
        return normalize_server(server)
    except ServerSyntaxError as err:
        raise ConfigError(f"{label}.server: cannot be parsed: {err}") from None


def _check_username(field_name: str, username: Any) -> str:
    if username is not None and not isinstance(username, str):
        raise ConfigError(f"{field_name}: must be text, the registry user (e.g. a robot account), not "
                          f"{kind_of(username)}")
    if not username or not username.strip():
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
    if not isinstance(email, str):
        raise ConfigError(f"{field_name}: must be a single-line string or omitted, not {kind_of(email)}")
    if has_control_chars(email):
        raise ConfigError(f"{field_name}: must be a single-line string or omitted")
    return email


def render_dockerconfigjson(registries: Sequence[Mapping[str, Any]]) -> str:
    """Return the `.dockerconfigjson` text `kubectl create secret docker-registry` would store."""
    checked = check_registries(registries)
    if checked.rendered is None:
        raise ConfigError("registries: every password must be a string here (an Output cannot be rendered now)")
    return checked.rendered
