"""Each setting is checked once per run (counted), and every problem of a run is reported at once.

Every check of a setting goes through `Problems.check`, named by the field as the user spells it; counting the
calls per field over a whole stack run (stack config read, plan, component, credentials check) shows how often
each setting was checked.
"""

from collections import Counter
from typing import Any, Dict

import pytest

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.checks.problems import Problems
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from registry_credentials.config import checker, reader
from registry_credentials.credentials import registries
from support.stack import PROJECT, run_stack_program

PASSWORDS = {"harbor": "Harb0r-robot-S3cret", "hub": "dckr_pat_0123456789"}


def every_setting(ca_file: str) -> Dict[str, Any]:
    """Stack config that sets every setting there is, at least once."""
    return {
        "registries": [
            {"name": "harbor", "server": "harbor.example.com", "username": "robot$ci+puller",
             "email": "platform@example.com", "verify": "off", "caFile": ca_file, "insecure": False},
            {"name": "hub", "server": "docker.io", "username": "example-ci"},
        ],
        "passwords": PASSWORDS,
        "namespaces": [
            {"name": "apps", "create": False, "defaultServiceAccount": True, "serviceAccounts": ["ci"],
             "patchServiceAccounts": ["builder"], "foreignPullSecrets": "keep"},
            {"name": "fresh", "create": True, "serviceAccounts": ["svc"]},
            "basic",
        ],
        "secretName": "harbor-pull",
        "verify": "off",
        "nodeBootstrap": {
            "enabled": True, "namespace": "node-creds", "createNamespace": True, "name": "agent",
            "image": "python:3.13-alpine", "kubeletRootDir": "/var/lib/kubelet", "intervalSeconds": 30,
            "maxSurge": "25%", "tolerations": [{"operator": "Exists"}, {"key": "gpu", "value": "yes",
                                                                         "effect": "NoSchedule"}],
            "nodeSelector": {"kubernetes.io/os": "linux"}, "priorityClassName": "infra-critical",
        },
        "selectedNamespaces": {
            "matchLabels": {"team": "a"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}],
            "secretCopy": "external-secrets", "sourceNamespace": "pull-source", "createSourceNamespace": True,
        },
    }


# Every setting above, as the stack file spells it: each must be checked, and each exactly once.
EVERY_FIELD = {
    PROJECT, "verify", "registries",
    *(f"registries[{i}].{s}" for i in (0, 1) for s in ("name", "server")),
    "registries[0] (harbor.example.com)", "registries[1] (docker.io)",
    *(f"registries[0] (harbor.example.com).{s}" for s in ("username", "email", "verify", "caFile", "insecure")),
    "registries[1] (docker.io).username", "passwords.harbor", "passwords.hub",
    "namespaces",
    *(f"namespaces[0]{s}" for s in ("", ".name", ".create", ".defaultServiceAccount", ".serviceAccounts",
                                    ".patchServiceAccounts", ".foreignPullSecrets")),
    *(f"namespaces[1]{s}" for s in ("", ".name", ".create", ".serviceAccounts", ".patchServiceAccounts")),
    "namespaces[2]", "namespaces[2].name", "namespaces[2].serviceAccounts", "namespaces[2].patchServiceAccounts",
    "secretName", "nodeBootstrap",
    *(f"nodeBootstrap.{s}" for s in ("enabled", "namespace", "createNamespace", "name", "image", "kubeletRootDir",
                                     "intervalSeconds", "maxSurge", "tolerations", "nodeSelector",
                                     "priorityClassName")),
    "nodeBootstrap.tolerations[0]", "nodeBootstrap.tolerations[1]",
    "selectedNamespaces", "selectedNamespaces.matchLabels", "selectedNamespaces.matchLabels['team']",
    "selectedNamespaces.matchExpressions", "selectedNamespaces.matchExpressions[0]",
    *(f"selectedNamespaces.{s}" for s in ("secretCopy", "sourceNamespace", "createSourceNamespace")),
}


@pytest.fixture
def counted(monkeypatch):
    """Counts of every setting check, of whole-configuration checks, and of server normalisations, during a test."""
    counts = {"fields": Counter(), "checker": 0, "servers": 0}
    check, whole, normalize = Problems.check, checker.check, registries.normalize_server

    def counting_check(self, field, *args):
        counts["fields"][field] += 1
        return check(self, field, *args)

    def counting_whole(*args, **kwargs):
        counts["checker"] += 1
        return whole(*args, **kwargs)

    def counting_normalize(server):
        counts["servers"] += 1
        return normalize(server)

    monkeypatch.setattr(Problems, "check", counting_check)
    monkeypatch.setattr(reader, "check", counting_whole)
    monkeypatch.setattr(checker, "check", counting_whole)
    monkeypatch.setattr(registries, "normalize_server", counting_normalize)
    return counts


def test_each_setting_of_a_stack_run_is_checked_exactly_once(counted, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")
    run = run_stack_program(every_setting(str(ca_file)))
    assert run.of_type("kubernetes:apps/v1:DaemonSet"), "the run built everything"
    fields = counted["fields"]
    assert {f: n for f, n in fields.items() if n != 1} == {}, "checked more than once"
    assert EVERY_FIELD - set(fields) == set(), "never checked"
    assert counted["checker"] == 1, "the whole configuration is checked once: the component reuses the plan"
    assert counted["servers"] == 2, "each server is normalised once"


def test_the_python_api_checks_each_setting_once_too(counted):
    def program():
        RegistryCredentials("rc", {
            "registries": [{"server": "r.example.com", "username": "u", "password": "p", "verify": "off"}],
            "namespaces": [{"name": "apps", "create": True, "default_service_account": False}],
            "verify": "off",
        })

    run_program(program)
    assert {f: n for f, n in counted["fields"].items() if n != 1} == {}
    assert {"registries[0] (r.example.com).password", "registries[0] (r.example.com).verify", "args", "secret_name",
            "namespaces[0].default_service_account"} <= set(counted["fields"])
    assert counted["checker"] == 1 and counted["servers"] == 1


def test_stack_args_changed_before_the_component_are_checked_again(counted):
    """load_args hands its plan over only while the args are as it read them."""
    from registry_credentials.stack_config import load_args

    def program():
        import pulumi

        args = load_args(pulumi.Config())
        args["namespaces"].append({"name": "late"})
        RegistryCredentials("rc", args)

    run = run_program(program, project=PROJECT, secret_keys=[f"{PROJECT}:passwords"], config={
        f"{PROJECT}:registries": '[{"name": "h", "server": "r.example.com", "username": "u"}]',
        f"{PROJECT}:passwords": '{"h": "pw"}',
        f"{PROJECT}:namespaces": '["apps"]',
    })
    assert counted["checker"] == 2, "the changed args were checked again"
    assert sorted(r.inputs["metadata"]["namespace"] for r in run.of_type("kubernetes:core/v1:Secret")) == [
        "apps", "late"]


# One problem in each corner of the configuration, spelled as stack config spells it, and the same in the Python API.
STACK_PROBLEMS = [
    ("registries[0] (harbor.example.com).username: must not contain ':'", {"username": "robot:ci"}),
    ("registries[1] (quay.io).caFile: must be the path of a PEM CA bundle", {"caFile": ""}),
    ("passwords.hub: is only whitespace", None),
    ("namespaces[0].serviceAccounts[0]: 'Bad_Name' is not a valid Kubernetes object name", None),
    ("namespaces[1].name: 'Apps' is not a valid name", None),
    ("nodeBootstrap.maxSurge: must be a count from 1 to 5000", None),
    ("nodeBootstrap.kubelet_root_dir: unknown setting (did you mean 'kubeletRootDir'?)", None),
    ("secretName: 'Pull_Secret' is not a valid Kubernetes object name", None),
    ("registry-credentials:nodebootstrp: unknown setting (did you mean 'nodeBootstrap'?)", None),
]


def test_every_problem_of_a_stack_run_is_reported_at_once():
    values = {
        "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot:ci"},
                       {"name": "hub", "server": "quay.io", "username": "u", "caFile": ""}],
        "passwords": {"harbor": PASSWORDS["harbor"], "hub": "  "},
        "namespaces": [{"name": "apps", "serviceAccounts": ["Bad_Name"]}, "Apps"],
        "nodeBootstrap": {"enabled": True, "maxSurge": "0", "kubelet_root_dir": "/x"},
        "secretName": "Pull_Secret",
        "nodebootstrp": {},
    }
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack_program(values, mocks=mocks)
    problems = raised.value.problems
    assert len(problems) == len(STACK_PROBLEMS), problems
    for expected, _ in STACK_PROBLEMS:
        assert sum(p.startswith(expected) for p in problems) == 1, (expected, problems)
    text = str(raised.value)
    assert text.startswith(f"{len(STACK_PROBLEMS)} problems in the configuration:\n")
    assert all(f"\n  - {p}" in text for p in problems)
    assert PASSWORDS["harbor"] not in text
    assert mocks.records == []


def test_every_problem_of_the_python_api_is_reported_at_once_in_its_spelling():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("Bad Name", {
            "registries": [{"server": "r.io", "username": "", "password": "pw", "insecure": "no"}],
            "namespaces": [{"name": "apps", "default_service_acount": False}, {"name": "apps"}],
            "node_bootstrap": {"enabled": "true"},
        }), mocks=mocks)
    assert sorted(p.split(":")[0] for p in raised.value.problems) == sorted([
        "registries[0] (r.io).username", "registries[0] (r.io).insecure",
        "namespaces[0].default_service_acount", "namespaces", "node_bootstrap.enabled", "secret_name",
    ])
    assert mocks.records == []
