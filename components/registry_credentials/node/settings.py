"""Method 1, settings: `node_bootstrap`, each setting checked once into NodeBootstrap (no Pulumi here)."""

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from ..checks.names import (
    check_dns_label,
    check_dns_subdomain,
    check_label_value,
    check_qualified_name,
    has_control_chars,
)
from ..checks.problems import Problems
from ..checks.spelling import camel
from ..checks.values import Source, check_known, settings_object
from ..errors import ConfigError
from .script import agent_constants, agent_function

NODE_SETTINGS = (
    "enabled", "namespace", "create_namespace", "name", "image", "kubelet_root_dir", "interval_seconds",
    "max_surge", "tolerations", "node_selector", "priority_class_name",
)
"""The settings of `node_bootstrap` (snake_case)."""
TOLERATION_SETTINGS = ("key", "operator", "value", "effect", "toleration_seconds")
"""A toleration's settings; the Python API accepts their PodSpec (camelCase) spelling too."""
DEFAULT_IMAGE = "python:3.13-alpine"
DEFAULT_NAMESPACE = "registry-credentials-node"
DEFAULT_NAME = "registry-credentials-node-agent"
DEFAULT_ROOT_DIR = "/var/lib/kubelet"
DEFAULT_MAX_SURGE = "10%"
MIN_INTERVAL = 5
MAX_SURGE_NODES = 5000
"""A surge count above Kubernetes' largest supported cluster (5,000 nodes) is a typo, not a setting."""
_SURGE = re.compile(r"([1-9][0-9]*|([1-9][0-9]?|100)%)")
# core/v1 Toleration: operator Exists or Equal (empty means Equal); effect empty (all) or one of the taint effects.
_OPERATORS = ("Exists", "Equal")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_OPTIONAL = ("node_selector", "priority_class_name")
"""Settings whose empty value means "not set"."""
_ON_OFF = ("enabled", "create_namespace")


def default_interval() -> int:
    """The agent's own default interval, in whole seconds."""
    return int(agent_constants()["DEFAULT_INTERVAL"])


@dataclass(frozen=True)
class NodeBootstrap:
    """Checked node-bootstrap settings; every one of them is checked even when `enabled` is false."""

    enabled: bool = False
    namespace: str = DEFAULT_NAMESPACE
    create_namespace: bool = True
    name: str = DEFAULT_NAME
    image: str = DEFAULT_IMAGE
    kubelet_root_dir: str = DEFAULT_ROOT_DIR
    interval_seconds: int = field(default_factory=default_interval)
    max_surge: str = DEFAULT_MAX_SURGE
    tolerations: Tuple[Dict[str, Any], ...] = ({"operator": "Exists"},)
    """Default: tolerate every taint, so every node gets the file. Always in the PodSpec (camelCase) spelling."""
    node_selector: Optional[Dict[str, str]] = None
    priority_class_name: Optional[str] = None
    warnings: Tuple[str, ...] = ()


def check_node_bootstrap(options: Any, problems: Problems, source: Source) -> Optional[NodeBootstrap]:
    """Check `node_bootstrap` (all of it, even when off, so a mistake surfaces before someone switches it on)."""
    if options is None:
        return None
    where = source.name("node_bootstrap")
    options = settings_object(where, options, [source.name(s) for s in NODE_SETTINGS], "{enabled: true}", problems)
    if options is None:
        return None
    checks = {
        # Only a real boolean turns the privileged DaemonSet on: "false" is a non-empty string, hence truthy.
        "enabled": source.on_off,
        "create_namespace": source.on_off,
        "namespace": check_dns_label,
        "name": check_dns_label,
        "image": _check_image,
        "kubelet_root_dir": _check_root_dir,
        "interval_seconds": _check_interval,
        "max_surge": _check_max_surge,
        "tolerations": lambda field, value: _check_tolerations(field, value, source),
        "node_selector": _check_node_selector,
        "priority_class_name": check_dns_subdomain,
    }
    settings: Dict[str, Any] = {}
    valid = True
    for setting, check in checks.items():
        key = source.name(setting)
        if key not in options or (setting in _OPTIONAL and not options[key]):
            continue
        result = problems.check(f"{where}.{key}", check, options[key])
        if result is None and not (setting in _ON_OFF and options[key] is None):
            valid = False
        elif result is not None:
            settings[setting] = result
    if not valid:
        return None
    image = settings.get("image", DEFAULT_IMAGE)
    warnings = []
    if not _has_tag_or_digest(image):
        warnings.append(
            f"the node agent's image {image!r} has no tag or digest, so every node runs whatever :latest is when "
            "it pulls; pin it, e.g. python:3.13-alpine or name@sha256:..."
        )
    return NodeBootstrap(**settings, warnings=tuple(warnings))


def check_agent_source(field: str, registries: int, rendered: Optional[str] = None) -> None:
    """Refuse what the node agent would refuse as its source (node/agent.py load_source and its MAX_* limits).

    `registries`: how many `auths` keys the source holds; `rendered`: the `.dockerconfigjson`, once it is known.
    """
    limits = agent_constants()
    most = limits["MAX_SOURCE_ENTRIES"]
    if registries > most:
        raise ConfigError(
            f"{field}: with node bootstrap on, the node agent takes at most {most} registries, and there are "
            f"{registries}; split them across several component instances"
        )
    if rendered is None:
        return
    data = rendered.encode("utf-8")
    if len(data) > limits["MAX_SOURCE_BYTES"] or agent_function("too_many_items")(data):
        raise ConfigError(
            f"{field}: with node bootstrap on, the node agent reads a .dockerconfigjson of at most "
            f"{limits['MAX_SOURCE_BYTES']} bytes and {limits['MAX_JSON_ITEMS']} JSON items (the characters '{{', "
            "'[', ',' and ':', those in passwords included), and this one is larger; split the registries across "
            "several component instances"
        )


def _check_image(field: str, image: Any) -> str:
    if not isinstance(image, str) or not image or any(c.isspace() or has_control_chars(c) for c in image):
        raise ConfigError(f"{field}: must be an image reference such as python:3.13-alpine")
    return image


def _check_root_dir(field: str, root: Any) -> str:
    if (not isinstance(root, str) or not root.startswith("/") or "/../" in f"{root}/" or root.rstrip("/") == ""
            or has_control_chars(root)):
        raise ConfigError(f"{field}: must be the kubelet's absolute --root-dir, e.g. /var/lib/kubelet")
    return root.rstrip("/")


def _check_interval(field: str, interval: Any) -> int:
    most = int(agent_constants()["MAX_INTERVAL"])
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not MIN_INTERVAL <= interval <= most:
        raise ConfigError(f"{field}: must be a number of seconds from {MIN_INTERVAL} to {most}")
    return int(interval)


def _check_max_surge(field: str, surge: Any) -> str:
    surge = str(surge)
    if not _SURGE.fullmatch(surge) or surge.isdigit() and int(surge) > MAX_SURGE_NODES:
        raise ConfigError(
            f"{field}: must be a count from 1 to {MAX_SURGE_NODES} (e.g. 5) or a percentage from 1% to 100% (e.g. 10%)"
        )
    return surge


def _has_tag_or_digest(image: str) -> bool:
    # A tag is a ':' after the last '/' (a ':' before it is the registry's port).
    return "@" in image or ":" in image.rsplit("/", 1)[-1]


def _check_tolerations(field_name: str, raw: Any, source: Source) -> Tuple[Dict[str, Any], ...]:
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"{field_name}: must be a list of tolerations, e.g. [{{operator: Exists}}]")
    # Stack config spells them as a PodSpec does; the Python API accepts both spellings.
    allowed = {camel(s) for s in TOLERATION_SETTINGS} | {source.name(s) for s in TOLERATION_SETTINGS}
    problems = Problems()
    result = [problems.check(f"{field_name}[{index}]", _check_toleration, item, allowed, source)
              for index, item in enumerate(raw)]
    problems.raise_all()
    return tuple(result)


def _check_toleration(where: str, item: Any, allowed: "set[str]", source: Source) -> Dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping")
    check_known(where, item, allowed)
    converted = {camel(key): value for key, value in item.items()}
    seconds_field = f"{where}.{source.name('toleration_seconds')}"
    operator = converted.get("operator", "Equal")
    if operator not in _OPERATORS:
        raise ConfigError(f"{where}.operator: must be Exists or Equal, not {operator!r}")
    effect = converted.get("effect", "")
    if effect not in ("", *_EFFECTS):
        raise ConfigError(f"{where}.effect: must be one of {', '.join(_EFFECTS)} (or empty for all), not {effect!r}")
    # The API server's rules (k8s.io/kubernetes pkg/apis/core/validation ValidateTolerations).
    if operator == "Exists" and converted.get("value"):
        raise ConfigError(f"{where}.value: must be empty when operator is Exists")
    if operator == "Equal" and not converted.get("key"):
        raise ConfigError(f"{where}.operator: must be Exists when key is empty (it then tolerates every taint)")
    for name in ("key", "value"):
        if name in converted and not isinstance(converted[name], str):
            raise ConfigError(f"{where}.{name}: must be a string")
    # ValidateTolerations: a key is a label key (ValidateLabelName), an Equal value a label value.
    if converted.get("key"):
        check_qualified_name(f"{where}.key", converted["key"])
    if operator == "Equal":
        check_label_value(f"{where}.value", converted.get("value", ""))
    seconds = converted.get("tolerationSeconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
        raise ConfigError(f"{seconds_field}: must be a whole number of seconds")
    if seconds is not None and effect != "NoExecute":
        raise ConfigError(f"{seconds_field}: only applies with effect NoExecute")
    return converted


def _check_node_selector(field: str, raw: Any) -> Dict[str, str]:
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigError(f"{field}: must map label names to string values")
    for key, value in raw.items():
        check_qualified_name(field, key)
        check_label_value(f"{field}[{key!r}]", value)
    return dict(raw)

