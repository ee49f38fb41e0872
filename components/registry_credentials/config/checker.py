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
from ..credentials.rotation import EXPIRY_SETTINGS, check_expiry_settings, expiry_findings, previous_name
from ..errors import ConfigError
from ..node.settings import check_agent_source, check_node_bootstrap
from ..selected_namespaces.settings import check_selected_namespaces
from ..service_accounts.settings import check_namespaces
from ..verify import settings as verify_settings
from .plan import Plan

ARGS_SETTINGS = ("registries", "namespaces", "secret_name", "node_bootstrap", "verify", "selected_namespaces",
                 *EXPIRY_SETTINGS)
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
    enforce_expiry: bool = True,
) -> Plan:
    """Check every setting of `config`, spelled as `source` spells them, then raise every problem found at once.

    `reported`: top-level settings whose shape the caller has already reported (stack config says it its own way).
    Without `enforce_expiry` (explain), a credential past its `expires` date is reported as a warning, not refused.
    """
    verify = verify_settings.check_default(config.get("verify"), problems)
    expiry = check_expiry_settings(config, problems, source)
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
            # The node file holds each live previous credential too, under a second key.
            check_agent_source("registries", len(registries.node_credentials()), registries.rendered_node)
        except ConfigError as err:
            problems.add(*err.problems)
    selected = check_selected_namespaces(config.get(source.name("selected_namespaces")), problems, source)
    if selected is not None:
        field = f"{source.name('selected_namespaces')}.{source.name('source_namespace')}"
        if selected.source_namespace in {ns.name for ns in namespaces}:
            problems.add(
                f"{field}: {selected.source_namespace!r} is also in namespaces; the source Secret gets a namespace of "
                "its own, where nothing else runs and the copying engine may read only that Secret"
            )
        if node is not None and node.enabled and selected.source_namespace == node.namespace:
            problems.add(f"{field}: {selected.source_namespace!r} is the node agent's namespace; give it its own")
    field = source.name("secret_name")
    secret_name = None
    if field in config:
        secret_name = problems.check(field, check_dns_subdomain, config[field])
    elif component is not None:
        secret_name = problems.check(field, default_secret_name, component)
    if secret_name is not None and registries.rotating:
        problems.check(field, _check_previous_name, secret_name)
    date_warnings, date_problems = expiry_findings(registries.entries, expiry, registries.today)
    if enforce_expiry:
        problems.add(*date_problems)
    else:
        date_warnings += date_problems
    problems.raise_all()
    manages = namespaces or (node is not None and node.enabled) or selected is not None
    notes = () if manages else (idle_warning(source),)
    return Plan(
        registries=registries,
        checks=MappingProxyType(checks),
        verify=verify,
        namespaces=namespaces,
        node=node,
        selected=selected,
        secret_name=secret_name,
        never_verified=frozenset(never_verified),
        expiry=expiry,
        date_warnings=tuple(date_warnings),
        notes=notes,
    )


def idle_warning(source: Source) -> str:
    """What preview and render say when a configuration manages nothing in the cluster, and what to add."""
    namespaces, node = source.name("namespaces"), source.name("node_bootstrap")
    selected = source.name("selected_namespaces")
    return (
        f"nothing to manage: no namespace is listed or selected and `{node}` is off, so this creates no pull Secret "
        "and changes nothing in the cluster (only the dockerconfigjson output is set). List a namespace in "
        f"`{namespaces}` (e.g. name: apps) for methods 2-4 (or select namespaces by label with `{selected}`), or set "
        f"`{node}.enabled` to true for method 1"
    )


def _check_previous_name(field: str, secret_name: str) -> str:
    """While a window is live, `<secret_name>-previous` must be a valid Secret name too."""
    return check_dns_subdomain(f"{field} (with the -previous suffix of the outgoing credentials' Secret)",
                               previous_name(secret_name))


def default_secret_name(field: str, component: str) -> str:
    """The component's name as the Secret's name, or a message that says to set secret_name."""
    try:
        return check_dns_subdomain(field, component)
    except ConfigError:
        raise ConfigError(
            f"{field}: not set, and the component name {component!r} is not a valid Kubernetes Secret name (lowercase "
            f"letters, digits, '-' and '.'); set {field}, e.g. 'registry-credentials'"
        ) from None
