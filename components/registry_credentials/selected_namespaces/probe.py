"""Does the cluster serve the APIs the selection needs? Asked at preview, answered by its discovery (no Pulumi).

pulumi-kubernetes previews a create of a kind the cluster does not serve as if it would succeed: its Create skips
the dry run when the kind is unknown (provider/pkg/provider/provider.go Create, `!k.gvkExists`), and only `up`
fails. So the component asks first: its `kubernetes:helm:template` invoke renders the small chart beside this
module, and the provider fills the chart's `.Capabilities` from the cluster, fresh on each call (the server's
version, and every served `group/version/Kind`: invoke_helm_template.go setKubeVersionAndAPIVersions, which
invalidates its discovery cache first, then Helm's action.GetVersionSet). Nothing is installed.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, FrozenSet, List

from .admission import API_VERSION, BINDING_KIND, POLICY_KIND
from .copies import CLUSTER_EXTERNAL_SECRET, CLUSTER_POLICY, CLUSTER_SECRET_STORE, GENERATING_POLICY
from .settings import SecretCopy, SelectedNamespaces

INVOKE = "kubernetes:helm:template"
CHART = Path(__file__).resolve().parent / "api_probe"
ADMISSION = (f"{API_VERSION}/{POLICY_KIND}", f"{API_VERSION}/{BINDING_KIND}")
ADMISSION_BETA = f"admissionregistration.k8s.io/v1beta1/{POLICY_KIND}"
ENGINES = {
    SecretCopy.KYVERNO: ("/".join(GENERATING_POLICY),),
    SecretCopy.KYVERNO_CLUSTER_POLICY: ("/".join(CLUSTER_POLICY),),
    SecretCopy.EXTERNAL_SECRETS: ("/".join(CLUSTER_EXTERNAL_SECRET), "/".join(CLUSTER_SECRET_STORE)),
}
"""What each engine's objects need the cluster to serve (their CRDs, installed with the engine)."""


@dataclass(frozen=True)
class Served:
    """The probe's answer: whether the cluster answered, its version, and which of the asked kinds it serves."""

    discovered: bool
    version: str = ""
    kinds: FrozenSet[str] = frozenset()


def kinds_to_ask(settings: SelectedNamespaces) -> List[str]:
    """Every `group/version/Kind` the probe asks about (the beta admission API only to say so in a message)."""
    asked = [*ADMISSION, ADMISSION_BETA, *ENGINES[settings.secret_copy], *ENGINES[SecretCopy.KYVERNO_CLUSTER_POLICY]]
    return list(dict.fromkeys(asked))


def invoke_args(settings: SelectedNamespaces) -> dict:
    """The invoke's `jsonOpts` (pulumi-kubernetes HelmChartOpts): the local chart and the kinds to ask about."""
    return {"path": str(CHART.parent), "chart": CHART.name, "release_name": "api-probe", "namespace": "default",
            "values": {"kinds": kinds_to_ask(settings)}}


def read_answer(answer: Any) -> Served:
    """The invoke's result (`{result: [the rendered ConfigMap]}`) as Served; not discovered when it says nothing."""
    objects = answer.get("result") if isinstance(answer, dict) else None
    data = objects[0].get("data") if isinstance(objects, list) and objects and isinstance(objects[0], dict) else None
    if not isinstance(data, dict) or data.get("discovered") != "true":
        return Served(discovered=False)
    kinds = frozenset(k for k in str(data.get("served") or "").split(",") if k)
    return Served(discovered=True, version=str(data.get("kubeVersion") or ""), kinds=kinds)


def missing(settings: SelectedNamespaces, served: Served) -> List[str]:
    """A message for each API the selection needs that the cluster does not serve (none when it was not asked)."""
    if not served.discovered:
        return []
    where = settings.spelling("selected_namespaces")
    copy = f"{where}.{settings.spelling('secret_copy')} {settings.secret_copy.value}"
    cluster = f"this cluster (Kubernetes {served.version or 'of unknown version'})"
    problems = []
    if not set(ADMISSION) <= served.kinds:
        beta = (" It serves only the beta API, which this component does not use: upgrade to 1.36."
                if ADMISSION_BETA in served.kinds else "")
        problems.append(
            f"{where}: {cluster} does not serve {API_VERSION} {POLICY_KIND}, which lists the Secret on the "
            "ServiceAccounts of the selected namespaces. It is GA from Kubernetes 1.36 (1.34 and 1.35 have only a "
            f"beta behind a feature gate).{beta} Upgrade the cluster, or list the namespaces under namespaces "
            f"instead of {where}."
        )
    needed = ENGINES[settings.secret_copy]
    if not set(needed) <= served.kinds:
        engine = {
            # Kyverno's docs (policy-types/overview.md): GeneratingPolicy v1 is stable from 1.18; External
            # Secrets' CRDs serve external-secrets.io/v1 from v0.16.0 (config/crds/bases at each tag).
            SecretCopy.KYVERNO: "Kyverno's GeneratingPolicy (policies.kyverno.io/v1, Kyverno 1.18 and later)",
            SecretCopy.KYVERNO_CLUSTER_POLICY: "Kyverno's ClusterPolicy (kyverno.io/v1)",
            SecretCopy.EXTERNAL_SECRETS: ("External Secrets' ClusterExternalSecret and ClusterSecretStore "
                                          "(external-secrets.io/v1, External Secrets 0.16 and later)"),
        }[settings.secret_copy]
        hint = ""
        if settings.secret_copy == SecretCopy.KYVERNO and "/".join(CLUSTER_POLICY) in served.kinds:
            choice = settings.spelling("secret_copy")
            hint = f" This Kyverno serves ClusterPolicy: choose {choice} kyverno-cluster-policy."
        problems.append(
            f"{copy}: {cluster} does not serve {engine}. The engine must run in the cluster before the component "
            f"can hand it the copy: install it first (if the same stack installs it, order the component after it "
            f"with depends_on).{hint}"
        )
    return problems


def unchecked(settings: SelectedNamespaces) -> str:
    """The preview warning when the cluster could not be asked (unreachable, or not known yet at preview)."""
    return (
        f"{settings.spelling('selected_namespaces')}: could not ask the cluster which APIs it serves; if it lacks "
        f"{API_VERSION} {POLICY_KIND} or the objects of {settings.secret_copy.value}, creating them fails at up"
    )
