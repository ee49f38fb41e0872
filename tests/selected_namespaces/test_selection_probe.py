"""The API check at preview: the probe chart's answer read, each missing API named, and the component held by it.

The chart itself is rendered by pulumi-kubernetes against the real API server in tests/e2e (a served API passes,
a missing one fails the preview); here the answers are the invoke's, as that provider returns them.
"""

import fnmatch
import tomllib
from pathlib import Path

import pytest

import pulumi

from registry_credentials import RegistryCredentials
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from registry_credentials.selected_namespaces import probe
from registry_credentials.selected_namespaces.resources import UnservedApiError
from registry_credentials.selected_namespaces.settings import SecretCopy, SelectedNamespaces
from registry_credentials.checks.spelling import Spelling

ROOT = Path(__file__).resolve().parents[2]
MAP = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"
BINDING = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicyBinding"
BETA = "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy"
GPOL = "policies.kyverno.io/v1/GeneratingPolicy"
CPOL = "kyverno.io/v1/ClusterPolicy"
CES = "external-secrets.io/v1/ClusterExternalSecret"
CSS = "external-secrets.io/v1/ClusterSecretStore"


def answer(served=(), discovered="true", version="v1.35.2"):
    """What `kubernetes:helm:template` returns for the probe chart: the rendered ConfigMap, decoded."""
    data = {"discovered": discovered, "kubeVersion": version, "served": "".join(f"{k}," for k in served)}
    return {"result": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-probe"}, "data": data}]}


def settings(copy=SecretCopy.KYVERNO, spelling=Spelling.CAMEL):
    return SelectedNamespaces(secret_copy=copy, match_labels=(("team", "a"),), spelling=spelling)


@pytest.mark.parametrize("raw, discovered", [
    ({}, False), ({"result": []}, False), ({"result": "x"}, False), (answer(discovered="false"), False),
    ({"result": [{"kind": "ConfigMap"}]}, False), (answer(), True),
])
def test_an_answer_without_the_clusters_discovery_is_not_a_verdict(raw, discovered):
    assert probe.read_answer(raw).discovered is discovered


def test_the_served_kinds_and_version_are_read():
    served = probe.read_answer(answer([MAP, BINDING, GPOL], version="v1.37.2"))
    assert served == probe.Served(discovered=True, version="v1.37.2", kinds=frozenset({MAP, BINDING, GPOL}))


# (engine, served kinds, the start of each expected message; none when everything needed is served)
VERDICTS = [
    (SecretCopy.KYVERNO, [MAP, BINDING, GPOL], []),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, [MAP, BINDING, CPOL], []),
    (SecretCopy.EXTERNAL_SECRETS, [MAP, BINDING, CES, CSS], []),
    (SecretCopy.KYVERNO, [GPOL], ["selectedNamespaces: this cluster (Kubernetes v1.35.2) does not serve "
                                  "admissionregistration.k8s.io/v1 MutatingAdmissionPolicy"]),
    (SecretCopy.KYVERNO, [MAP, GPOL], ["selectedNamespaces: this cluster"]),  # the binding too
    (SecretCopy.EXTERNAL_SECRETS, [MAP, BINDING, CES], [
        "selectedNamespaces.secretCopy external-secrets: this cluster (Kubernetes v1.35.2) does not serve External "
        "Secrets' ClusterExternalSecret and ClusterSecretStore"]),
    (SecretCopy.KYVERNO_CLUSTER_POLICY, [MAP, BINDING, GPOL], [
        "selectedNamespaces.secretCopy kyverno-cluster-policy: this cluster (Kubernetes v1.35.2) does not serve "
        "Kyverno's ClusterPolicy"]),
    (SecretCopy.KYVERNO, [], ["selectedNamespaces: this cluster", "selectedNamespaces.secretCopy kyverno: this"]),
]


@pytest.mark.parametrize("copy, served, expected", VERDICTS)
def test_each_missing_api_is_named(copy, served, expected):
    problems = probe.missing(settings(copy), probe.read_answer(answer(served)))
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_the_messages_say_what_to_do():
    (beta,) = probe.missing(settings(), probe.read_answer(answer([BETA, GPOL])))
    assert "It serves only the beta API, which this component does not use: upgrade to 1.36." in beta
    assert "GA from Kubernetes 1.36" in beta and "list the namespaces under namespaces" in beta
    (plain,) = probe.missing(settings(), probe.read_answer(answer([GPOL])))
    assert "beta API, which" not in plain
    (kyverno,) = probe.missing(settings(), probe.read_answer(answer([MAP, BINDING, CPOL])))
    assert kyverno.endswith("This Kyverno serves ClusterPolicy: choose secretCopy kyverno-cluster-policy.")
    assert "install it first" in kyverno and "depends_on" in kyverno
    (snake,) = probe.missing(settings(spelling=Spelling.SNAKE), probe.read_answer(answer([MAP, BINDING])))
    assert snake.startswith("selected_namespaces.secret_copy kyverno: ")
    assert probe.missing(settings(), probe.read_answer({})) == [], "no verdict without the cluster's answer"


def test_the_probe_asks_for_what_the_engine_needs_and_names_its_chart():
    for copy in SecretCopy:
        asked = probe.kinds_to_ask(settings(copy))
        assert {MAP, BINDING, BETA, *probe.ENGINES[copy]} <= set(asked) and len(asked) == len(set(asked))
    args = probe.invoke_args(settings(SecretCopy.EXTERNAL_SECRETS))
    chart = Path(args["path"]) / args["chart"]
    assert (chart / "Chart.yaml").is_file() and (chart / "templates" / "probe.yaml").is_file()
    template = (chart / "templates" / "probe.yaml").read_text()
    assert '.Capabilities.APIVersions.Has "v1/Namespace"' in template and ".Values.kinds" in template
    assert args["values"]["kinds"] == probe.kinds_to_ask(settings(SecretCopy.EXTERNAL_SECRETS))


def test_the_chart_ships_with_the_package():
    """A non-editable install (the plugin's `pip install ..`) carries only the package data pyproject names."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "registry_credentials"]
    package = ROOT / "components" / "registry_credentials"
    files = [p.relative_to(package).as_posix() for p in probe.CHART.rglob("*") if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f, pattern) for pattern in patterns) for f in files), files


class Cluster(RecordingMocks):
    """Mocks whose kubernetes:helm:template answers as a cluster serving `served` would."""

    def __init__(self, served=(), discovered="true"):
        super().__init__()
        self.answer = answer(served, discovered)
        self.asked = []

    def call(self, args):
        self.asked.append((args.token, args.args))
        return self.answer if args.token == probe.INVOKE else {}


def component(mocks):
    return run_program(lambda: RegistryCredentials("rc", {
        "registries": [{"server": "harbor.example.com", "username": "robot", "password": "S3cret-pw"}],
        "namespaces": [],
        "selected_namespaces": {"match_labels": {"team": "a"}, "secret_copy": "kyverno"},
    }), mocks=mocks)


def test_a_cluster_that_serves_everything_gets_every_object():
    mocks = Cluster([MAP, BINDING, GPOL])
    run = component(mocks)
    assert [token for token, _ in mocks.asked] == [probe.INVOKE]
    assert run.warnings == []
    kinds = [r.typ.rsplit(":", 1)[-1] for r in run.records if not r.read]
    for kind in ("ClusterRole", "GeneratingPolicy", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"):
        assert kind in kinds


def test_a_cluster_that_lacks_an_api_fails_the_run_with_its_message():
    with pytest.raises(UnservedApiError) as raised:
        component(Cluster([GPOL]))
    assert str(raised.value).startswith("selected_namespaces: this cluster (Kubernetes v1.35.2) does not serve")
    # A RunError that is not a ValueError reaches the engine unwrapped: one message, no stack trace.
    assert isinstance(raised.value, pulumi.RunError) and not isinstance(raised.value, ValueError)
    with pytest.raises(UnservedApiError) as raised:
        component(Cluster([]))
    assert str(raised.value).startswith("2 APIs are missing from this cluster:\n  - selected_namespaces: ")


def test_a_cluster_that_cannot_be_asked_is_a_warning():
    run = component(Cluster(discovered="false"))
    assert run.warnings == [probe.unchecked(settings(spelling=Spelling.SNAKE))]
    assert run.of_type("kubernetes:admissionregistration.k8s.io/v1:MutatingAdmissionPolicy")
