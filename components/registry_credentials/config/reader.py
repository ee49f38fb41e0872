"""Read the stack's configuration into RegistryCredentialsArgs, failing with one message that says how to fix it.

One reader for the stack program (values from `pulumi.Config`) and the offline CLIs (values from the stack file,
read by stack_files as Pulumi reads it): both see the same JSON text per key, and go through the same checks.
Messages spell settings as the stack file does (camelCase).
"""

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol

import pulumi
from pulumi.runtime import config as runtime_config

from ..errors import ConfigError
from ..checks.names import check_dns_subdomain, has_control_chars
from ..node.settings import check_node_bootstrap
from ..checks.values import (
    BOOLEANS,
    CHOICES,
    NAMESPACE_KEYS,
    NODE_KEYS,
    REGISTRY_KEYS,
    STACK_KEYS,
    TOLERATION_KEYS,
    camel_message,
    check_choice,
    check_known,
    parse_bool,
    shown_key,
)
from .stack_files import PLACEHOLDER, StackConfig
from ..args import NamespaceArgs, NodeBootstrapArgs, RegistryArgs, RegistryCredentialsArgs
from .checker import check_namespace_args, check_registry_args


def password_command(name: str) -> str:
    """The exact command that stores a registry's password as a secret."""
    # --type string: under --path, Pulumi turns "true", "false" and digits into booleans and numbers.
    return f"pulumi config set --secret --path --type string 'passwords.{name}' '<password>'"


class ConfigValues(Protocol):
    """Stack config as the engine hands it to a program: full `project:key` names, text values."""

    project: str

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""

    def is_secret(self, key: str) -> bool:
        """True when Pulumi hands this key to the program as a secret."""

    def keys(self) -> Iterable[str]:
        """All set keys, every namespace."""


class PulumiValues:
    """The running program's config (what `pulumi.Config` reads)."""

    def __init__(self, config: pulumi.Config) -> None:
        self.project = config.name
        self._config = config

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""
        value = runtime_config.get_config(f"{self.project}:{key}")
        return None if value is None else str(value)

    def is_secret(self, key: str) -> bool:
        """True when the engine marked the key secret."""
        return runtime_config.is_config_secret(f"{self.project}:{key}")

    def keys(self) -> Iterable[str]:
        """Keys set through the runtime (mocks, providers) and through PULUMI_CONFIG, which is how the Python
        language host hands a program its config (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go)."""
        return sorted({*runtime_config.CONFIG.get(), *(runtime_config.get_config_env() or {})})


@dataclass
class FileValues:
    """A stack file's config, as stack_files read it (secure values as the placeholder)."""

    stack: StackConfig

    @property
    def project(self) -> str:
        """The project's name: the namespace of its own keys."""
        return self.stack.project

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""
        return self.stack.values.get(f"{self.project}:{key}")

    def is_secret(self, key: str) -> bool:
        """True when the file holds a secure value under this key."""
        return f"{self.project}:{key}" in self.stack.secret_keys

    def keys(self) -> Iterable[str]:
        """Every key in the file."""
        return list(self.stack.values)


def load_args(config: pulumi.Config) -> RegistryCredentialsArgs:
    """Build the component's args from stack config; passwords come only from the secret `passwords` object."""
    from ..component import reported_at_preview  # the component imports pulumi_kubernetes; only the program needs it
    from ..verify.program import precheck  # the login check runs while the plaintext is at hand

    with reported_at_preview():
        args = read_args(PulumiValues(config))
        plaintext = [registry["password"] for registry in args["registries"]]
        for registry in args["registries"]:
            # Secret from the moment it leaves config: nothing downstream ever sees it as a plain value.
            registry["password"] = pulumi.Output.secret(registry["password"])
        # The offline render runs this program with PLACEHOLDER for passwords it cannot decrypt: never checked.
        precheck(args, plaintext, unknown=PLACEHOLDER)
        return args


def read_args(
    values: ConfigValues,
    wrap_password: Callable[[str], Any] = lambda p: p,
    require_passwords: bool = True,
) -> RegistryCredentialsArgs:
    """Check stack config exactly as the program does and return the component's args."""
    return _read_args(values, wrap_password, require_passwords)


def _object(values: ConfigValues, key: str) -> Any:
    text = values.raw(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # a plain string: the caller says what shape it wanted


def _read_args(
    values: ConfigValues, wrap_password: Callable[[str], Any], require_passwords: bool
) -> RegistryCredentialsArgs:
    prefix = f"{values.project}:"
    own = [key[len(prefix):] for key in values.keys() if key.startswith(prefix)]
    check_known(values.project, {key: None for key in own}, STACK_KEYS, separator=":")
    raw = _object(values, "registries")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"{prefix}registries: set a list of registries in stacks/Pulumi.<stack>.yaml, e.g. "
            "[{name: harbor, server: harbor.example.com, username: robot-puller}]"
        )
    passwords = _load_passwords(values) if require_passwords else {}
    registries: List[RegistryArgs] = []
    names: List[str] = []
    for index, item in enumerate(raw):
        registries.append(_registry(index, item, passwords, names, require_passwords))
    unknown = sorted(set(passwords) - set(names))
    if unknown:
        raise ConfigError(
            f"passwords.{shown_key(unknown[0])}: no registry is named {unknown[0]!r}; names are {', '.join(names)}"
        )
    args: RegistryCredentialsArgs = {
        "registries": registries,
        "namespaces": _namespaces(_object(values, "namespaces") or []),
    }
    secret_name = values.raw("secretName")
    if secret_name is not None:
        args["secret_name"] = check_dns_subdomain("secretName", secret_name)
    node = _object(values, "nodeBootstrap")
    if node is not None:
        args["node_bootstrap"] = _node_bootstrap(node)
    verify = values.raw("verify")
    if verify is not None:
        args["verify"] = check_choice("verify", verify, "verify")  # type: ignore[typeddict-unknown-key]
    # The component's own checks, now, with the plaintext at hand (the whole Secret, size included), so the
    # message names settings as this file spells them and nothing is registered.
    try:
        check_registry_args([{**r, "password": passwords.get(n, "x")} for r, n in zip(registries, names)])
        check_namespace_args(args["namespaces"])
        check_node_bootstrap(args.get("node_bootstrap"))
    except ConfigError as err:
        # Only here: these messages name settings as the Python API does. Keys the user misspelled were refused
        # above, in the user's own spelling, and must not be "corrected" in the message.
        raise ConfigError(camel_message(str(err))) from None
    for registry, name in zip(registries, names):
        if require_passwords:
            # Secret from the moment it leaves config: nothing downstream ever sees it as a plain value.
            registry["password"] = wrap_password(passwords[name])
    return args


def _renamed(where: str, item: Mapping[str, Any], keys: Mapping[str, str]) -> Dict[str, Any]:
    """Map camelCase config settings to snake_case args: unknown ones refused, on/off and choices checked."""
    check_known(where, item, keys)
    result = {}
    for key, value in item.items():
        snake = keys[key]
        if snake in BOOLEANS:
            value = parse_bool(f"{where}.{key}", value)
        elif snake in CHOICES:
            value = check_choice(f"{where}.{key}", value, snake)
        result[snake] = value
    return result


def _node_bootstrap(raw: Any) -> NodeBootstrapArgs:
    if not isinstance(raw, dict):
        raise ConfigError("nodeBootstrap: must be an object such as {enabled: true}")
    node = _renamed("nodeBootstrap", raw, NODE_KEYS)
    tolerations = node.get("tolerations")
    if isinstance(tolerations, list):
        for index, toleration in enumerate(tolerations):
            if isinstance(toleration, dict):
                check_known(f"nodeBootstrap.tolerations[{index}]", toleration, TOLERATION_KEYS)
    return node  # type: ignore[return-value]


def _load_passwords(values: ConfigValues) -> Dict[str, str]:
    key = f"{values.project}:passwords"
    passwords = _object(values, "passwords") or {}
    if not isinstance(passwords, dict):
        raise ConfigError(f"{key}: must be an object of registry name -> password, set with {password_command('NAME')}")
    if passwords and not values.is_secret("passwords"):
        raise ConfigError(
            f"{key}: is stored in plain text. Remove it (pulumi config rm passwords) and set each password "
            f"with {password_command('NAME')}"
        )
    return passwords


def _registry(
    index: int, item: Any, passwords: Mapping[str, Any], names: List[str], require_passwords: bool
) -> RegistryArgs:
    where = f"registries[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected {{name, server, username[, email]}}")
    name = item.get("name")
    if not isinstance(name, str) or not name or has_control_chars(name) or not _is_short_id(name):
        raise ConfigError(
            f"{where}.name: set a short id such as 'harbor' (lowercase letters, digits, '-', '_'); it names the "
            "registry's password in the secret `passwords` object"
        )
    if name in names:
        raise ConfigError(f"{where}.name: {name!r} is used twice; give each registry its own name")
    names.append(name)
    if "password" in item:
        raise ConfigError(
            f"{where}.password: never put a password in registries (it would be stored in plain text); "
            f"remove it and run {password_command(name)}"
        )
    registry = _renamed(where, item, REGISTRY_KEYS)
    del registry["name"]
    if not require_passwords:
        return registry  # type: ignore[return-value]
    password = passwords.get(name)
    if isinstance(password, (bool, int, float)):
        raise ConfigError(
            f"passwords.{name}: was stored as a {'boolean' if isinstance(password, bool) else 'number'}, not text "
            "(pulumi config set --path "
            f"converts digits, true and false); set it again with {password_command(name)}"
        )
    if not isinstance(password, str) or not password:
        raise ConfigError(
            f"passwords.{name}: the password of registry {name!r} is not set; run {password_command(name)}"
        )
    if not password.strip():
        raise ConfigError(f"passwords.{name}: is only whitespace; set the real password with {password_command(name)}")
    return registry  # type: ignore[return-value]


def _is_short_id(name: str) -> bool:
    return (
        name[0].isascii() and name[0].isalnum() and name[-1].isascii() and name[-1].isalnum()
        and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_") for c in name)
    )


def _namespaces(raw: Any) -> List[NamespaceArgs]:
    if not isinstance(raw, list):
        raise ConfigError("namespaces: must be a list such as [{name: apps}]")
    result: List[NamespaceArgs] = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(f"namespaces[{index}]: expected {{name: ...}} or a namespace name")
        result.append(_renamed(f"namespaces[{index}]", item, NAMESPACE_KEYS))  # type: ignore[arg-type]
    return result
