"""Methods 2 and 3, settings: which namespaces get the Secret, and which of their ServiceAccounts carry it."""

from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from ..checks.names import check_dns_label, check_dns_subdomain, check_unique
from ..checks.problems import Problems
from ..checks.values import Source, check_choice, check_known
from ..errors import ConfigError


class ForeignPullSecrets(str, Enum):
    """What to do when a patched ServiceAccount already lists pull secrets someone else set."""

    FAIL = "fail"
    """Stop with an explanation (default): adding ours would take ownership of their entries."""
    KEEP = "keep"
    """Keep their entries, force ownership of the list, and retain the patch on destroy."""

    @classmethod
    def default(cls) -> "ForeignPullSecrets":
        """The mode of a namespace that does not choose one."""
        return cls.FAIL


NAMESPACE_SETTINGS = (
    "name", "create", "default_service_account", "service_accounts", "patch_service_accounts", "foreign_pull_secrets",
)
"""A namespace's settings (snake_case)."""
DEFAULT = "default"


@dataclass(frozen=True)
class Namespace:
    """One checked namespace: whether it is created, and the ServiceAccounts that carry the Secret."""

    name: str
    create: bool = False
    default_service_account: bool = True
    service_accounts: Tuple[str, ...] = ()
    """Created by the component, with the Secret (method 2)."""
    patch_service_accounts: Tuple[str, ...] = ()
    """Existing ones the Secret is added to (method 2)."""
    foreign_pull_secrets: ForeignPullSecrets = ForeignPullSecrets.FAIL

    @property
    def patched(self) -> Tuple[str, ...]:
        """Every ServiceAccount that is patched, `default` first when method 3 is on."""
        return ((DEFAULT,) if self.default_service_account else ()) + self.patch_service_accounts


def check_namespaces(items: Any, problems: Problems, source: Source) -> Tuple[Namespace, ...]:
    """Check `namespaces`: names, ServiceAccount lists and modes, every problem into `problems`."""
    if items is None:
        return ()
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        problems.add("namespaces: must be a plain list of {name: ...} entries")
        return ()
    result: List[Namespace] = []
    for index, item in enumerate(items):
        namespace = _check_one(f"namespaces[{index}]", item, problems, source)
        if namespace is not None:
            result.append(namespace)
    problems.check("namespaces", check_unique, [ns.name for ns in result])
    return tuple(result)


def _check_one(where: str, item: Any, problems: Problems, source: Source) -> Optional[Namespace]:
    if not isinstance(item, Mapping):
        problems.add(f"{where}: expected a mapping like {{name: apps}}")
        return None
    problems.check(where, check_known, item, [source.name(s) for s in NAMESPACE_SETTINGS])
    name = problems.check(f"{where}.name", check_dns_label, item.get("name"))
    flags = {}
    for flag in ("create", "default_service_account"):
        key = source.name(flag)
        flags[flag] = problems.check(f"{where}.{key}", source.on_off, item[key]) if key in item else None
    mode = None
    key = source.name("foreign_pull_secrets")
    if key in item:
        mode = problems.check(f"{where}.{key}", check_choice, item[key], ForeignPullSecrets)
    lists = {
        field: problems.check(f"{where}.{source.name(field)}", _check_accounts, item.get(source.name(field)), source)
        for field in ("service_accounts", "patch_service_accounts")
    }
    created, patched = lists["service_accounts"], lists["patch_service_accounts"]
    if created is not None and patched is not None:
        for both in sorted(set(created) & set(patched)):
            problems.add(
                f"{where}: {both!r} is in both {source.name('service_accounts')} and "
                f"{source.name('patch_service_accounts')}; pick one"
            )
    if flags["create"] and patched:
        problems.add(
            f"{where}.{source.name('patch_service_accounts')}: a namespace this component creates has no existing "
            f"ServiceAccounts to patch; list them under {source.name('service_accounts')} to create them"
        )
    if name is None or created is None or patched is None:
        return None
    return Namespace(
        name=name,
        create=bool(flags["create"]),
        default_service_account=flags["default_service_account"] is not False,
        service_accounts=created,
        patch_service_accounts=patched,
        foreign_pull_secrets=mode or ForeignPullSecrets.default(),
    )


def _check_accounts(field: str, names: Any, source: Source) -> Tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ConfigError(f"{field}: must be a list of ServiceAccount names")
    problems = []
    for i, account in enumerate(names):
        try:
            check_dns_subdomain(f"{field}[{i}]", account)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        if account == DEFAULT:
            problems.append(
                f"{field}[{i}]: 'default' is handled by {source.name('default_service_account')} (it always exists "
                "and must be patched, never declared); remove it from this list"
            )
    try:
        check_unique(field, list(names))
    except ConfigError as err:
        problems.extend(err.problems)
    if problems:
        raise ConfigError(*problems)
    return tuple(names)
