"""Method 1, pure part: the agent's script and the DaemonSet's pod template, as data (no Pulumi here).

Design:
- the kubelet reads `{root-dir}/config.json`, caches it 5 minutes and re-reads it, so no restart is needed
  (kubernetes/kubernetes pkg/credentialprovider/config.go `ReadDockerConfigFile`, provider.go
  `CachingDockerConfigProvider`);
- only the root-dir *directory* is mounted: a bind-mounted file keeps the old inode after the atomic rename;
- hostPath is forbidden below the `privileged` Pod Security level (kubernetes/pod-security-admission
  policy/check_hostPathVolumes.go), so the namespace is labelled for it;
- uid 0 owns the root directory, so it can write there with every capability dropped, no escalation and a
  read-only root filesystem;
- the agent makes no API calls, so the pod gets no ServiceAccount token;
- rollouts surge (maxUnavailable 0): the new agent owns the keys before the old one releases them, so a node
  never goes without credentials, and a percentage keeps large clusters fast.
"""

from typing import Any, Dict

from .script import SCRIPT_KEY, agent_constants
from .settings import NodeBootstrap

ROLLOUT_ANNOTATION = "registry-credentials.pulumi.com/credentials-revision"
AGENT_ANNOTATION = "registry-credentials.pulumi.com/agent-sha256"
PRIVILEGED_LABELS = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
}
_SOURCE_DIR = "/etc/registry-credentials"
_AGENT_DIR = "/opt/registry-credentials"
_HOST_DIR = "/host/kubelet"


def selector_labels(options: NodeBootstrap, instance: str) -> Dict[str, str]:
    """Labels that select the agent pods of one component instance."""
    return {"app.kubernetes.io/name": options.name, "app.kubernetes.io/instance": instance}


def pod_spec(options: NodeBootstrap, secret_name: str) -> Dict[str, Any]:
    """The agent's PodSpec (camelCase, as the API takes it)."""
    spec: Dict[str, Any] = {
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": secret_name}],
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": list(options.tolerations),
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
        spec["nodeSelector"] = dict(options.node_selector)
    if options.priority_class_name:
        spec["priorityClassName"] = options.priority_class_name
    return spec


def _container(options: NodeBootstrap) -> Dict[str, Any]:
    ready_file = agent_constants()["DEFAULT_READY_FILE"]
    return {
        "name": "agent",
        "image": options.image,
        "command": [
            "python3", "-u", f"{_AGENT_DIR}/{SCRIPT_KEY}",
            "--source", f"{_SOURCE_DIR}/.dockerconfigjson",
            "--kubelet-root", _HOST_DIR,
            "--interval", str(options.interval_seconds),
            "--ready-file", ready_file,
        ],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ],
        "readinessProbe": {
            "exec": {"command": ["python3", "-c", f"import os,sys; sys.exit(not os.path.exists('{ready_file}'))"]},
            "periodSeconds": 10,
        },
        # The limit covers the agent at its size caps with headroom (bench/node_agent_bench.py --memory: about
        # 46 MiB peak with source, config.json and state all at their caps; 20 MiB for a typical node).
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
