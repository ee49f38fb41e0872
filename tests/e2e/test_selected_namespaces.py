"""Namespaces selected by label, on the real API server: ServiceAccounts created after `up` carry the Secret.

The MutatingAdmissionPolicy runs in the API server itself, so every ServiceAccount below is mutated for real. The
engine that copies the Secret (Kyverno here) does not run: its CRD is installed so that the component's objects
are accepted, and tests/e2e/test_secret_copy.py checks those objects and the engines' access.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from pulumi import automation as auto

from toolchain.controlplane import ControlPlane
from toolchain.crds import crd

from e2e.scenario import DEV_PASSWORDS, managers, pull_secrets, repo_stack, secret

LABEL = {"registry-credentials.example.com/pull": "true"}
OURS = "registry-credentials"
THEIRS = "team-registry"
PASSWORDS = {"harbor": DEV_PASSWORDS["harbor"]}
REGISTRIES = [{"name": "harbor", "server": "harbor.dev.example.com", "username": "robot$dev+puller"}]
ADMISSION = "/apis/admissionregistration.k8s.io/v1"


def stack_config(namespaces: List[Any], copy: str = "kyverno") -> Dict[str, Any]:
    """The dev registry, `namespaces`, and the selection by LABEL with `copy` as the engine."""
    return {"registries": REGISTRIES, "namespaces": namespaces,
            "selectedNamespaces": {"matchLabels": LABEL, "secretCopy": copy}}


def install_crds(cluster: ControlPlane, *names: str, version: str = "") -> None:
    """The engines' published CRDs (toolchain/crds.py), established before anything uses them."""
    for name in names:
        result = cluster.kubectl("create", "-f", str(crd(name, version)), "-o", "name")
        assert result.returncode == 0, result.stderr
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{result.stdout.strip().split('/')[-1]}"

        def established() -> bool:
            conditions = ((cluster.get(path) or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        cluster.wait_until(established, what=f"{name} established")


def account(cluster: ControlPlane, namespace: str, name: str, pull: Optional[List[str]] = None,
            manager: str = "") -> Dict[str, Any]:
    """Create a ServiceAccount as a tool would: a POST (Helm's way), or a server-side apply by `manager` (Argo CD's)."""
    body: Dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount",
                            "metadata": {"name": name, "namespace": namespace}}
    if pull is not None:
        body["imagePullSecrets"] = [{"name": n} for n in pull]
    if manager:
        status, created = cluster.request(
            "PATCH", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}?fieldManager={manager}",
            json.dumps(body), content_type="application/apply-patch+yaml")
        assert status in (200, 201), created
    else:
        status, created = cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", body)
        assert status == 201, created
    return created


def owners_of_the_list(body: Dict[str, Any]) -> List[str]:
    """The field managers that own `imagePullSecrets` (an atomic list: owned whole or not at all)."""
    return [m["manager"] for m in body["metadata"].get("managedFields") or []
            if "f:imagePullSecrets" in (m.get("fieldsV1") or {})]


def new_namespace(cluster: ControlPlane, name: str, labels: Optional[Dict[str, str]] = None) -> None:
    cluster.create_namespace(name, labels)  # returns once its `default` ServiceAccount exists


def test_namespaces_and_service_accounts_created_after_up_carry_the_secret(engine, control_plane):
    install_crds(control_plane, "generatingpolicies")
    # `apps` carries the label too, but the component serves it itself: the policy leaves it out.
    new_namespace(control_plane, "apps", LABEL)
    stack = repo_stack(engine, control_plane, "dev", PASSWORDS, stack_config=stack_config(["apps"]))
    stack.up()
    (policy,) = control_plane.get(f"{ADMISSION}/mutatingadmissionpolicies")["items"]
    binding = control_plane.get(f"{ADMISSION}/mutatingadmissionpolicybindings/{policy['metadata']['name']}")
    selector = binding["spec"]["matchResources"]["namespaceSelector"]
    assert selector["matchLabels"] == LABEL
    assert selector["matchExpressions"] == [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                             "values": ["apps", "registry-credentials-source"]}]

    # A labelled namespace created after `up`: kube-controller-manager's `default` ServiceAccount carries ours,
    # and the mutation is owned by no field manager (managedFields are computed before mutating admission).
    new_namespace(control_plane, "team-a", LABEL)
    default = control_plane.get("/api/v1/namespaces/team-a/serviceaccounts/default")
    assert [e["name"] for e in default["imagePullSecrets"]] == [OURS]
    assert managers(default) == []

    # New named ServiceAccounts, as Helm (POST) and Argo CD (server-side apply) create them; others' entries kept.
    assert pull_secrets(control_plane, "team-a", account(control_plane, "team-a", "builder")["metadata"]["name"]) \
        == [OURS]
    account(control_plane, "team-a", "theirs", [THEIRS])
    assert pull_secrets(control_plane, "team-a", "theirs") == [THEIRS, OURS]
    account(control_plane, "team-a", "listed", [OURS])
    assert pull_secrets(control_plane, "team-a", "listed") == [OURS], "never added twice"
    applied = account(control_plane, "team-a", "argo", manager="argocd")
    assert [e["name"] for e in applied["imagePullSecrets"]] == [OURS] and owners_of_the_list(applied) == []
    applied = account(control_plane, "team-a", "argo-theirs", [THEIRS], manager="argocd")
    # The applier owns the whole atomic list, ours included; applying its own list again keeps ours (UPDATE).
    assert owners_of_the_list(applied) == ["argocd"]
    account(control_plane, "team-a", "argo-theirs", [THEIRS], manager="argocd")
    assert pull_secrets(control_plane, "team-a", "argo-theirs") == [THEIRS, OURS]

    # Unlabelled: untouched. Labelled only later: its existing ServiceAccounts get ours at their next change.
    new_namespace(control_plane, "plain")
    account(control_plane, "plain", "builder")
    assert pull_secrets(control_plane, "plain") == [] and pull_secrets(control_plane, "plain", "builder") == []
    new_namespace(control_plane, "late")
    assert control_plane.kubectl("label", "namespace", "late", *(f"{k}={v}" for k, v in LABEL.items())).returncode == 0
    assert pull_secrets(control_plane, "late") == []
    touched = control_plane.kubectl("annotate", "serviceaccount", "default", "-n", "late", "example.com/touch=1")
    assert touched.returncode == 0, touched.stderr
    assert pull_secrets(control_plane, "late") == [OURS]
    # The component's own namespace: only what it patches itself.
    account(control_plane, "apps", "ci")
    assert pull_secrets(control_plane, "apps", "ci") == [] and pull_secrets(control_plane, "apps") == [OURS]
    stack.assert_no_changes()

    # team-a joins `namespaces`: the entry the policy added is ours, so foreignPullSecrets: fail (the default)
    # does not trip; the binding now leaves team-a out, and the component patches its `default` itself.
    stack.set_config("namespaces[1]", "team-a")
    stack.up()
    default = control_plane.get("/api/v1/namespaces/team-a/serviceaccounts/default")
    assert [e["name"] for e in default["imagePullSecrets"]] == [OURS]
    assert any(m.startswith("pulumi-") for m in owners_of_the_list(default)), default["metadata"]["managedFields"]
    binding = control_plane.get(f"{ADMISSION}/mutatingadmissionpolicybindings/{policy['metadata']['name']}")
    assert binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["values"] == [
        "apps", "registry-credentials-source", "team-a"]
    stack.assert_no_changes()

    # Destroy removes the policy and its binding; ServiceAccounts keep what they list (as docs/selected-namespaces.md
    # says): the policy's entries stay, and so do `default`'s, which another manager co-owns since before our patch.
    stack.destroy()
    assert control_plane.get(f"{ADMISSION}/mutatingadmissionpolicies/{policy['metadata']['name']}") is None
    assert control_plane.get(f"{ADMISSION}/mutatingadmissionpolicybindings/{policy['metadata']['name']}") is None
    assert pull_secrets(control_plane, "team-a", "theirs") == [THEIRS, OURS]
    assert pull_secrets(control_plane, "team-a", "builder") == [OURS]
    assert pull_secrets(control_plane, "team-a") == [OURS]
    assert pull_secrets(control_plane, "apps") == []
    assert secret(control_plane, "registry-credentials-source", OURS) is None
    account(control_plane, "team-a", "after-destroy")
    assert pull_secrets(control_plane, "team-a", "after-destroy") == []


# A cluster too old for the API, as discovery shows it: no MutatingAdmissionPolicy at all (Kubernetes <= 1.33, or
# 1.34/1.35 without the gate), or only the beta API (1.34/1.35 with the gate). The admission plugin is turned off
# too: with its API off, 1.37's plugin cannot start its informers and the API server never becomes ready.
OLD_CLUSTERS = {
    "no-api": ["--disable-admission-plugins=MutatingAdmissionPolicy",
               "--runtime-config=admissionregistration.k8s.io/v1/mutatingadmissionpolicies=false,"
               "admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings=false"],
    "beta-only": ["--disable-admission-plugins=MutatingAdmissionPolicy",
                  "--runtime-config=admissionregistration.k8s.io/v1/mutatingadmissionpolicies=false,"
                  "admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings=false,"
                  "admissionregistration.k8s.io/v1beta1=true"],
}


@pytest.fixture
def old_cluster(engine_bin, request, tmp_path):
    plane = ControlPlane(Path(tmp_path / "cp"), engine_bin, apiserver_args=OLD_CLUSTERS[request.param])
    try:
        yield plane.start()
    finally:
        plane.stop()


@pytest.mark.parametrize("old_cluster", list(OLD_CLUSTERS), indirect=True)
def test_preview_says_so_on_a_cluster_without_the_admission_api(engine_bin, old_cluster, tmp_path, request):
    from toolchain.engine import Engine

    install_crds(old_cluster, "generatingpolicies")
    new_namespace(old_cluster, "apps")
    stack = repo_stack(Engine(engine_bin, tmp_path / "engine", old_cluster.kubeconfig), old_cluster, "dev",
                       PASSWORDS, stack_config=stack_config(["apps"]))
    for operation in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as failure:
            operation()
        message = str(failure.value)
        assert ("selectedNamespaces: this cluster (Kubernetes v1.37.2) does not serve admissionregistration.k8s.io/v1 "
                "MutatingAdmissionPolicy") in message
        assert ("serves only the beta API" in message) is ("beta" in request.node.callspec.id)
        assert "Traceback" not in message and PASSWORDS["harbor"] not in message
    assert secret(old_cluster, "apps", OURS) is None, "the run changed the cluster"


def test_preview_says_so_when_the_engine_is_not_installed(engine, control_plane):
    new_namespace(control_plane, "apps")
    for copy, missing in (("kyverno", "Kyverno's GeneratingPolicy"),
                          ("external-secrets", "External Secrets' ClusterExternalSecret and ClusterSecretStore")):
        stack = repo_stack(engine, control_plane, "dev", PASSWORDS, stack_config=stack_config(["apps"], copy),
                           name=copy)
        with pytest.raises(auto.CommandError) as failure:
            stack.preview()
        assert f"selectedNamespaces.secretCopy {copy}: this cluster (Kubernetes v1.37.2) does not serve {missing}" \
            in str(failure.value)
    install_crds(control_plane, "clusterpolicies")
    stack = repo_stack(engine, control_plane, "dev", PASSWORDS, stack_config=stack_config(["apps"]), name="hint")
    with pytest.raises(auto.CommandError) as failure:
        stack.preview()
    assert "This Kyverno serves ClusterPolicy: choose secretCopy kyverno-cluster-policy." in str(failure.value)
