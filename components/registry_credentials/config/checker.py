"""Checks of the component's args that run before anything is registered."""

import inspect
from typing import Any, List, Mapping, Sequence, cast

import pulumi

from ..errors import ConfigError
from ..credentials.dockerconfig import Checked, check_registries, render_entries
from ..checks.names import check_dns_label, check_dns_subdomain, check_unique
from ..checks.values import ARGS_KEYS, NAMESPACE_KEYS, check_bool, check_choice, check_known
from ..args import NamespaceArgs


def check_registry_args(registries: Any) -> Checked:
    """Validate `registries` (plain list; passwords may be Outputs, checked when known) and normalise servers."""
    if isinstance(registries, pulumi.Output):
        raise ConfigError("registries: must be a plain list (it decides which keys exist); pass passwords as Outputs")
    checked = check_registries(registries or [], passwords_known=False)
    passwords = [registries[entry.index].get("password") for entry in checked.entries]
    for entry, password in zip(checked.entries, passwords):
        if isinstance(password, (pulumi.Output, pulumi.output.Unknown)) or inspect.isawaitable(password):
            # Checked when known, in render_entries. A bare Unknown is how the engine sends Construct a password
            # that is not known yet in preview (a multi-language consumer's computed secret).
            continue
        if password is not None and not isinstance(password, str):
            # Fail here, once, rather than deep inside an apply where the message would be lost.
            raise ConfigError(
                f"{entry.label()}.password: must be a string or a pulumi.Output of one, "
                f"not {type(password).__name__}"
            )
        if not password or not password.strip():
            raise ConfigError(f"{entry.label()}.password: must not be empty or only whitespace; set it as a secret")
    if all(isinstance(p, str) for p in passwords):
        # Plain passwords let the whole Secret (and its size limit) be checked now; Outputs are checked when known.
        render_entries(checked.entries, passwords)
    return checked


def check_args_keys(args: Any) -> None:
    """Refuse unknown top-level args (snake_case, as the Python API spells them) with a "did you mean" hint."""
    if not isinstance(args, Mapping):
        raise ConfigError("args: must be a mapping such as {registries: [...], namespaces: [...]}")
    check_known("args", args, ARGS_KEYS.values())
    if args.get("verify") is not None:
        check_choice("verify", args["verify"], "verify")


def check_namespace_args(namespaces: Any) -> List[NamespaceArgs]:
    """Validate `namespaces`: names, ServiceAccount lists and modes."""
    if isinstance(namespaces, pulumi.Output) or isinstance(namespaces, (str, bytes)):
        raise ConfigError("namespaces: must be a plain list of {name: ...} entries")
    result = []
    for index, namespace in enumerate(namespaces or []):
        where = f"namespaces[{index}]"
        if not isinstance(namespace, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{name: apps}}")
        check_known(where, namespace, NAMESPACE_KEYS.values())
        check_dns_label(f"{where}.name", namespace.get("name"))
        for flag in ("create", "default_service_account"):
            check_bool(f"{where}.{flag}", namespace.get(flag))
        _check_accounts(where, namespace)
        result.append(cast(NamespaceArgs, namespace))
    check_unique("namespaces", [ns["name"] for ns in result])
    return result


def _check_accounts(where: str, namespace: Mapping[str, Any]) -> None:
    check_choice(f"{where}.foreign_pull_secrets", namespace.get("foreign_pull_secrets", "fail"), "foreign_pull_secrets")
    lists = {}
    for field in ("service_accounts", "patch_service_accounts"):
        names = namespace.get(field) or []
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise ConfigError(f"{where}.{field}: must be a list of ServiceAccount names")
        for i, account in enumerate(names):
            check_dns_subdomain(f"{where}.{field}[{i}]", account)
            if account == "default":
                raise ConfigError(
                    f"{where}.{field}[{i}]: 'default' is handled by default_service_account (it always exists and "
                    "must be patched, never declared); remove it from this list"
                )
        check_unique(f"{where}.{field}", list(names))
        lists[field] = set(names)
    both = sorted(lists["service_accounts"] & lists["patch_service_accounts"])
    if both:
        raise ConfigError(f"{where}: {both[0]!r} is in both service_accounts and patch_service_accounts; pick one")
    if namespace.get("create") and lists["patch_service_accounts"]:
        raise ConfigError(
            f"{where}.patch_service_accounts: a namespace this component creates has no existing ServiceAccounts to "
            "patch; list them under service_accounts to create them"
        )
