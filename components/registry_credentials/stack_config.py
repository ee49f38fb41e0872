"""Read the stack's configuration into RegistryCredentialsArgs, failing with one message that says how to fix it."""

import re
from typing import Any, Dict, List, Mapping, cast

import pulumi
from pulumi.runtime.config import is_config_secret

from .args import NamespaceArgs, NodeBootstrapArgs, RegistryArgs, RegistryCredentialsArgs
from .component import reported_at_preview
from .dockerconfig import render_dockerconfigjson
from .errors import ConfigError
from .stack_files import PLACEHOLDER
from .verify_program import precheck

_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
# Stack config spells settings in camelCase, like Pulumi's own config; the component args are snake_case.
_NAMESPACE_KEYS = {
    "name": "name",
    "create": "create",
    "defaultServiceAccount": "default_service_account",
    "serviceAccounts": "service_accounts",
    "patchServiceAccounts": "patch_service_accounts",
    "foreignPullSecrets": "foreign_pull_secrets",
}
_REGISTRY_KEYS = {"caFile": "ca_file"}  # issue 12; the other registry settings are spelled the same
_NODE_KEYS = {
    "enabled": "enabled",
    "namespace": "namespace",
    "createNamespace": "create_namespace",
    "name": "name",
    "image": "image",
    "kubeletRootDir": "kubelet_root_dir",
    "intervalSeconds": "interval_seconds",
    "maxSurge": "max_surge",
    "tolerations": "tolerations",
    "nodeSelector": "node_selector",
    "priorityClassName": "priority_class_name",
}


def password_command(name: str) -> str:
    """The exact command that stores a registry's password as a secret."""
    # --type string: under --path, Pulumi turns "true", "false" and digits into booleans and numbers.
    return f"pulumi config set --secret --path --type string 'passwords.{name}' '<password>'"


def load_args(config: pulumi.Config) -> RegistryCredentialsArgs:
    """Build the component's args from stack config; passwords come only from the secret `passwords` object."""
    with reported_at_preview():
        return _load_args(config)


def _load_args(config: pulumi.Config) -> RegistryCredentialsArgs:
    raw = config.get_object("registries")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"{config.full_key('registries')}: set a list of registries in stacks/Pulumi.<stack>.yaml, e.g. "
            "[{name: harbor, server: harbor.example.com, username: robot-puller}]"
        )
    passwords = _load_passwords(config)
    registries: List[RegistryArgs] = []
    names: List[str] = []
    for index, item in enumerate(raw):
        registries.append(_registry(index, item, passwords, names))
    # The plaintext is at hand here: check the whole Secret (size included) before anything is registered.
    render_dockerconfigjson([{**r, "password": passwords[n]} for r, n in zip(registries, names)])
    unknown = sorted(set(passwords) - set(names))
    if unknown:
        raise ConfigError(
            f"passwords.{unknown[0]}: no registry is named {unknown[0]!r}; names are {', '.join(names)}"
        )
    args: RegistryCredentialsArgs = {
        "registries": registries,
        "namespaces": _namespaces(config.get_object("namespaces") or []),
    }
    secret_name = config.get("secretName")
    if secret_name:
        args["secret_name"] = secret_name
    node = config.get_object("nodeBootstrap")
    if node is not None:
        args["node_bootstrap"] = _node_bootstrap(node)
    _verify(config, args, [passwords[n] for n in names])
    return args


def _verify(config: pulumi.Config, args: RegistryCredentialsArgs, passwords: List[str]) -> None:
    """Issue 12: `verify` setting, and the credentials check while the plaintext is at hand (before registering)."""
    if config.get("verify") is not None:
        args["verify"] = config.get("verify")
    precheck(args, passwords, unknown=PLACEHOLDER)


def _renamed(where: str, item: Mapping[str, Any], keys: Mapping[str, str]) -> Dict[str, Any]:
    """Map camelCase config settings to snake_case args, refusing unknown ones by name."""
    unknown = sorted(set(item) - set(keys))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown setting; allowed: {', '.join(sorted(keys))}")
    return {keys[key]: value for key, value in item.items()}


def _node_bootstrap(raw: Any) -> NodeBootstrapArgs:
    if not isinstance(raw, dict):
        raise ConfigError("nodeBootstrap: must be an object such as {enabled: true}")
    return cast(NodeBootstrapArgs, _renamed("nodeBootstrap", raw, _NODE_KEYS))


def _load_passwords(config: pulumi.Config) -> Dict[str, str]:
    key = config.full_key("passwords")
    passwords = config.get_object("passwords") or {}
    if not isinstance(passwords, dict):
        raise ConfigError(f"{key}: must be an object of registry name -> password, set with {password_command('NAME')}")
    if passwords and not is_config_secret(key):
        raise ConfigError(
            f"{key}: is stored in plain text. Remove it (pulumi config rm passwords) and set each password "
            f"with {password_command('NAME')}"
        )
    return passwords


def _registry(index: int, item: Any, passwords: Mapping[str, Any], names: List[str]) -> RegistryArgs:
    where = f"registries[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected {{name, server, username[, email]}}")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
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
    registry: RegistryArgs = {  # type: ignore[assignment]
        _REGISTRY_KEYS.get(key, key): value for key, value in item.items() if key != "name"
    }
    # Secret from the moment it leaves config: nothing downstream ever sees it as a plain value.
    registry["password"] = pulumi.Output.secret(password)
    return registry


def _namespaces(raw: Any) -> List[NamespaceArgs]:
    if not isinstance(raw, list):
        raise ConfigError("namespaces: must be a list such as [{name: apps}]")
    result: List[NamespaceArgs] = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(f"namespaces[{index}]: expected {{name: ...}} or a namespace name")
        result.append(cast(NamespaceArgs, _renamed(f"namespaces[{index}]", item, _NAMESPACE_KEYS)))
    return result
