"""Namespaces selected by label, settings: `selected_namespaces`, checked once into SelectedNamespaces (no Pulumi)."""

from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..checks.names import check_dns_label, check_label_value, check_qualified_name
from ..checks.problems import Problems
from ..checks.spelling import Spelling
from ..checks.values import Source, check_choice, check_known, settings_object
from ..errors import ConfigError


class SecretCopy(str, Enum):
    """The engine, already running in the cluster, that copies the pull Secret into each selected namespace."""

    KYVERNO = "kyverno"
    """A Kyverno GeneratingPolicy (`policies.kyverno.io/v1`) that clones the source Secret and keeps it in sync."""
    KYVERNO_CLUSTER_POLICY = "kyverno-cluster-policy"
    """The same as a Kyverno ClusterPolicy (`kyverno.io/v1`), for Kyverno releases without GeneratingPolicy."""
    EXTERNAL_SECRETS = "external-secrets"
    """An External Secrets ClusterExternalSecret that reads the source Secret through its Kubernetes provider."""


SELECTED_SETTINGS = ("match_labels", "match_expressions", "secret_copy", "source_namespace", "create_source_namespace")
"""The settings of `selected_namespaces` (snake_case)."""
EXPRESSION_SETTINGS = ("key", "operator", "values")
"""A label selector requirement's settings, spelled as in a LabelSelector."""
DEFAULT_SOURCE_NAMESPACE = "registry-credentials-source"
# apimachinery pkg/apis/meta/v1/validation ValidateLabelSelectorRequirement: In and NotIn need values, Exists and
# DoesNotExist take none.
_WITH_VALUES = ("In", "NotIn")
_WITHOUT_VALUES = ("Exists", "DoesNotExist")


@dataclass(frozen=True)
class SelectedNamespaces:
    """Checked `selected_namespaces`: which namespaces (by label), which engine copies the Secret, and from where."""

    secret_copy: SecretCopy
    match_labels: Tuple[Tuple[str, str], ...] = ()
    match_expressions: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = ()
    """(key, operator, values) requirements, ANDed with each other and with match_labels."""
    source_namespace: str = DEFAULT_SOURCE_NAMESPACE
    create_source_namespace: bool = True
    spelling: Spelling = Spelling.SNAKE
    """How the settings were spelled, so messages about them later (the cluster's APIs) spell them the same."""

    def selector(self) -> Dict[str, Any]:
        """The namespaces' label selector, as a Kubernetes LabelSelector."""
        selector: Dict[str, Any] = {}
        if self.match_labels:
            selector["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            selector["matchExpressions"] = [requirement(*r) for r in self.match_expressions]
        return selector

    def args(self) -> Dict[str, Any]:
        """These settings as the component's args (snake_case)."""
        return {
            "match_labels": dict(self.match_labels),
            "match_expressions": [requirement(*r) for r in self.match_expressions],
            "secret_copy": self.secret_copy,
            "source_namespace": self.source_namespace,
            "create_source_namespace": self.create_source_namespace,
        }


def requirement(key: str, operator: str, values: Sequence[str] = ()) -> Dict[str, Any]:
    """One LabelSelectorRequirement; `values` only where the operator takes them."""
    return {"key": key, "operator": operator, **({"values": list(values)} if operator in _WITH_VALUES else {})}


def check_selected_namespaces(options: Any, problems: Problems, source: Source) -> Optional[SelectedNamespaces]:
    """Check `selected_namespaces` (None when not set): every problem into `problems`."""
    if options is None:
        return None
    where = source.name("selected_namespaces")
    options = settings_object(where, options, [source.name(s) for s in SELECTED_SETTINGS],
                              "{matchLabels: {team: a}, secretCopy: kyverno}", problems)
    if options is None:
        return None
    field = {name: f"{where}.{source.name(name)}" for name in SELECTED_SETTINGS}
    value = {name: options.get(source.name(name)) for name in SELECTED_SETTINGS}
    copy = None
    if value["secret_copy"] is None:
        problems.add(
            f"{field['secret_copy']}: choose the engine that copies the Secret into each selected namespace: "
            f"{', '.join(m.value for m in SecretCopy)} (it must already run in the cluster)"
        )
    else:
        copy = problems.check(field["secret_copy"], check_choice, value["secret_copy"], SecretCopy)
    labels = problems.check(field["match_labels"], _check_labels, value["match_labels"])
    expressions = problems.check(field["match_expressions"], _check_expressions, value["match_expressions"])
    if labels == () and expressions == ():
        problems.add(
            f"{where}: set {source.name('match_labels')} (or {source.name('match_expressions')}); an empty "
            "selector would select every namespace, kube-system included"
        )
    namespace = DEFAULT_SOURCE_NAMESPACE
    if value["source_namespace"] is not None:
        namespace = problems.check(field["source_namespace"], check_dns_label, value["source_namespace"])
    create = True
    if source.name("create_source_namespace") in options:
        create = problems.check(field["create_source_namespace"], source.on_off, value["create_source_namespace"])
    if copy is None or labels is None or expressions is None or namespace is None or create is None:
        return None
    return SelectedNamespaces(secret_copy=copy, match_labels=labels, match_expressions=expressions,
                              source_namespace=namespace, create_source_namespace=create, spelling=source.spelling)


def _check_labels(field: str, raw: Any) -> Tuple[Tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(f"{field}: must map label names to string values, e.g. {{team: a}}")
    problems = Problems()
    for key, value in raw.items():
        problems.check(f"{field}[{key!r}]", _check_label, key, value)
    problems.raise_all()
    return tuple(sorted(raw.items()))


def _check_label(field: str, key: Any, value: str) -> None:
    check_qualified_name(field, key)
    check_label_value(field, value)


def _check_expressions(field: str, raw: Any) -> Tuple[Tuple[str, str, Tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence):
        raise ConfigError(f"{field}: must be a list such as [{{key: team, operator: In, values: [a, b]}}]")
    problems = Problems()
    checked = [problems.check(f"{field}[{index}]", _check_expression, item) for index, item in enumerate(raw)]
    problems.raise_all()
    return tuple(item for item in checked if item is not None)


def _check_expression(where: str, item: Any) -> Tuple[str, str, Tuple[str, ...]]:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping such as {{key: team, operator: In, values: [a]}}")
    check_known(where, item, EXPRESSION_SETTINGS)
    key = check_qualified_name(f"{where}.key", item.get("key"))
    operator = item.get("operator")
    if operator not in (*_WITH_VALUES, *_WITHOUT_VALUES):
        raise ConfigError(f"{where}.operator: must be one of {', '.join((*_WITH_VALUES, *_WITHOUT_VALUES))}, "
                          f"not {operator!r}")
    values = item.get("values")
    if operator in _WITHOUT_VALUES:
        if values:
            raise ConfigError(f"{where}.values: must be empty with operator {operator}")
        return key, operator, ()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ConfigError(f"{where}.values: operator {operator} needs a non-empty list of label values")
    checked: List[str] = [check_label_value(f"{where}.values[{i}]", v) for i, v in enumerate(values)]
    return key, operator, tuple(checked)
