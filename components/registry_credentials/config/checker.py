"""The one checker: a configuration (Python args or stack config) into a Plan, every setting checked exactly once.

Each folder checks its own settings (credentials/, verify/, service_accounts/, node/); this module runs them in
order and adds the checks that span folders. Every problem of a run is collected and reported together.
"""

from types import MappingProxyType
from typing import Any, Collection, Mapping, Optional

from ..checks.names import check_dns_subdomain
from ..checks.problems import Problems
from ..checks.values import ARGS, Source, check_known
from ..credentials.registries import check_registries
from ..errors import ConfigError
from ..node.settings import check_agent_source, check_node_bootstrap
from ..service_accounts.settings import check_namespaces
from ..verify import settings as verify_settings
from .plan import Plan

ARGS_SETTINGS = ("registries", "namespaces", "secret_name", "node_bootstrap", "verify")
"""The component's top-level settings (snake_case); stack config adds `passwords`."""


_REQUIRED = {
    "registries": "a list such as [{server: harbor.example.com, username: robot-puller, password: ...}]",
    "namespaces": "a list such as [{name: apps}], or [] for none",
}
"""What each setting a caller may be required to give looks like."""


def check_args(
    args: Any, component: Optional[str] = None, source: Source = ARGS, required: Collection[str] = ()
) -> Plan:
    """The Python API's args, or the plugin's inputs (`source` PLUGIN): the plan, or one ConfigError listing every
    problem.

    `component` is the component's name: the Secret's name when `secret_name` is not set. `required`: settings that
    must be given (the plugin's schema requires `registries` and `namespaces`).
    """
    where = "args" if source is ARGS else ""
    if not isinstance(args, Mapping):
        raise ConfigError(f"{where or 'inputs'}: must be a mapping such as {{registries: [...], namespaces: [...]}}")
    problems = Problems()
    problems.check(where, check_known, args, [source.name(s) for s in ARGS_SETTINGS])
    missing = [setting for setting in required if args.get(source.name(setting)) is None]
    problems.add(*(f"{source.name(setting)}: is required; give {_REQUIRED[setting]}" for setting in missing))
    return check(args, source, problems, component=component, reported=missing)


def check(
    config: Mapping[str, Any],
    source: Source,
    problems: Problems,
    *,
    component: Optional[str] = None,
    reported: Collection[str] = (),
    never_verified: Collection[int] = (),
) -> Plan:
    """Check every setting of `config`, spelled as `source` spells them, then raise every problem found at once.

    `reported`: top-level settings whose shape the caller has already reported (stack config says it its own way).
    """
    verify = verify_settings.check_default(config.get("verify"), problems)
    items = config.get("registries")
    registries = check_registries(
        items, problems, source, more_settings=verify_settings.CHECK_SETTINGS, reported="registries" in reported
    )
    checks = verify_settings.check_registries(
        items if isinstance(items, (list, tuple)) else [], problems, source, verify
    )
    namespaces = check_namespaces(config.get("namespaces"), problems, source)
    node = check_node_bootstrap(config.get(source.name("node_bootstrap")), problems, source)
    if node is not None and node.enabled:
        if node.namespace in {ns.name for ns in namespaces}:
            problems.add(
                f"{source.name('node_bootstrap')}.namespace: {node.namespace!r} is also in namespaces; the node "
                "agent runs a privileged workload, so give it a namespace of its own"
            )
        # Preview refuses what the agent would refuse, from the agent's own limits (checked again at render time
        # when passwords are Outputs: component._rendered).
        try:
            check_agent_source("registries", len(registries.entries), registries.rendered)
        except ConfigError as err:
            problems.add(*err.problems)
    field = source.name("secret_name")
    secret_name = None
    if field in config:
        secret_name = problems.check(field, check_dns_subdomain, config[field])
    elif component is not None:
        secret_name = problems.check(field, default_secret_name, component)
    problems.raise_all()
    return Plan(
        registries=registries,
        checks=MappingProxyType(checks),
        verify=verify,
        namespaces=namespaces,
        node=node,
        secret_name=secret_name,
        never_verified=frozenset(never_verified),
    )


def default_secret_name(field: str, component: str) -> str:
    """The component's name as the Secret's name, or a message that says to set secret_name."""
    try:
        return check_dns_subdomain(field, component)
    except ConfigError:
        raise ConfigError(
            f"{field}: not set, and the component name {component!r} is not a valid Kubernetes Secret name (lowercase "
            f"letters, digits, '-' and '.'); set {field}, e.g. 'registry-credentials'"
        ) from None
