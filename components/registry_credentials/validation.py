"""Checks of the component's args that run before anything is registered."""

from typing import Any, List, Mapping, Sequence, cast

import pulumi

from .args import NamespaceArgs
from .dockerconfig import Checked, check_registries, render_entries
from .errors import ConfigError
from .names import check_dns_label, check_dns_subdomain, check_unique
from .service_accounts import check_mode


def check_registry_args(registries: Any) -> Checked:
    """Validate `registries` (plain list; passwords may be Outputs, checked when known) and normalise servers."""
    if isinstance(registries, pulumi.Output):
        raise ConfigError("registries: must be a plain list (it decides which keys exist); pass passwords as Outputs")
    checked = check_registries(registries or [], passwords_known=False)
    passwords = [registries[entry.index].get("password") for entry in checked.entries]
    for entry, password in zip(checked.entries, passwords):
        if password is None or isinstance(password, str) and not password:
            raise ConfigError(f"{entry.label()}.password: must not be empty; set it as a secret")
    if all(isinstance(p, str) for p in passwords):
        # Plain passwords let the whole Secret (and its size limit) be checked now; Outputs are checked when known.
        render_entries(checked.entries, passwords)
    return checked


def check_namespace_args(namespaces: Any) -> List[NamespaceArgs]:
    """Validate `namespaces`: names, ServiceAccount lists and modes."""
    if isinstance(namespaces, pulumi.Output) or isinstance(namespaces, (str, bytes)):
        raise ConfigError("namespaces: must be a plain list of {name: ...} entries")
    result = []
    for index, namespace in enumerate(namespaces or []):
        where = f"namespaces[{index}]"
        if not isinstance(namespace, Mapping):
            raise ConfigError(f"{where}: expected a mapping like {{name: apps}}")
        check_dns_label(f"{where}.name", namespace.get("name"))
        _check_accounts(where, namespace)
        result.append(cast(NamespaceArgs, namespace))
    check_unique("namespaces", [ns["name"] for ns in result])
    return result


def _check_accounts(where: str, namespace: Mapping[str, Any]) -> None:
    check_mode(f"{where}.foreign_pull_secrets", namespace.get("foreign_pull_secrets", "fail"))
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
