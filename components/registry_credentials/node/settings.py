"""Method 1, pure part: validated node-bootstrap settings and the DaemonSet's pod template (no Pulumi here).

Design (see kubernetes-facts §1 and §7):
- the kubelet reads `{root-dir}/config.json`, caches it 5 minutes and re-reads it, so no restart is needed;
- only the root-dir *directory* is mounted (a file mount would keep the old inode after the atomic rename);
- hostPath is forbidden below the `privileged` Pod Security level, so the namespace is labelled for it;
- uid 0 writes the root-owned directory with every capability dropped, no escalation, a read-only root fs;
- the agent makes no API calls, so the pod gets no ServiceAccount token;
- rollouts surge (maxUnavailable 0): the new agent owns the keys before the old one releases them, so a node
  never goes without credentials, and a percentage keeps large clusters fast.
"""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import ConfigError
from ..checks.names import check_dns_label, check_dns_subdomain, check_label_value, has_control_chars
from ..checks.values import NODE_KEYS, TOLERATION_KEYS, check_bool, check_known

AGENT_PATH = Path(__file__).with_name("agent.py")
DEFAULT_IMAGE = "python:3.13-alpine"
DEFAULT_NAMESPACE = "registry-credentials-node"
DEFAULT_NAME = "registry-credentials-node-agent"
DEFAULT_ROOT_DIR = "/var/lib/kubelet"
DEFAULT_INTERVAL = 60
DEFAULT_MAX_SURGE = "10%"
ROLLOUT_ANNOTATION = "registry-credentials.pulumi.com/credentials-revision"
AGENT_ANNOTATION = "registry-credentials.pulumi.com/agent-sha256"
PRIVILEGED_LABELS = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
}
READY_FILE = "/tmp/registry-credentials-ready"
_SOURCE_DIR = "/etc/registry-credentials"
_AGENT_DIR = "/opt/registry-credentials"
_HOST_DIR = "/host/kubelet"
_LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_SURGE = re.compile(r"([1-9][0-9]*|([1-9][0-9]?|100)%)")
MAX_SURGE_NODES = 5000
"""A surge count above Kubernetes' largest supported cluster (5,000 nodes) is a typo, not a setting."""
_OPTION_KEYS = tuple(NODE_KEYS.values())
_TOLERATION_KEYS = {snake: camel for camel, snake in TOLERATION_KEYS.items()}
# core/v1 Toleration: operator Exists or Equal (empty means Equal); effect empty (all) or one of the taint effects.
_OPERATORS = ("Exists", "Equal")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True)
class NodeBootstrap:
    """Validated node-bootstrap settings."""

    namespace: str = DEFAULT_NAMESPACE
    create_namespace: bool = True
    name: str = DEFAULT_NAME
    image: str = DEFAULT_IMAGE
    kubelet_root_dir: str = DEFAULT_ROOT_DIR
    interval_seconds: int = DEFAULT_INTERVAL
    max_surge: str = DEFAULT_MAX_SURGE
    tolerations: List[Dict[str, Any]] = field(default_factory=lambda: [{"operator": "Exists"}])
    node_selector: Optional[Dict[str, str]] = None
    priority_class_name: Optional[str] = None
    warnings: Tuple[str, ...] = ()


def check_node_bootstrap(options: Any) -> Optional[NodeBootstrap]:
    """Validate `node_bootstrap` args (all of them, even when off); None when it is absent or not enabled."""
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise ConfigError("node_bootstrap: expected a mapping such as {enabled: true}")
    check_known("node_bootstrap", options, _OPTION_KEYS)
    # Only a real boolean turns the privileged DaemonSet on: "false" is a non-empty string, hence truthy.
    enabled = check_bool("node_bootstrap.enabled", options.get("enabled"))
    # The other settings are checked even when off, so a mistake surfaces before someone switches it on.
    create_namespace = check_bool("node_bootstrap.create_namespace", options.get("create_namespace"))
    defaults = NodeBootstrap()
    root = options.get("kubelet_root_dir", defaults.kubelet_root_dir)
    if (not isinstance(root, str) or not root.startswith("/") or "/../" in f"{root}/" or root.rstrip("/") == ""
            or has_control_chars(root)):
        raise ConfigError(
            "node_bootstrap.kubelet_root_dir: must be the kubelet's absolute --root-dir, e.g. /var/lib/kubelet"
        )
    interval = options.get("interval_seconds", defaults.interval_seconds)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 5 <= interval <= 86400:
        raise ConfigError("node_bootstrap.interval_seconds: must be a number of seconds from 5 to 86400")
    surge = str(options.get("max_surge", defaults.max_surge))
    if not _SURGE.fullmatch(surge) or surge.isdigit() and int(surge) > MAX_SURGE_NODES:
        raise ConfigError(
            f"node_bootstrap.max_surge: must be a count from 1 to {MAX_SURGE_NODES} (e.g. 5) or a percentage "
            "from 1% to 100% (e.g. 10%)"
        )
    image = options.get("image", defaults.image)
    if not isinstance(image, str) or not image or any(c.isspace() or has_control_chars(c) for c in image):
        raise ConfigError("node_bootstrap.image: must be an image reference such as python:3.13-alpine")
    warnings = []
    if not _has_tag_or_digest(image):
        warnings.append(
            f"the node agent's image {image!r} has no tag or digest, so every node runs whatever :latest is when "
            "it pulls; pin it, e.g. python:3.13-alpine or name@sha256:..."
        )
    priority = options.get("priority_class_name")
    settings = NodeBootstrap(
        namespace=check_dns_label("node_bootstrap.namespace", options.get("namespace", defaults.namespace)),
        create_namespace=True if create_namespace is None else create_namespace,
        name=check_dns_label("node_bootstrap.name", options.get("name", defaults.name)),
        image=image,
        kubelet_root_dir=root.rstrip("/"),
        interval_seconds=int(interval),
        max_surge=surge,
        tolerations=_tolerations(options.get("tolerations", defaults.tolerations)),
        node_selector=_node_selector(options.get("node_selector")),
        priority_class_name=check_dns_subdomain("node_bootstrap.priority_class_name", priority) if priority else None,
        warnings=tuple(warnings),
    )
    return settings if enabled else None


def _has_tag_or_digest(image: str) -> bool:
    # A tag is a ':' after the last '/' (a ':' before it is the registry's port).
    return "@" in image or ":" in image.rsplit("/", 1)[-1]


def _tolerations(raw: Any) -> List[Dict[str, Any]]:
    if not isinstance(raw, (list, tuple)):
        raise ConfigError("node_bootstrap.tolerations: must be a list of tolerations, e.g. [{operator: Exists}]")
    result = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"node_bootstrap.tolerations[{index}]: expected a mapping")
        where = f"node_bootstrap.tolerations[{index}]"
        # Accept both the args' snake_case and Kubernetes' camelCase spelling.
        check_known(where, item, [*_TOLERATION_KEYS, *_TOLERATION_KEYS.values()])
        converted = {_TOLERATION_KEYS.get(key, key): value for key, value in item.items()}
        operator = converted.get("operator", "Equal")
        if operator not in _OPERATORS:
            raise ConfigError(f"{where}.operator: must be Exists or Equal, not {operator!r}")
        effect = converted.get("effect", "")
        if effect not in ("", *_EFFECTS):
            raise ConfigError(
                f"{where}.effect: must be one of {', '.join(_EFFECTS)} (or empty for all), not {effect!r}"
            )
        # The API server's rules (k8s.io/kubernetes pkg/apis/core/validation ValidateTolerations).
        if operator == "Exists" and converted.get("value"):
            raise ConfigError(f"{where}.value: must be empty when operator is Exists")
        if operator == "Equal" and not converted.get("key"):
            raise ConfigError(f"{where}.operator: must be Exists when key is empty (it then tolerates every taint)")
        for field_name in ("key", "value"):
            if field_name in converted and not isinstance(converted[field_name], str):
                raise ConfigError(f"{where}.{field_name}: must be a string")
        seconds = converted.get("tolerationSeconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
            raise ConfigError(f"{where}.toleration_seconds: must be a whole number of seconds")
        if seconds is not None and effect != "NoExecute":
            raise ConfigError(f"{where}.toleration_seconds: only applies with effect NoExecute")
        result.append(converted)
    return result


def _node_selector(raw: Any) -> Optional[Dict[str, str]]:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigError("node_bootstrap.node_selector: must map label names to string values")
    for key, value in raw.items():
        prefix, _, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not _LABEL_PREFIX.fullmatch(prefix))) or len(name) > 63 \
                or not _LABEL_NAME.fullmatch(name):
            raise ConfigError(f"node_bootstrap.node_selector: {key!r} is not a valid label name")
        check_label_value(f"node_bootstrap.node_selector[{key!r}]", value)
    return dict(raw)


def agent_script() -> str:
    """The node agent's source, shipped to the nodes in a ConfigMap."""
    return AGENT_PATH.read_text(encoding="utf-8")


def agent_digest() -> str:
    """sha256 of the agent script: a new script rolls the DaemonSet."""
    return hashlib.sha256(agent_script().encode("utf-8")).hexdigest()


def selector_labels(options: NodeBootstrap, instance: str) -> Dict[str, str]:
    """Labels that select the agent pods of one component instance."""
    return {"app.kubernetes.io/name": options.name, "app.kubernetes.io/instance": instance}


def pod_spec(options: NodeBootstrap, secret_name: str) -> Dict[str, Any]:
    """The agent's PodSpec (camelCase, as the API takes it)."""
    spec: Dict[str, Any] = {
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": secret_name}],
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": options.tolerations,
        "terminationGracePeriodSeconds": 30,
        "containers": [_container(options)],
        "volumes": [
            {"name": "kubelet-root", "hostPath": {"path": options.kubelet_root_dir, "type": "Directory"}},
            {"name": "source", "secret": {"secretName": secret_name, "defaultMode": 0o400,
                                          "items": [{"key": ".dockerconfigjson", "path": ".dockerconfigjson"}]}},
            {"name": "agent", "configMap": {"name": options.name, "defaultMode": 0o444}},
            {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        ],
    }
    if options.node_selector:
        spec["nodeSelector"] = options.node_selector
    if options.priority_class_name:
        spec["priorityClassName"] = options.priority_class_name
    return spec


def _container(options: NodeBootstrap) -> Dict[str, Any]:
    return {
        "name": "agent",
        "image": options.image,
        "command": [
            "python3", "-u", f"{_AGENT_DIR}/node_agent.py",
            "--source", f"{_SOURCE_DIR}/.dockerconfigjson",
            "--kubelet-root", _HOST_DIR,
            "--interval", str(options.interval_seconds),
            "--ready-file", READY_FILE,
        ],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ],
        "readinessProbe": {
            "exec": {"command": ["python3", "-c", f"import os,sys; sys.exit(not os.path.exists('{READY_FILE}'))"]},
            "periodSeconds": 10,
        },
        # The limit covers the agent at its size caps with headroom (bench/node_agent_bench.py --memory: about
        # 60 MiB peak with source, config.json and state all at their caps; 20 MiB for a typical node).
        "resources": {"requests": {"cpu": "5m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": {
            "runAsUser": 0,
            "runAsGroup": 0,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "kubelet-root", "mountPath": _HOST_DIR},
            {"name": "source", "mountPath": _SOURCE_DIR, "readOnly": True},
            {"name": "agent", "mountPath": _AGENT_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def update_strategy(options: NodeBootstrap) -> Dict[str, Any]:
    """Surge, never unavailable: see the module docstring."""
    surge: Any = int(options.max_surge) if options.max_surge.isdigit() else options.max_surge
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": 0}}
