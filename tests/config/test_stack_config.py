"""The stack program reads config into the component, and rejects bad config with a fix-it message."""

import runpy

import pytest
from pulumi.runtime import rpc

from registry_credentials import ConfigError
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from support.records import plaintext_of
from support.stack import PROJECT, PROJECT_DIR, config_of, run_stack_program

PASSWORD = "Harb0r-robot-S3cret"
GOOD = {
    "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot$apps+puller"}],
    "passwords": {"harbor": PASSWORD},
    "namespaces": [{"name": "apps"}, "basic"],
}


def test_stack_program_builds_the_component_from_config():
    result = run_stack_program(GOOD)
    secrets = result.of_type("kubernetes:core/v1:Secret")
    # Registration order is asynchronous: compare as a sorted list.
    assert sorted((s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]) for s in secrets) == [
        ("apps", "registry-credentials"), ("basic", "registry-credentials")]
    assert all(rpc.is_rpc_secret(s.inputs["data"]) for s in secrets)
    assert result.outputs["secretNames"] == {"apps": "registry-credentials", "basic": "registry-credentials"}
    assert PASSWORD not in plaintext_of(result)


def test_secret_name_from_config():
    result = run_stack_program({**GOOD, "secretName": "harbor-pull"})
    assert {s.inputs["metadata"]["name"] for s in result.of_type("kubernetes:core/v1:Secret")} == {"harbor-pull"}


BAD_CONFIG = [
    ({"registries": []}, "registry-credentials:registries: set a list"),
    ({**GOOD, "passwords": {}}, "pulumi config set --stack test --secret --path --type string 'passwords.harbor'"),
    ({**GOOD, "passwords": {"harbor": 7}}, "passwords.harbor: was stored as a number, not text"),
    ({**GOOD, "passwords": {"harbor": True}}, "passwords.harbor: was stored as a boolean, not text"),
    ({**GOOD, "passwords": {"harbor": PASSWORD, "quay": "x"}}, "passwords.quay: no registry has this name"),
    ({**GOOD, "registries": [{**GOOD["registries"][0], "password": PASSWORD}]}, "never put a password in registries"),
    ({**GOOD, "registries": [{"server": "r.io", "username": "u"}]}, "registries[0].name"),
    ({**GOOD, "registries": GOOD["registries"] * 2}, "is used twice"),
    ({**GOOD, "namespaces": [{"name": "apps", "sa": "x"}]}, "namespaces[0].sa: unknown setting"),
    ({**GOOD, "registries": [{**GOOD["registries"][0], "server": "hub docker"}]}, "server: cannot be parsed"),
    ({**GOOD, "passwords": {"harbor": "x" * 2**20}}, "over the Secret limit"),
    ({**GOOD, "passwords": {"harbor": " \t"}}, "passwords.harbor: is only whitespace"),
    ({**GOOD, "passwords": "not-json"}, "registry-credentials:passwords: must be an object"),
    ({**GOOD, "nodebootstrap": {"enabled": True}},
     "registry-credentials:nodebootstrap: unknown setting (did you mean 'nodeBootstrap'?)"),
    ({**GOOD, "nodeBootstrap": {"enabled": "yes"}}, "nodeBootstrap.enabled: must be true or false, not 'yes'"),
    ({**GOOD, "nodeBootstrap": {"enabled": True, "createNamespace": 0}},
     "nodeBootstrap.createNamespace: must be true or false, not 0"),
    ({**GOOD, "namespaces": [{"name": "apps", "serviceAccounts": ["ci"], "patchServiceAccounts": ["ci"]}]},
     "namespaces[0]: 'ci' is in both serviceAccounts and patchServiceAccounts"),
    ({**GOOD, "namespaces": [{"name": "apps", "create": True, "patchServiceAccounts": ["ci"]}]},
     "namespaces[0].patchServiceAccounts: a namespace this component creates"),
    ({**GOOD, "nodeBootstrap": {"enabled": True, "intervalSeconds": 1}}, "nodeBootstrap.intervalSeconds: must be"),
]


@pytest.mark.parametrize("values, message", BAD_CONFIG, ids=[m[:40] for _, m in BAD_CONFIG])
def test_bad_config_fails_with_one_message_and_registers_nothing(values, message):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack_program(values, mocks=mocks)
    assert message in str(raised.value)
    assert PASSWORD not in str(raised.value)
    assert mocks.records == []


def test_passwords_stored_in_plain_text_are_refused():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack_program(GOOD, secret=False, mocks=mocks)
    assert "stored in plain text" in str(raised.value)
    assert mocks.records == []


def test_namespace_settings_are_camel_case_in_stack_config():
    result = run_stack_program({**GOOD, "namespaces": [
        {"name": "apps", "defaultServiceAccount": False, "serviceAccounts": ["svc"], "create": True},
        {"name": "basic", "patchServiceAccounts": ["ci"], "foreignPullSecrets": "keep"},
    ]})
    created = result.of_type("kubernetes:core/v1:ServiceAccount")
    assert [(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in created] == [("apps", "svc")]
    patched = {(p.inputs["metadata"]["namespace"], p.inputs["metadata"]["name"], p.retain_on_delete)
               for p in result.of_type("kubernetes:core/v1:ServiceAccountPatch")}
    assert patched == {("basic", "default", True), ("basic", "ci", True)}
    assert [n.inputs["metadata"]["name"] for n in result.of_type("kubernetes:core/v1:Namespace")] == ["apps"]


def test_node_bootstrap_settings_are_camel_case_in_stack_config():
    result = run_stack_program({**GOOD, "nodeBootstrap": {"enabled": True, "kubeletRootDir": "/data/kubelet",
                                                          "maxSurge": "25%"}})
    (ds,) = result.of_type("kubernetes:apps/v1:DaemonSet")
    assert ds.inputs["spec"]["updateStrategy"]["rollingUpdate"]["maxSurge"] == "25%"
    assert ds.inputs["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == "/data/kubelet"
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="nodeBootstrap.kubeletRoot: unknown setting"):
        run_stack_program({**GOOD, "nodeBootstrap": {"enabled": True, "kubeletRoot": "/x"}}, mocks=mocks)
    assert mocks.records == []


@pytest.mark.parametrize("enabled, on", [("false", False), ("False", False), ("TRUE", True), (True, True),
                                         (False, False)])
def test_node_bootstrap_enabled_reads_booleans_and_true_false_text(enabled, on):
    result = run_stack_program({**GOOD, "nodeBootstrap": {"enabled": enabled}})
    assert bool(result.of_type("kubernetes:apps/v1:DaemonSet")) is on


def test_unknown_keys_are_found_in_the_language_hosts_config_too(monkeypatch):
    # A real `pulumi up` hands the program its config as PULUMI_CONFIG (pulumi-language-python main.go).
    monkeypatch.setenv("PULUMI_CONFIG", '{"registry-credentials:secretname": "x", "kubernetes:context": "kind"}')
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="registry-credentials:secretname: unknown setting \\(did you mean "
                                          "'secretName'\\?\\)"):
        run_stack_program(GOOD, mocks=mocks)
    assert mocks.records == []


@pytest.mark.parametrize("key", ["registries", "namespaces", "nodeBootstrap", "secretName", "verify"])
def test_a_setting_stored_as_a_secret_is_refused_as_the_password_is_the_only_secret(key):
    # Pulumi makes a whole key secret (`--secret`, or one `secure:` leaf in it); its usernames, servers or
    # namespaces would then be shown in preview messages and resource names in plain text.
    values = {**GOOD, "nodeBootstrap": {"enabled": False}, "secretName": "pull", "verify": "off"}
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"), project=PROJECT,
                    config=config_of(values), secret_keys=[f"{PROJECT}:passwords", f"{PROJECT}:{key}"])
    assert str(raised.value) == (
        f"{PROJECT}:{key}: is stored as a secret, but only the passwords are kept secret (servers, usernames and "
        "namespaces appear in preview messages and resource names); set it as plain config, and each password with "
        "pulumi config set --stack test --secret --path --type string 'passwords.NAME' '<password>'")


# (settings, whether the run manages something in the cluster)
MANAGES = [
    ({"namespaces": []}, False),
    ({"namespaces": [], "nodeBootstrap": {"enabled": False}}, False),
    ({"namespaces": ["apps"]}, True),
    ({"namespaces": [], "nodeBootstrap": {"enabled": True}}, True),
]


@pytest.mark.parametrize("settings, manages", MANAGES, ids=[str(m[0]) for m in MANAGES])
def test_a_stack_that_manages_nothing_warns_at_preview_and_says_what_to_add(settings, manages):
    result = run_stack_program({**GOOD, **settings})
    idle = [w for w in result.warnings if w.startswith("nothing to manage")]
    assert bool(idle) != manages, result.warnings
    if idle:
        (warning,) = idle
        # Spelled as the stack file spells the settings, with what to add for each method.
        assert "List a namespace in `namespaces` (e.g. name: apps) for methods 2-4" in warning
        assert "set `nodeBootstrap.enabled` to true for method 1" in warning


def test_the_python_api_is_told_in_its_own_spelling():
    from registry_credentials import RegistryCredentials
    from registry_credentials.cli.mockrun import run_program

    registries = [{"server": "harbor.example.com", "username": "robot", "password": PASSWORD}]
    result = run_program(lambda: RegistryCredentials("rc", {"registries": registries}))
    (warning,) = [w for w in result.warnings if w.startswith("nothing to manage")]
    assert "`node_bootstrap.enabled`" in warning and PASSWORD not in warning
    assert result.of_type("kubernetes:core/v1:Secret") == []


# (settings, whether `passwords` is secret, a line the message must hold, a line it must not)
MESSAGES = [
    # A typo's "allowed" list is what stack config may hold: `name`, never `password` (refused in registries).
    ({**GOOD, "registries": [{"name": "harbor", "server": "h.io", "usrname": "u"}]}, True,
     "usrname: unknown setting (did you mean 'username'?); allowed: caFile, email, expires, insecure, name, "
     "previous, server, username, verify", "password, "),
    # The stack file is named, not `Pulumi.<stack>.yaml`.
    ({**GOOD, "registries": []}, True, "in the stack file Pulumi.test.yaml", "<stack>"),
    # Every suggested command names the stack it is for.
    (GOOD, False, "Remove it (pulumi config rm --stack test passwords) and set each password with pulumi config "
     "set --stack test --secret", "pulumi config rm passwords"),
]


@pytest.mark.parametrize("values, secret, present, absent", MESSAGES, ids=["typo", "stack-file", "config-rm"])
def test_messages_say_exactly_what_to_do(values, secret, present, absent):
    with pytest.raises(ConfigError) as raised:
        run_stack_program(values, secret=secret)
    message = str(raised.value)
    assert present in message and absent not in message
