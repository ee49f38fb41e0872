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
from typing import Any, Dict, List, Mapping, Optional

from .errors import ConfigError
from .names import check_dns_label, check_dns_subdomain

AGENT_PATH = Path(__file__).with_name("node_agent.py")
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
_SURGE = re.compile(r"^([1-9][0-9]*|([1-9][0-9]?|100)%)$")
_OPTION_KEYS = {
    "enabled", "namespace", "create_namespace", "name", "image", "kubelet_root_dir", "interval_seconds",
    "max_surge", "tolerations", "node_selector", "priority_class_name",
}
_TOLERATION_KEYS = {"key": "key", "operator": "operator", "value": "value", "effect": "effect",
                    "toleration_seconds": "tolerationSeconds"}


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


def check_node_bootstrap(options: Any) -> Optional[NodeBootstrap]:
    """Validate `node_bootstrap` args; None when it is absent or not enabled."""
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise ConfigError("node_bootstrap: expected a mapping such as {enabled: true}")
    unknown = sorted(set(options) - _OPTION_KEYS)
    if unknown:
        raise ConfigError(f"node_bootstrap.{unknown[0]}: unknown setting; allowed: {', '.join(sorted(_OPTION_KEYS))}")
    if not options.get("enabled", False):
        return None
    defaults = NodeBootstrap()
    root = options.get("kubelet_root_dir", defaults.kubelet_root_dir)
    if not isinstance(root, str) or not root.startswith("/") or "/../" in f"{root}/" or root.rstrip("/") == "":
        raise ConfigError(
            "node_bootstrap.kubelet_root_dir: must be the kubelet's absolute --root-dir, e.g. /var/lib/kubelet"
        )
    interval = options.get("interval_seconds", defaults.interval_seconds)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 5 <= interval <= 86400:
        raise ConfigError("node_bootstrap.interval_seconds: must be a number of seconds from 5 to 86400")
    surge = str(options.get("max_surge", defaults.max_surge))
    if not _SURGE.match(surge):
        raise ConfigError("node_bootstrap.max_surge: must be a positive count (e.g. 5) or a percentage (e.g. 10%)")
    image = options.get("image", defaults.image)
    if not isinstance(image, str) or not image or any(c.isspace() for c in image):
        raise ConfigError("node_bootstrap.image: must be an image reference such as python:3.13-alpine")
    priority = options.get("priority_class_name")
    return NodeBootstrap(
        namespace=check_dns_label("node_bootstrap.namespace", options.get("namespace", defaults.namespace)),
        create_namespace=bool(options.get("create_namespace", True)),
        name=check_dns_label("node_bootstrap.name", options.get("name", defaults.name)),
        image=image,
        kubelet_root_dir=root.rstrip("/"),
        interval_seconds=int(interval),
        max_surge=surge,
        tolerations=_tolerations(options.get("tolerations", defaults.tolerations)),
        node_selector=_node_selector(options.get("node_selector")),
        priority_class_name=check_dns_subdomain("node_bootstrap.priority_class_name", priority) if priority else None,
    )


def _tolerations(raw: Any) -> List[Dict[str, Any]]:
    if not isinstance(raw, (list, tuple)):
        raise ConfigError("node_bootstrap.tolerations: must be a list of tolerations, e.g. [{operator: Exists}]")
    result = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"node_bootstrap.tolerations[{index}]: expected a mapping")
        converted = {}
        for key, value in item.items():
            # Accept both the args' snake_case and Kubernetes' camelCase spelling.
            wire = _TOLERATION_KEYS.get(key) or (key if key in _TOLERATION_KEYS.values() else None)
            if wire is None:
                raise ConfigError(f"node_bootstrap.tolerations[{index}].{key}: unknown field")
            converted[wire] = value
        result.append(converted)
    return result


def _node_selector(raw: Any) -> Optional[Dict[str, str]]:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigError("node_bootstrap.node_selector: must map label names to string values")
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
