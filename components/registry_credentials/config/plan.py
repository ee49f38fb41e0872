"""The plan: every setting of one component instance, checked once and normalised. The component builds from it."""

from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional, Tuple

from ..credentials.registries import Registries
from ..credentials.rotation import ExpirySettings
from ..node.settings import NodeBootstrap
from ..selected_namespaces.settings import SelectedNamespaces
from ..service_accounts.settings import Namespace
from ..verify.settings import RegistrySetting, VerifyMode


@dataclass(frozen=True)
class Plan:
    """What the configuration says, checked: registries, how each is verified, namespaces, node bootstrap."""

    registries: Registries
    checks: Mapping[int, RegistrySetting]
    """How each registry's credentials are checked against it, by registry index."""
    verify: VerifyMode
    """The run's default mode (a registry's own `verify` overrides it)."""
    namespaces: Tuple[Namespace, ...] = ()
    node: Optional[NodeBootstrap] = None
    """None when `node_bootstrap` is not set; see `node.enabled`."""
    secret_name: Optional[str] = None
    """None: the component's own name."""
    selected: Optional[SelectedNamespaces] = None
    """None when `selected_namespaces` is not set."""
    never_verified: FrozenSet[int] = frozenset()
    """Registries whose password is a placeholder (the offline render cannot decrypt it): never checked."""
    expiry: ExpirySettings = ExpirySettings()
    date_warnings: Tuple[str, ...] = ()
    """Credentials that expire soon (or have expired, with `expired_credentials: warn`)."""
    notes: Tuple[str, ...] = ()
    """Warnings about the configuration as a whole (one that manages nothing)."""

    @property
    def warnings(self) -> Tuple[str, ...]:
        """Preview warnings about the settings themselves."""
        return (*self.registries.warnings, *(self.node.warnings if self.node else ()), *self.date_warnings,
                *self.notes)

    @property
    def node_enabled(self) -> Optional[NodeBootstrap]:
        """The node bootstrap settings when method 1 is on."""
        return self.node if self.node is not None and self.node.enabled else None

    def args(self, password: Callable[[Any], Any]) -> Dict[str, Any]:
        """The plan as RegistryCredentialsArgs (snake_case, every value normalised); `password` wraps each password."""
        registries = []
        for position, (entry, secret) in enumerate(zip(self.registries.entries, self.registries.passwords)):
            check = self.checks[entry.index]
            registry: Dict[str, Any] = {
                "server": entry.server, "username": entry.username, "password": password(secret),
            }
            if entry.email:
                registry["email"] = entry.email
            if entry.expires:
                registry["expires"] = entry.expires.isoformat()
            previous = self.registries.previous_of(position)
            if previous is not None:
                registry["previous"] = {"username": previous.username, "until": previous.until.isoformat(),
                                        "password": password(self.registries.previous_passwords[position])}
            registry["verify"] = check.mode
            if check.ca_file:
                registry["ca_file"] = check.ca_file
            if check.insecure:
                registry["insecure"] = True
            registries.append(registry)
        args: Dict[str, Any] = {
            "registries": registries,
            "namespaces": [
                {"name": ns.name, "create": ns.create, "default_service_account": ns.default_service_account,
                 "service_accounts": list(ns.service_accounts),
                 "patch_service_accounts": list(ns.patch_service_accounts),
                 "foreign_pull_secrets": ns.foreign_pull_secrets}
                for ns in self.namespaces
            ],
            "verify": self.verify,
            "expiry_warning_days": self.expiry.warning_days,
            "expired_credentials": self.expiry.expired,
        }
        if self.secret_name is not None:
            args["secret_name"] = self.secret_name
        if self.node is not None:
            node = {name: getattr(self.node, name) for name in (
                "enabled", "namespace", "create_namespace", "name", "image", "kubelet_root_dir", "interval_seconds",
                "max_surge", "node_selector", "priority_class_name") if getattr(self.node, name) is not None}
            node["tolerations"] = [dict(t) for t in self.node.tolerations]
            args["node_bootstrap"] = node
        if self.selected is not None:
            args["selected_namespaces"] = self.selected.args()
        return args


class StackArgs(Dict[str, Any]):
    """Component args read from stack config, carrying the plan they were checked into, so nothing is checked twice.

    A caller may still change them before building the component: then the plan no longer applies, and the
    component checks them again as Python args.
    """

    def __init__(self, args: Mapping[str, Any], plan: Plan) -> None:
        super().__init__(args)
        self.plan = plan
        self._as_read = _frozen(self)

    def checked_plan(self) -> Optional[Plan]:
        """The plan, while the args are still exactly as they were read."""
        return self.plan if _frozen(self) == self._as_read else None


def _frozen(value: Any) -> Any:
    # Outputs compare by identity, which is what "unchanged" means for a password.
    if isinstance(value, Mapping):
        return tuple((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value
