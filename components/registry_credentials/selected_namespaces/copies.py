"""The copy, job (a): the objects that make the user's engine copy the source Secret into every selected namespace,
with the RBAC that engine needs, as manifests (no Pulumi). No controller of our own: Kubernetes cannot create an
object in a namespace it has just created without one.

Every engine copies `data` and `type` verbatim, so each copy is byte for byte the source: kubectl's format.
- Kyverno, GeneratingPolicy (kyverno/website docs/policy-types/generating-policy.mdx, "Clone Source" and
  "Generating for Existing Resources"): a namespace CREATE or UPDATE that matches triggers a clone; synchronize
  keeps each copy equal to the source. The trigger is matched by `objectSelector` and `excludeResourceRules`,
  which Kyverno honours both at admission (pkg/cel/matching/matcher.go) and for existing namespaces
  (pkg/policy/gpol.go getGpolTriggers, triggerMatches).
- Kyverno, ClusterPolicy: the same as a generate rule with `clone` (kyverno/policies other/sync-secrets), with
  `generateExisting` per rule (the policy-level field is deprecated since 1.13: website cluster-policy/generate.md).
- Both Kyverno forms need Kyverno's controllers to read and write Secrets, which its default install withholds:
  the two ClusterRoles of Kyverno's quick start ("Generate Resources"), aggregated by label.
- External Secrets: a ClusterExternalSecret (docs/api/clusterexternalsecret.md) creates an ExternalSecret in each
  selected namespace; each extracts the source Secret's `data` through a ClusterSecretStore with the Kubernetes
  provider (docs/provider/kubernetes.md). The provider returns the Secret's data map unchanged
  (providers/v1/kubernetes/client.go GetSecretMap) and a template with only `type` keeps it
  (pkg/controllers/externalsecret/externalsecret_controller_template.go ApplyTemplate). The store signs in as
  a ServiceAccount of the source namespace allowed to get that one Secret: the store's check asks for `get` on
  secrets there (providers/v1/kubernetes/validate.go), and SelfSubjectRulesReview is every user's
  (the `system:basic-user` ClusterRole).
"""

import json
from typing import Any, Dict, List, Mapping, Tuple

from .selection import Selection
from .settings import SecretCopy

Manifest = Dict[str, Any]
Policy = Tuple[Tuple[str, str], Dict[str, Any]]
"""((apiVersion, kind), spec) of a policy."""
SECRET_TYPE = "kubernetes.io/dockerconfigjson"
RBAC = "rbac.authorization.k8s.io/v1"
GENERATING_POLICY = ("policies.kyverno.io/v1", "GeneratingPolicy")
CLUSTER_POLICY = ("kyverno.io/v1", "ClusterPolicy")
CLUSTER_EXTERNAL_SECRET = ("external-secrets.io/v1", "ClusterExternalSecret")
CLUSTER_SECRET_STORE = ("external-secrets.io/v1", "ClusterSecretStore")
REFRESH = "1m"
"""How often External Secrets looks for new namespaces and re-reads the source (a rotation reaches copies within)."""
_NAMESPACES = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
               "resources": ["namespaces"]}
_KYVERNO_VIEW = {f"rbac.kyverno.io/aggregate-to-{c}-controller": "true" for c in ("admission", "reports", "background")}
_KYVERNO_MANAGE = {"rbac.kyverno.io/aggregate-to-background-controller": "true"}


def copy_objects(selection: Selection, labels: Mapping[str, str]) -> List[Manifest]:
    """The chosen engine's objects, in the order they can be created (each one's prerequisites first)."""
    engine = selection.settings.secret_copy
    if engine == SecretCopy.EXTERNAL_SECRETS:
        return external_secrets(selection, labels)
    policy = generating_policy(selection) if engine == SecretCopy.KYVERNO else cluster_policy(selection)
    return [*kyverno_rbac(selection, labels), _object(*policy[0], selection.name, labels, spec=policy[1])]


def _object(api_version: str, kind: str, name: str, labels: Mapping[str, str], namespace: str = "",
            **body: Any) -> Manifest:
    metadata: Dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def generating_policy(selection: Selection) -> Policy:
    """((apiVersion, kind), spec) of the Kyverno GeneratingPolicy that clones the source into each namespace."""
    source = selection.settings.source_namespace
    get = f'resource.Get("v1", "secrets", {json.dumps(source)}, {json.dumps(selection.secret_name)})'
    constraints: Dict[str, Any] = {"resourceRules": [_NAMESPACES], "objectSelector": selection.settings.selector(),
                                   "excludeResourceRules": [{**_NAMESPACES, "resourceNames": list(selection.excluded)}]}
    return GENERATING_POLICY, {
        "evaluation": {"generateExisting": {"enabled": True}, "synchronize": {"enabled": True}},
        "matchConstraints": constraints,
        "variables": [{"name": "namespace", "expression": "object.metadata.name"},
                      {"name": "source", "expression": get}],
        "generate": [{"expression": "generator.Apply(variables.namespace, [variables.source])"}],
    }


def cluster_policy(selection: Selection) -> Policy:
    """((apiVersion, kind), spec) of the same clone as a Kyverno ClusterPolicy generate rule."""
    return CLUSTER_POLICY, {"rules": [{
        "name": "clone-pull-secret",
        "match": {"any": [{"resources": {"kinds": ["Namespace"], "selector": selection.settings.selector()}}]},
        "exclude": {"any": [{"resources": {"kinds": ["Namespace"], "names": list(selection.excluded)}}]},
        "generate": {
            "apiVersion": "v1", "kind": "Secret", "name": selection.secret_name,
            "namespace": "{{request.object.metadata.name}}",
            "synchronize": True, "generateExisting": True,
            "clone": {"namespace": selection.settings.source_namespace, "name": selection.secret_name},
        },
    }]}


def kyverno_rbac(selection: Selection, labels: Mapping[str, str]) -> List[Manifest]:
    """Kyverno's controllers may read Secrets (all three) and write them (the background controller, which clones)."""
    return [
        _object(RBAC, "ClusterRole", f"{selection.name}-kyverno-secrets-view", {**labels, **_KYVERNO_VIEW},
                rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]),
        _object(RBAC, "ClusterRole", f"{selection.name}-kyverno-secrets-manage", {**labels, **_KYVERNO_MANAGE},
                rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "update", "delete"]}]),
    ]


def external_secrets(selection: Selection, labels: Mapping[str, str]) -> List[Manifest]:
    """The store's ServiceAccount and its read access, the ClusterSecretStore, and the ClusterExternalSecret."""
    name, source, secret = selection.name, selection.settings.source_namespace, selection.secret_name
    selector = selection.namespace_selector()
    store = {
        # Only ExternalSecrets of the selected namespaces may use the store.
        "conditions": [{"namespaceSelector": selector}],
        "provider": {"kubernetes": {
            "remoteNamespace": source,
            "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt",
                                      "namespace": source}},
            "auth": {"serviceAccount": {"name": name, "namespace": source}},
        }},
    }
    fan_out = {
        "externalSecretName": name,
        "namespaceSelectors": [selector],
        "refreshTime": REFRESH,
        "externalSecretSpec": {
            "secretStoreRef": {"kind": CLUSTER_SECRET_STORE[1], "name": name},
            "refreshInterval": REFRESH,
            "target": {"name": secret, "creationPolicy": "Owner", "template": {"type": SECRET_TYPE}},
            "dataFrom": [{"extract": {"key": secret}}],
        },
    }
    return [
        _object("v1", "ServiceAccount", name, labels, source),
        _object(RBAC, "Role", name, labels, source,
                rules=[{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [secret], "verbs": ["get"]}]),
        _object(RBAC, "RoleBinding", name, labels, source,
                roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                subjects=[{"kind": "ServiceAccount", "name": name, "namespace": source}]),
        _object(*CLUSTER_SECRET_STORE, name, labels, spec=store),
        _object(*CLUSTER_EXTERNAL_SECRET, name, labels, spec=fan_out),
    ]
