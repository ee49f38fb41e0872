"""Method 1 under mocks: the DaemonSet, its namespace, ConfigMap and Secret, and their security settings."""

import hashlib

import pytest
from pulumi.runtime import rpc

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from support.agent import AGENT
from support.records import manifest_bodies, plaintext_of, unwrap, validate_strict

REGISTRY = {"server": "harbor.example.com", "username": "robot$node", "password": "N0de-S3cret-pw"}
DS = "kubernetes:apps/v1:DaemonSet"


def build(node=None, namespaces=({"name": "apps"},)):
    args = {"registries": [REGISTRY], "namespaces": list(namespaces), "secret_name": "pull",
            "node_bootstrap": {"enabled": True, **(node or {})}}
    return run_program(lambda: RegistryCredentials("rc", args))


def daemonset(run):
    (ds,) = run.of_type(DS)
    return unwrap(ds.inputs)


def test_off_by_default():
    run = run_program(lambda: RegistryCredentials("rc", {"registries": [REGISTRY], "namespaces": [{"name": "apps"}]}))
    assert run.of_type(DS) == [] and run.of_type("random:index/randomId:RandomId") == []
    run = build({"enabled": False})
    assert run.of_type(DS) == []


def test_own_namespace_labelled_privileged_with_its_own_secret():
    run = build()
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert namespace.inputs["metadata"]["name"] == "registry-credentials-node"
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    secrets = {s.inputs["metadata"]["namespace"]: s for s in run.of_type("kubernetes:core/v1:Secret")}
    assert set(secrets) == {"apps", "registry-credentials-node"}
    assert rpc.is_rpc_secret(secrets["registry-credentials-node"].inputs["data"])


def test_given_namespace_is_not_created():
    run = build({"namespace": "kube-system", "create_namespace": False})
    assert run.of_type("kubernetes:core/v1:Namespace") == []
    assert daemonset(run)["metadata"]["namespace"] == "kube-system"


def test_agent_script_comes_from_a_configmap_and_rolls_the_pods_when_it_changes():
    run = build()
    (config_map,) = run.of_type("kubernetes:core/v1:ConfigMap")
    script = AGENT.read_text()
    assert config_map.inputs["data"] == {"node_agent.py": script}
    annotations = daemonset(run)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["registry-credentials.pulumi.com/agent-sha256"] == hashlib.sha256(script.encode()).hexdigest()


def test_pod_security_and_mounts():
    spec = daemonset(build())["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["securityContext"] == {
        "runAsUser": 0, "runAsGroup": 0, "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
    }
    assert "privileged" not in container["securityContext"]
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert not any(k in spec for k in ("hostNetwork", "hostPID", "hostIPC", "serviceAccountName"))
    host_paths = [v["hostPath"] for v in spec["volumes"] if "hostPath" in v]
    assert host_paths == [{"path": "/var/lib/kubelet", "type": "Directory"}]
    (source,) = [v for v in spec["volumes"] if "secret" in v]
    assert source["secret"]["secretName"] == "pull"
    assert "env" not in container or all("secretKeyRef" not in str(e) for e in container["env"])
    assert spec["imagePullSecrets"] == [{"name": "pull"}]
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert container["resources"]["limits"] == {"cpu": "100m", "memory": "128Mi"}  # the agent's caps fit (bench)
    assert container["image"] == "python:3.13-alpine"
    assert "readinessProbe" in container


def test_options_reach_the_pod():
    spec = daemonset(build({
        "kubelet_root_dir": "/var/snap/microk8s/common/var/lib/kubelet/", "image": "harbor.example.com/py:3.12",
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute", "toleration_seconds": 30}],
        "node_selector": {"kubernetes.io/os": "linux"}, "priority_class_name": "node-critical", "interval_seconds": 120,
    }))["spec"]["template"]["spec"]
    assert spec["volumes"][0]["hostPath"]["path"] == "/var/snap/microk8s/common/var/lib/kubelet"
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["priorityClassName"] == "node-critical"
    assert spec["containers"][0]["image"] == "harbor.example.com/py:3.12"
    assert spec["containers"][0]["command"][-3] == "120"


def test_rolling_update_surges_and_never_leaves_a_node_without_an_agent():
    strategy = daemonset(build())["spec"]["updateStrategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": 0}}
    assert daemonset(build({"max_surge": "3"}))["spec"]["updateStrategy"]["rollingUpdate"]["maxSurge"] == 3


def test_rollout_annotation_is_a_random_token_keyed_on_a_secret_digest():
    run = build()
    (rollout,) = run.of_type("random:index/randomId:RandomId")
    assert rpc.is_rpc_secret(rollout.inputs["keepers"])  # the credential digest stays encrypted in state
    (ds,) = run.of_type(DS)
    template = ds.inputs["spec"]["template"]
    assert not rpc.is_rpc_secret(template) and not rpc.is_rpc_secret(template["metadata"])
    assert template["metadata"]["annotations"]["registry-credentials.pulumi.com/credentials-revision"] == "0a1b2c3d"
    assert any(d.endswith("Secret::rc:registry-credentials-node") for d in ds.dependencies)
    assert REGISTRY["password"] not in plaintext_of(run)


def test_manifests_validate_strictly():
    bodies = manifest_bodies(build().records)
    assert {"Namespace", "Secret", "ConfigMap", "DaemonSet", "ServiceAccount"} == {b["kind"] for b in bodies}
    for body in bodies:
        validate_strict(body)


BAD = [
    ({"kubelet_root_dir": "var/lib/kubelet"}, "node_bootstrap.kubelet_root_dir"),
    ({"kubelet_root_dir": "/"}, "node_bootstrap.kubelet_root_dir"),
    ({"interval_seconds": 0}, "node_bootstrap.interval_seconds"),
    ({"max_surge": "0"}, "node_bootstrap.max_surge"),
    ({"max_surge": "150%"}, "node_bootstrap.max_surge"),
    ({"namespace": "Node"}, "node_bootstrap.namespace"),
    ({"namespace": "apps"}, "also in namespaces"),
    ({"tolerations": [{"keyy": "x"}]}, "tolerations[0].keyy"),
    ({"node_selector": {"a": 1}}, "node_bootstrap.node_selector"),
    ({"image": "bad image"}, "node_bootstrap.image"),
    ({"imagee": "x"}, "node_bootstrap.imagee: unknown setting"),
]


@pytest.mark.parametrize("node, message", BAD, ids=[m for _, m in BAD])
def test_bad_settings_register_nothing(node, message):
    mocks = RecordingMocks()
    args = {"registries": [REGISTRY], "namespaces": [{"name": "apps"}], "node_bootstrap": {"enabled": True, **node}}
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("rc", args), mocks=mocks)
    assert message in str(raised.value)
    assert mocks.records == []
