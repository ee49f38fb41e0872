"""Read a stack's configuration into a Plan: the one reader, for the stack program and for the offline CLIs.

Both see the same JSON text per key: the program from the engine (stack_config.PulumiValues), the CLIs from the
stack file as Pulumi reads it (stack_files, FileValues). What only stack config has is checked here (the secret
`passwords` object and the registry names that key it); every other setting goes to the one checker, spelled as
the stack file spells it (camelCase).
"""

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Protocol

from ..checks.problems import Problems
from ..checks.values import STACK, check_known, shown_key
from ..credentials.registries import check_password, password_command
from ..errors import ConfigError
from .checker import ARGS_SETTINGS, check
from .plan import Plan
from .stack_files import PLACEHOLDER, StackConfig

STACK_SETTINGS = (*ARGS_SETTINGS, "passwords", "previous_passwords")
"""Top-level stack config settings (snake_case; the stack file spells them in camelCase)."""


class ConfigValues(Protocol):
    """Stack config as the engine hands it to a program: full `project:key` names, text values."""

    project: str
    stack_name: str

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""

    def is_secret(self, key: str) -> bool:
        """True when Pulumi hands this key to the program as a secret."""

    def keys(self) -> Iterable[str]:
        """All set keys, every namespace."""


@dataclass
class FileValues:
    """A stack file's config, as stack_files read it (secure values as the placeholder)."""

    stack: StackConfig

    @property
    def project(self) -> str:
        """The project's name: the namespace of its own keys."""
        return self.stack.project

    @property
    def stack_name(self) -> str:
        """The stack's name."""
        return self.stack.stack

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""
        return self.stack.values.get(f"{self.project}:{key}")

    def is_secret(self, key: str) -> bool:
        """True when the file holds a secure value under this key."""
        return f"{self.project}:{key}" in self.stack.secret_keys

    def keys(self) -> Iterable[str]:
        """Every key in the file."""
        return list(self.stack.values)


def read_plan(values: ConfigValues, require_passwords: bool = True) -> Plan:
    """Check stack config exactly as the program does: the plan, or one ConfigError listing every problem.

    Without `require_passwords` (explain), passwords are neither read nor needed.
    """
    problems = Problems()
    prefix = f"{values.project}:"
    own = {key[len(prefix):]: None for key in values.keys() if key.startswith(prefix)}
    problems.check(values.project, check_known, own, [STACK.name(s) for s in STACK_SETTINGS], ":")
    # Only the passwords may be secret: the other settings appear in preview messages and resource names, so a
    # secret one would be shown in plain text (Pulumi makes a whole key secret, `--secret` or a `secure:` leaf).
    hidden = [STACK.name(s) for s in ARGS_SETTINGS if values.raw(STACK.name(s)) is not None
              and values.is_secret(STACK.name(s))]
    problems.add(*(
        f"{prefix}{key}: is stored as a secret, but only the passwords are kept secret (servers, usernames and "
        "namespaces appear in preview messages and resource names); set it as plain config, and each password "
        f"with {password_command('NAME', stack=values.stack_name)}" for key in hidden
    ))
    values = _Without(values, hidden)
    raw = _object(values, "registries")
    reported = list(hidden)
    if "registries" in hidden:
        raw = []
    elif not isinstance(raw, list) or not raw:
        problems.add(
            f"{prefix}registries: set a list of registries in the stack file Pulumi.{values.stack_name}.yaml, e.g. "
            "[{name: harbor, server: harbor.example.com, username: robot-puller}]"
        )
        raw, reported = [], [*reported, "registries"]
    stack = values.stack_name
    passwords = _load_passwords(values, problems) if require_passwords else {}
    previous_passwords = _load_passwords(values, problems, "previousPasswords") if require_passwords else {}
    registries: List[Any] = []
    names: List[str] = []
    rotating: List[str] = []
    placeholders = []
    for index, item in enumerate(raw):
        registry = _registry(index, item, problems, names, stack)
        name = registry["name"] if registry is not None else None
        if registry is not None and require_passwords:
            registry["password"] = problems.check(f"passwords.{name}", check_password, passwords.get(name), name,
                                                  "passwords", stack)
            if registry["password"] == PLACEHOLDER:
                placeholders.append(index)  # the offline render could not decrypt it: never checked
        if registry is not None and isinstance(registry.get("previous"), dict):
            rotating.append(name)
            if require_passwords:
                registry["previous"] = {**registry["previous"], "password": problems.check(
                    f"previousPasswords.{name}", check_password, previous_passwords.get(name), name,
                    "previousPasswords", stack)}
                if registry["previous"]["password"] == PLACEHOLDER and index not in placeholders:
                    placeholders.append(index)
        if registry is None and isinstance(item, dict):
            registry = {key: value for key, value in item.items() if key != "password"}  # its name was reported
        registries.append(item if registry is None else registry)
    written = [item.get("name") for item in raw if isinstance(item, dict)]  # a name refused above is still theirs
    for unknown in sorted(set(passwords) - set(written) if "registries" not in hidden else (), key=str):
        problems.add(f"passwords.{shown_key(unknown)}: no registry has this name; names are {', '.join(names)}")
    for unknown in sorted(set(previous_passwords) - set(rotating) if "registries" not in hidden else (), key=str):
        why = "this registry has no `previous`" if unknown in written else "no registry has this name"
        problems.add(f"previousPasswords.{shown_key(unknown)}: {why}; remove it (pulumi config rm --stack {stack} "
                     f"--path 'previousPasswords.{shown_key(unknown)}') or add the registry's previous: {{until: ...}}")
    document = {
        "registries": registries,
        "namespaces": _namespaces(_object(values, "namespaces")),
        STACK.name("secret_name"): values.raw("secretName"),
        STACK.name("node_bootstrap"): _object(values, "nodeBootstrap"),
        STACK.name("selected_namespaces"): _object(values, "selectedNamespaces"),
        "verify": values.raw("verify"),
        STACK.name("expiry_warning_days"): values.raw("expiryWarningDays"),
        STACK.name("expired_credentials"): values.raw("expiredCredentials"),
    }
    document = {key: value for key, value in document.items() if value is not None}  # unset: not in the document
    source = dataclasses.replace(STACK, passwords_known=require_passwords, placeholder=PLACEHOLDER)
    return check(document, source, problems, reported=reported, never_verified=placeholders,
                 enforce_expiry=require_passwords)


@dataclass
class _Without:
    """`values` with some keys read as unset (their problem is reported already)."""

    values: ConfigValues
    keys_unset: List[str]

    @property
    def project(self) -> str:
        """The project's name."""
        return self.values.project

    @property
    def stack_name(self) -> str:
        """The stack's name."""
        return self.values.stack_name

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset or left out."""
        return None if key in self.keys_unset else self.values.raw(key)

    def is_secret(self, key: str) -> bool:
        """True when the key is secret."""
        return self.values.is_secret(key)

    def keys(self) -> Iterable[str]:
        """Every set key."""
        return self.values.keys()


def _object(values: ConfigValues, key: str) -> Any:
    text = values.raw(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # a plain string: the checks say what shape they wanted


def _load_passwords(values: ConfigValues, problems: Problems, name: str = "passwords") -> Dict[str, Any]:
    """One of SECRET_OBJECTS: registry name -> password, refused when it is not stored as a secret."""
    key = f"{values.project}:{name}"
    stack = values.stack_name
    passwords = _object(values, name) or {}
    command = password_command("NAME", name, stack)
    if not isinstance(passwords, dict):
        problems.add(f"{key}: must be an object of registry name -> password, set with {command}")
        return {}
    for password in passwords.values():
        problems.conceal(password)
    if passwords and not values.is_secret(name):
        problems.add(
            f"{key}: is stored in plain text. Remove it (pulumi config rm --stack {stack} {name}) and set each "
            f"password with {command}"
        )
    return passwords


def _registry(index: int, item: Any, problems: Problems, names: List[str], stack: str) -> Optional[Dict[str, Any]]:
    """A stack registry's own checks (its name, no password in it): a copy to fill in, or None."""
    where = f"registries[{index}]"
    if not isinstance(item, dict):
        return None  # the registry checks say what it should be
    name = problems.check(f"{where}.name", _check_name, item.get("name"), names)
    if "password" in item:
        problems.add(
            f"{where}.password: never put a password in registries (it would be stored in plain text); "
            f"remove it and run {password_command(name or 'NAME', stack=stack)}"
        )
    previous = item.get("previous")
    if isinstance(previous, dict) and "password" in previous:
        problems.add(
            f"{where}.previous.password: never put a password in registries (it would be stored in plain text); "
            f"remove it and run {password_command(name or 'NAME', 'previousPasswords', stack)}"
        )
    if name is None:
        return None
    names.append(name)
    copy = {key: value for key, value in item.items() if key != "password"}
    if isinstance(previous, dict):
        copy["previous"] = {key: value for key, value in previous.items() if key != "password"}
    return copy


def _check_name(field: str, name: Any, names: List[str]) -> str:
    if not isinstance(name, str) or not _is_short_id(name):
        raise ConfigError(
            f"{field}: set a short id such as 'harbor' (lowercase letters, digits, '-', '_'); it names the "
            "registry's password in the secret `passwords` object"
        )
    if name in names:
        raise ConfigError(f"{field}: {name!r} is used twice; give each registry its own name")
    return name


def _is_short_id(name: str) -> bool:
    return bool(name) and (
        name[0].isascii() and name[0].isalnum() and name[-1].isascii() and name[-1].isalnum()
        and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_") for c in name)
    )


def _namespaces(raw: Any) -> Any:
    """Stack config may name a namespace by itself: `[apps]` is `[{name: apps}]`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return raw  # the namespace checks say what it should be
    return [{"name": item} if isinstance(item, str) else item for item in raw]
