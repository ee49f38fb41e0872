"""The Secret copy (job a) as far as it can be checked without running Kyverno or External Secrets.

What runs: the real API server validates every object the component emits against the engines' published CRDs
(structural schema and CEL rules: Kyverno 1.19.1 and 1.13.4, External Secrets 1.3.2, from their Go modules), and
RBAC answers, for the engines' own identities, whether they may do what the copy needs. What does not run: the
engines' controllers, so no copy is made here (docs/selected-namespaces.md says so).
"""

import json
from typing import Any, Dict, List

from toolchain.controlplane import ControlPlane
from toolchain.crds import crd
from toolchain.pins import read_versions

from registry_credentials.selected_namespaces.copies import copy_objects
from registry_credentials.selected_namespaces.selection import select
from registry_credentials.selected_namespaces.settings import SecretCopy, SelectedNamespaces

from e2e.scenario import assert_no_leak, dockerconfig, kubectl_dockerconfig, repo_stack, secret
from e2e.test_selected_namespaces import LABEL, OURS, PASSWORDS, REGISTRIES, install_crds, new_namespace

ENGINES = {  # secretCopy -> the stack and the namespaces it serves
    "kyverno": "kyverno",
    "kyverno-cluster-policy": "cluster-policy",
    "external-secrets": "eso",
}
PATHS = {
    "GeneratingPolicy": "/apis/policies.kyverno.io/v1/generatingpolicies",
    "ClusterPolicy": "/apis/kyverno.io/v1/clusterpolicies",
    "ClusterSecretStore": "/apis/external-secrets.io/v1/clustersecretstores",
    "ClusterExternalSecret": "/apis/external-secrets.io/v1/clusterexternalsecrets",
}


def can(cluster: ControlPlane, who: str, *request: str) -> bool:
    """`kubectl auth can-i` as `who` (impersonated: RBAC answers as for the real identity)."""
    result = cluster.kubectl("auth", "can-i", *request, f"--as={who}")
    assert result.stdout.strip() in ("yes", "no"), result.stderr
    return result.stdout.strip() == "yes"


def kyverno_controllers(cluster: ControlPlane) -> None:
    """Kyverno's controller ClusterRoles as its chart makes them: each aggregates every ClusterRole with its label
    (kyverno charts/kyverno/templates/*/clusterrole.yaml), bound to the controller's ServiceAccount."""
    for controller in ("admission", "background", "reports"):
        name = f"kyverno:{controller}-controller"
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
                "aggregationRule": {"clusterRoleSelectors": [
                    {"matchLabels": {f"rbac.kyverno.io/aggregate-to-{controller}-controller": "true"}}]}}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": name},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                   "subjects": [{"kind": "ServiceAccount", "name": f"kyverno-{controller}-controller",
                                 "namespace": "kyverno"}]}
        for body in (role, binding):
            result = cluster.kubectl("create", "-f", "-", input_text=json.dumps(body))
            assert result.returncode == 0, result.stderr


def kyverno(controller: str) -> str:
    return f"system:serviceaccount:kyverno:kyverno-{controller}-controller"


def objects_of(cluster: ControlPlane, kind: str) -> Dict[str, Any]:
    return {item["metadata"]["name"]: item for item in cluster.get(PATHS[kind])["items"]}


def pruned(sent: Any, stored: Any, where: str = "") -> List[str]:
    """What the API server dropped from what was sent (a CRD prunes fields its schema does not know)."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [where or "."]
        return [p for key, value in sent.items() for p in pruned(value, stored.get(key), f"{where}.{key}")]
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [where]
        return [p for i, value in enumerate(sent) for p in pruned(value, stored[i], f"{where}[{i}]")]
    return [] if sent == stored else [where]


def sent(copy: str, stack: str) -> List[Dict[str, Any]]:
    """The manifests the component renders for this stack (the pure half of what `up` registered)."""
    settings = SelectedNamespaces(secret_copy=SecretCopy(copy), match_labels=tuple(LABEL.items()),
                                  source_namespace=f"{stack}-source")
    selection = select(settings, OURS, f"registry-credentials/{stack}/registry-credentials", [stack])
    return copy_objects(selection, {})


def test_the_engines_accept_every_object_and_may_do_what_the_copy_needs(engine, control_plane):
    install_crds(control_plane, "generatingpolicies", "clusterpolicies", "clusterexternalsecrets",
                 "clustersecretstores")
    kyverno_controllers(control_plane)
    new_namespace(control_plane, "team-a", LABEL)
    # Before the component, Kyverno's controllers may not touch Secrets (its install withholds them).
    assert not can(control_plane, kyverno("background"), "create", "secrets", "-n", "team-a")
    stacks = {}
    for copy, name in ENGINES.items():
        new_namespace(control_plane, name)
        stacks[copy] = repo_stack(engine, control_plane, name, PASSWORDS, name=name, stack_config={
            "registries": REGISTRIES, "namespaces": [name],
            "selectedNamespaces": {"matchLabels": LABEL, "secretCopy": copy, "sourceNamespace": f"{name}-source"},
        })
        stacks[copy].up()  # every object goes through the CRD's validation: a rejection fails the run
        stacks[copy].assert_no_changes()
        for manifest in sent(copy, name):
            kind, meta = manifest["kind"], manifest["metadata"]
            if kind in PATHS:  # the engines' kinds: stored exactly as sent, nothing pruned as unknown
                stored = objects_of(control_plane, kind)[meta["name"]]
                assert pruned(manifest["spec"], stored["spec"]) == [], (kind, stored["spec"])
        # The source Secret is kubectl's, byte for byte once decoded: what every engine copies verbatim.
        source = f"{name}-source"
        assert dockerconfig(control_plane, source, OURS) == kubectl_dockerconfig(
            [{**REGISTRIES[0], "password": PASSWORDS["harbor"]}])
        assert_no_leak([stacks[copy].state(), stacks[copy].project.printed()],
                       [(REGISTRIES[0]["username"], PASSWORDS["harbor"])])

    # Kyverno: both forms stored as sent; its controllers may now read Secrets everywhere and the background
    # controller (which clones) write them, as the copy and its synchronisation need.
    for kind in ("GeneratingPolicy", "ClusterPolicy"):
        (stored,) = objects_of(control_plane, kind).values()
        assert stored["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pulumi"
    for controller in ("admission", "background", "reports"):
        assert can(control_plane, kyverno(controller), "watch", "secrets", "--all-namespaces")
    for verb in ("create", "update", "delete"):
        assert can(control_plane, kyverno("background"), verb, "secrets", "-n", "team-a")
        assert not can(control_plane, kyverno("admission"), verb, "secrets", "-n", "team-a")

    # External Secrets: the store's ServiceAccount may get the source Secret and nothing else, and the store's own
    # check (a SelfSubjectRulesReview for the source namespace) finds `get` on secrets there.
    store_user = None
    for name, store in objects_of(control_plane, "ClusterSecretStore").items():
        auth = store["spec"]["provider"]["kubernetes"]["auth"]["serviceAccount"]
        store_user = f"system:serviceaccount:{auth['namespace']}:{auth['name']}"
        assert auth["namespace"] == "eso-source" and store["spec"]["provider"]["kubernetes"]["remoteNamespace"] == \
            "eso-source"
    assert store_user is not None
    status, _ = control_plane.request("POST", "/api/v1/namespaces/eso-source/secrets",
                                      {"metadata": {"name": "other"}, "stringData": {"k": "v"}})
    assert status == 201
    assert can(control_plane, store_user, "get", f"secret/{OURS}", "-n", "eso-source")
    assert not can(control_plane, store_user, "get", "secret/other", "-n", "eso-source")
    assert not can(control_plane, store_user, "list", "secrets", "-n", "eso-source")
    assert not can(control_plane, store_user, "get", f"secret/{OURS}", "-n", "eso")
    rules = control_plane.kubectl("auth", "can-i", "--list", "-n", "eso-source", f"--as={store_user}")
    assert any(line.split()[:1] == ["secrets"] and f"[{OURS}]" in line and "[get]" in line
               for line in rules.stdout.splitlines()), rules.stdout
    read = control_plane.kubectl("get", "secret", OURS, "-n", "eso-source", "-o", "json", f"--as={store_user}")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["data"] == secret(control_plane, "eso-source", OURS)["data"]

    # The ClusterPolicy form for older Kyverno: the stored policy is valid for Kyverno 1.13.4's CRD too.
    (policy,) = objects_of(control_plane, "ClusterPolicy").values()
    old = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "from-1-19"},
           "spec": policy["spec"]}
    old_crd = crd("clusterpolicies", read_versions()["KYVERNO_OLD_MODULE_VERSION"])
    replaced = control_plane.kubectl("replace", "-f", str(old_crd))
    assert replaced.returncode == 0, replaced.stderr
    dry_run = control_plane.kubectl("create", "--dry-run=server", "-f", "-", input_text=json.dumps(old))
    assert dry_run.returncode == 0, dry_run.stderr

    # Destroy removes every object of each engine, the RBAC included.
    for stack in stacks.values():
        stack.destroy()
    for kind in ("GeneratingPolicy", "ClusterPolicy", "ClusterSecretStore", "ClusterExternalSecret"):
        assert objects_of(control_plane, kind) == {}
    assert not can(control_plane, kyverno("background"), "create", "secrets", "-n", "team-a")
    assert secret(control_plane, "eso-source", OURS) is None
