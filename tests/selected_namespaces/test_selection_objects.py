"""The objects the selection emits: valid for Kubernetes 1.37, shaped as the engines document them, names stable.

The engines' CRDs check these objects on the real API server (tests/e2e/test_secret_copy.py); here each object
is held against the fields its upstream documentation shows, so a field that is valid but means something else
(or an example's key spelled differently) is caught too. Each table row cites where the field is documented.
"""

from typing import Any, Dict, List

import kubernetes_validate
import pytest

from registry_credentials.selected_namespaces.admission import admission_objects, policy_spec
from registry_credentials.selected_namespaces.copies import copy_objects
from registry_credentials.selected_namespaces.selection import object_name, select
from registry_credentials.selected_namespaces.settings import SecretCopy, SelectedNamespaces
from support.records import validate_strict

LABELS = {"app.kubernetes.io/managed-by": "pulumi"}
SETTINGS = {copy: SelectedNamespaces(secret_copy=copy, match_labels=(("team", "a"),),
                                     match_expressions=(("tier", "In", ("web",)),), source_namespace="pull-source")
            for copy in SecretCopy}
ANY = object()


def selection(copy: SecretCopy = SecretCopy.KYVERNO, secret: str = "harbor-pull"):
    return select(SETTINGS[copy], secret, "proj/dev/rc", ["apps", "basic"])


def at(document: Any, path: str) -> Any:
    """`a.b[0].c` inside a manifest."""
    for part in path.replace("[", ".[").split("."):
        document = document[int(part[1:-1])] if part.startswith("[") else document[part]
    return document


def by_kind(objects: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    found: Dict[str, Dict[str, Any]] = {}
    for manifest in objects:
        found.setdefault(manifest["kind"], manifest)
    return found


NAMESPACE_TRIGGER = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["namespaces"]}
# (engine, kind, path, documented value or ANY for "present"), after each engine's own documentation:
DOCUMENTED = [
    # kyverno/website docs/policy-types/generating-policy.mdx, "Clone Single Resource" and "Generating for Existing
    # Resources": a namespace trigger, the trigger's name, resource.Get of the source, generator.Apply.
    (SecretCopy.KYVERNO, "GeneratingPolicy", "apiVersion", "policies.kyverno.io/v1"),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.matchConstraints.resourceRules[0]", NAMESPACE_TRIGGER),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.variables[0].expression", "object.metadata.name"),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.variables[1].expression",
     'resource.Get("v1", "secrets", "pull-source", "harbor-pull")'),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.generate[0].expression",
     "generator.Apply(variables.namespace, [variables.source])"),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.evaluation.synchronize.enabled", True),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.evaluation.generateExisting.enabled", True),
    # The matchConstraints fields are the admission API's MatchResources (same page, "matchConstraints").
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.matchConstraints.objectSelector",
     {"matchLabels": {"team": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}),
    (SecretCopy.KYVERNO, "GeneratingPolicy", "spec.matchConstraints.excludeResourceRules[0]",
     {**NAMESPACE_TRIGGER, "resourceNames": ["apps", "basic", "pull-source"]}),
    # kyverno/policies other/sync-secrets/sync-secrets.yaml; generateExisting per rule: website
    # cluster-policy/generate.md ("replaced by spec.rules[*].generate[*].generateExisting").
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "apiVersion", "kyverno.io/v1"),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].match.any[0].resources.kinds", ["Namespace"]),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.apiVersion", "v1"),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.kind", "Secret"),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.name", "harbor-pull"),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.namespace",
     "{{request.object.metadata.name}}"),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.synchronize", True),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.generateExisting", True),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].generate.clone",
     {"namespace": "pull-source", "name": "harbor-pull"}),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, "ClusterPolicy", "spec.rules[0].exclude.any[0].resources.names",
     ["apps", "basic", "pull-source"]),
    # kyverno/website introduction/quick-start.md "Generate Resources": the two aggregated ClusterRoles.
    (SecretCopy.KYVERNO, "ClusterRole", "metadata.labels", {
        **LABELS, "rbac.kyverno.io/aggregate-to-admission-controller": "true",
        "rbac.kyverno.io/aggregate-to-reports-controller": "true",
        "rbac.kyverno.io/aggregate-to-background-controller": "true"}),
    (SecretCopy.KYVERNO, "ClusterRole", "rules", [{"apiGroups": [""], "resources": ["secrets"],
                                                   "verbs": ["get", "list", "watch"]}]),
    # external-secrets docs/snippets/full-cluster-external-secret.yaml and docs/api/clusterexternalsecret.md.
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "apiVersion", "external-secrets.io/v1"),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.externalSecretName", ANY),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.refreshTime", "1m"),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.namespaceSelectors[0].matchLabels", {"team": "a"}),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.externalSecretSpec.secretStoreRef.kind",
     "ClusterSecretStore"),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.externalSecretSpec.refreshInterval", "1m"),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.externalSecretSpec.target",
     {"name": "harbor-pull", "creationPolicy": "Owner", "template": {"type": "kubernetes.io/dockerconfigjson"}}),
    # docs/guides/all-keys-one-secret.md: `dataFrom: [{extract: {key: ...}}]` takes every key of the remote secret.
    (SecretCopy.EXTERNAL_SECRETS, "ClusterExternalSecret", "spec.externalSecretSpec.dataFrom",
     [{"extract": {"key": "harbor-pull"}}]),
    # docs/provider/kubernetes.md: remoteNamespace, the cluster's own CA from kube-root-ca.crt, a ServiceAccount.
    (SecretCopy.EXTERNAL_SECRETS, "ClusterSecretStore", "spec.provider.kubernetes.remoteNamespace", "pull-source"),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterSecretStore", "spec.provider.kubernetes.server.caProvider",
     {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt", "namespace": "pull-source"}),
    (SecretCopy.EXTERNAL_SECRETS, "ClusterSecretStore", "spec.provider.kubernetes.auth.serviceAccount.namespace",
     "pull-source"),
    (SecretCopy.EXTERNAL_SECRETS, "Role", "rules[0].verbs", ["get"]),
]


@pytest.mark.parametrize("copy, kind, path, value", DOCUMENTED, ids=[f"{k}:{p}" for _, k, p, _ in DOCUMENTED])
def test_each_engine_object_has_its_documented_fields(copy, kind, path, value):
    found = at(by_kind(copy_objects(selection(copy), LABELS))[kind], path)
    assert value is ANY or found == value


def test_the_external_secrets_store_and_fan_out_agree_on_names_and_namespaces():
    chosen = selection(SecretCopy.EXTERNAL_SECRETS)
    objects = by_kind(copy_objects(chosen, LABELS))
    store, fan_out = objects["ClusterSecretStore"], objects["ClusterExternalSecret"]
    account = objects["ServiceAccount"]["metadata"]
    assert store["spec"]["provider"]["kubernetes"]["auth"]["serviceAccount"]["name"] == account["name"]
    assert account["namespace"] == "pull-source"
    assert fan_out["spec"]["externalSecretSpec"]["secretStoreRef"]["name"] == store["metadata"]["name"]
    assert objects["Role"]["rules"][0]["resourceNames"] == ["harbor-pull"]
    assert objects["RoleBinding"]["roleRef"]["name"] == objects["Role"]["metadata"]["name"]
    # Only the selected namespaces may use the store, and the fan-out covers exactly those.
    assert store["spec"]["conditions"] == [{"namespaceSelector": chosen.namespace_selector()}]
    assert fan_out["spec"]["namespaceSelectors"] == [chosen.namespace_selector()]


@pytest.mark.parametrize("copy", list(SecretCopy))
def test_built_in_kinds_are_valid_for_kubernetes(copy):
    objects = [*copy_objects(selection(copy), LABELS), *admission_objects(selection(copy), LABELS)]
    built_in = [m for m in objects if m["apiVersion"] in ("v1", "rbac.authorization.k8s.io/v1")
                or m["apiVersion"].startswith("admissionregistration.k8s.io/")]
    assert {m["kind"] for m in built_in} >= {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}
    for manifest in built_in:
        if manifest["apiVersion"].startswith("admissionregistration.k8s.io/"):
            # GA in 1.36: the oldest schema validate_strict also checks (1.29) has no v1 policy.
            kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)
        else:
            validate_strict(manifest)


def test_the_admission_policy_appends_once_and_never_blocks():
    spec = policy_spec("harbor-pull")
    assert spec["failurePolicy"] == "Ignore" and spec["reinvocationPolicy"] == "IfNeeded"
    assert spec["matchConstraints"]["resourceRules"] == [{"apiGroups": [""], "apiVersions": ["v1"],
                                                          "operations": ["CREATE", "UPDATE"],
                                                          "resources": ["serviceaccounts"]}]
    (mutation,) = spec["mutations"]
    assert mutation["patchType"] == "JSONPatch" and "applyConfiguration" not in mutation
    expression = mutation["jsonPatch"]["expression"]
    assert '[JSONPatch{op: "add", path: "/imagePullSecrets/-", value: {"name": "harbor-pull"}}]' in expression
    assert '[JSONPatch{op: "add", path: "/imagePullSecrets", value: [{"name": "harbor-pull"}]}]' in expression
    assert spec["matchConditions"][0]["expression"] == (
        '!has(object.imagePullSecrets) || !object.imagePullSecrets.exists(s, has(s.name) && s.name == "harbor-pull")')


def test_the_binding_selects_by_label_and_leaves_the_components_own_namespaces_out():
    (_, binding) = admission_objects(selection(), LABELS)
    assert binding["spec"] == {"policyName": selection().name, "matchResources": {"namespaceSelector": {
        "matchLabels": {"team": "a"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]},
                             {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                              "values": ["apps", "basic", "pull-source"]}],
    }}}


def test_object_names_are_stable_short_and_unique_per_instance():
    name = object_name("harbor-pull", "proj/dev/rc")
    assert name == object_name("harbor-pull", "proj/dev/rc") and name.startswith("harbor-pull-")
    assert len({object_name("harbor-pull", f"proj/{stack}/rc") for stack in ("dev", "prod", "test")}) == 3
    long = object_name("a" * 39 + ".b" * 100, "proj/dev/rc")
    assert len(long) <= 51 and not long.split("-")[0].endswith(".")
    assert all(len(m["metadata"]["name"]) <= 253 for m in copy_objects(selection(secret="s" * 253), LABELS))
