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
from ..node.settings import check_node_bootstrap
from ..service_accounts.settings import check_namespaces
from ..verify import settings as verify_settings
from .plan import Plan

ARGS_SETTINGS = ("registries", "namespaces", "secret_name", "node_bootstrap", "verify")
"""The component's top-level settings (snake_case); stack config adds `passwords`."""


def check_args(args: Any, component: Optional[str] = None) -> Plan:
    """The Python API's (and the plugin's) args: the plan, or one ConfigError listing every problem.

    `component` is the component's name: the Secret's name when `secret_name` is not set.
    """
    if not isinstance(args, Mapping):
        raise ConfigError("args: must be a mapping such as {registries: [...], namespaces: [...]}")
    problems = Problems()
    problems.check("args", check_known, args, ARGS_SETTINGS)
    return check(args, ARGS, problems, component=component)


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
    if node is not None and node.enabled and node.namespace in {ns.name for ns in namespaces}:
        problems.add(
            f"{source.name('node_bootstrap')}.namespace: {node.namespace!r} is also in namespaces; the node agent "
            "runs a privileged workload, so give it a namespace of its own"
        )
    field = source.name("secret_name")
    secret_name = None
    if field in config:
        secret_name = problems.check(field, check_dns_subdomain, config[field])
    elif component is not None:
        secret_name = problems.check(field, default_secret_name, component)
    problems.raise_all()
    notes = () if namespaces or (node is not None and node.enabled) else (idle_warning(source),)
    return Plan(
        registries=registries,
        checks=MappingProxyType(checks),
        verify=verify,
        namespaces=namespaces,
        node=node,
        secret_name=secret_name,
        never_verified=frozenset(never_verified),
        notes=notes,
    )


def idle_warning(source: Source) -> str:
    """What preview and render say when a configuration manages nothing in the cluster, and what to add."""
    namespaces, node = source.name("namespaces"), source.name("node_bootstrap")
    return (
        f"nothing to manage: no namespace is listed and `{node}` is off, so this creates no pull Secret and changes "
        f"nothing in the cluster (only the dockerconfigjson output is set). List a namespace in `{namespaces}` "
        f"(e.g. name: apps) for methods 2-4, or set `{node}.enabled` to true for method 1"
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
