"""The reference, job (b): a MutatingAdmissionPolicy that lists the Secret on every ServiceAccount of the selected
namespaces as it is created or changed, and its binding (no Pulumi).

Design, each point checked on the real API server (tests/e2e/test_selected_namespaces.py):
- JSONPatch, never ApplyConfiguration: `ServiceAccount.imagePullSecrets` is `+listType=atomic` (kubernetes/api
  core/v1/types.go), so an apply-style mutation would replace the list and drop others' entries; a JSON patch
  `add /imagePullSecrets/-` appends;
- a match condition skips a ServiceAccount that already lists the Secret, so nothing is ever added twice, and
  reinvocation (other mutators ran after us) cannot add it again;
- `failurePolicy: Ignore`: an error in the policy never blocks a ServiceAccount;
- CREATE covers the `default` ServiceAccount that kube-controller-manager creates in a new namespace; UPDATE
  covers a namespace labelled after its ServiceAccounts existed (their next change) and a tool that re-applies
  its own list without ours;
- the mutation is recorded under no field manager of its own: the API server computes `managedFields` before
  mutating admission (k8s.io/apiserver pkg/endpoints/handlers/create.go, FieldManager.UpdateNoErrors before
  Admit). So our entry is owned by whoever owns the whole atomic list, or by nobody.
"""

import json
from typing import Any, Dict, List, Mapping

from .selection import Selection

API_VERSION = "admissionregistration.k8s.io/v1"
"""GA in Kubernetes 1.36 (KEP-3962); 1.34 and 1.35 serve only v1beta1, behind a feature gate."""
POLICY_KIND = "MutatingAdmissionPolicy"
BINDING_KIND = "MutatingAdmissionPolicyBinding"
_SERVICE_ACCOUNTS = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["serviceaccounts"]}


def policy_spec(secret_name: str) -> Dict[str, Any]:
    """The policy: append `{name: <secret>}` to `imagePullSecrets` unless it is listed already."""
    # A Kubernetes object name needs no escaping in a CEL string literal; JSON quotes it as CEL does.
    name = json.dumps(secret_name)
    entry = f'{{"name": {name}}}'
    return {
        "failurePolicy": "Ignore",
        "reinvocationPolicy": "IfNeeded",
        "matchConstraints": {"resourceRules": [_SERVICE_ACCOUNTS]},
        "matchConditions": [{
            "name": "not-listed-yet",
            "expression": ("!has(object.imagePullSecrets) || "
                           f"!object.imagePullSecrets.exists(s, has(s.name) && s.name == {name})"),
        }],
        "mutations": [{
            "patchType": "JSONPatch",
            "jsonPatch": {"expression": (
                "has(object.imagePullSecrets) ? "
                f'[JSONPatch{{op: "add", path: "/imagePullSecrets/-", value: {entry}}}] : '
                f'[JSONPatch{{op: "add", path: "/imagePullSecrets", value: [{entry}]}}]'
            )},
        }],
    }


def binding_spec(selection: Selection) -> Dict[str, Any]:
    """The binding: the policy, for the ServiceAccounts of the selected namespaces only."""
    return {"policyName": selection.name, "matchResources": {"namespaceSelector": selection.namespace_selector()}}


def admission_objects(selection: Selection, labels: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The policy and its binding, as manifests, the policy first."""
    return [
        {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": selection.name, "labels": dict(labels)},
         "spec": spec}
        for kind, spec in ((POLICY_KIND, policy_spec(selection.secret_name)), (BINDING_KIND, binding_spec(selection)))
    ]
