"""The Python API refuses what the stack file refuses, naming settings in snake_case, and registers nothing."""

import re

import pulumi
import pytest

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.checks.names import label_value
from registry_credentials.cli.mockrun import RecordingMocks, run_program

PASSWORD = "Pyth0n-API-S3cret"
REGISTRY = {"server": "r.example.com", "username": "robot", "password": PASSWORD}


def args(registry=None, namespace=None, **extra):
    return {"registries": [{**REGISTRY, **(registry or {})}], "namespaces": [{"name": "apps", **(namespace or {})}],
            **extra}


# (id, args, message)
BAD_ARGS = [
    ("unknown-arg", args(node_bootstap={"enabled": True}),
     "args.node_bootstap: unknown setting (did you mean 'node_bootstrap'?)"),
    ("unknown-namespace-key", args(namespace={"default_serviceaccount": False}),
     "namespaces[0].default_serviceaccount: unknown setting (did you mean 'default_service_account'?)"),
    ("unknown-registry-key", args(registry={"ca_fille": "/ca.pem"}),
     "registries[0] (r.example.com).ca_fille: unknown setting (did you mean 'ca_file'?)"),
    ("camel-case-key", args(namespace={"defaultServiceAccount": False}),
     "namespaces[0].defaultServiceAccount: unknown setting (did you mean 'default_service_account'?)"),
    ("enabled-string-false", args(node_bootstrap={"enabled": "false"}),
     "node_bootstrap.enabled: must be True or False, not 'false'"),
    ("create-namespace-string", args(node_bootstrap={"enabled": True, "create_namespace": "no"}),
     "node_bootstrap.create_namespace: must be True or False, not 'no'"),
    ("namespace-create-string", args(namespace={"create": "true"}), "namespaces[0].create: must be True or False"),
    ("insecure-string", args(registry={"insecure": "yes"}), "registries[0] (r.example.com).insecure: must be True"),
    ("verify-value", args(verify="sometimes"), "verify: must be one of warn, fail, off, not 'sometimes'"),
    ("registry-verify-value", args(registry={"verify": "on"}), ".verify: must be one of warn, fail, off, not 'on'"),
    ("foreign-pull-secrets", args(namespace={"foreign_pull_secrets": "drop"}),
     "namespaces[0].foreign_pull_secrets: must be one of fail, keep, not 'drop'"),
    ("password-number", args(registry={"password": 12345}),
     "registries[0] (r.example.com).password: must be a string or an Output of one, not a number"),
    ("password-bytes", args(registry={"password": b"bytes"}), "must be a string or an Output of one, not bytes"),
    ("password-whitespace", args(registry={"password": " \t "}), "password: must not be empty or only whitespace"),
    ("namespace-newline", args(namespace={"name": "apps\n"}), "namespaces[0].name: 'apps\\n' is not a valid name"),
    ("server-newline", args(registry={"server": "r.example.com\n"}), "registries[0].server: contains a control"),
    ("username-nul", args(registry={"username": "ro\x00bot"}), "username: contains a control character"),
    ("username-whitespace", args(registry={"username": "  "}), "username: must not be empty"),
    ("secret-name-newline", args(secret_name="pull\n"), "secret_name: 'pull\\n' is not a valid Kubernetes"),
    ("max-surge", args(node_bootstrap={"enabled": True, "max_surge": "6000"}),
     "node_bootstrap.max_surge: must be a count from 1 to 5000"),
    ("max-surge-while-off", args(node_bootstrap={"enabled": False, "max_surge": "0"}), "node_bootstrap.max_surge"),
    ("max-surge-newline", args(node_bootstrap={"enabled": True, "max_surge": "5\n"}), "node_bootstrap.max_surge"),
    ("toleration-operator", args(node_bootstrap={"enabled": True, "tolerations": [{"operator": "exists"}]}),
     "node_bootstrap.tolerations[0].operator: must be Exists or Equal, not 'exists'"),
    ("toleration-exists-value", args(node_bootstrap={"enabled": True, "tolerations": [
        {"operator": "Exists", "value": "x"}]}), "node_bootstrap.tolerations[0].value: must be empty"),
    ("toleration-equal-without-key", args(node_bootstrap={"enabled": True, "tolerations": [{"operator": "Equal"}]}),
     "node_bootstrap.tolerations[0].operator: must be Exists when key is empty"),
    ("toleration-seconds-effect", args(node_bootstrap={"enabled": True, "tolerations": [
        {"operator": "Exists", "toleration_seconds": 30}]}), "toleration_seconds: only applies with effect NoExecute"),
    ("kubelet-root-newline", args(node_bootstrap={"enabled": True, "kubelet_root_dir": "/var/lib/kubelet\n"}),
     "node_bootstrap.kubelet_root_dir: must be the kubelet's absolute --root-dir"),
    ("toleration-key", args(node_bootstrap={"enabled": True, "tolerations": [{"key": "bad key",
                                                                                "operator": "Exists"}]}),
     "node_bootstrap.tolerations[0].key: 'bad key' is not a valid key"),
    ("toleration-value", args(node_bootstrap={"enabled": True, "tolerations": [{"key": "gpu", "value": "a b"}]}),
     "node_bootstrap.tolerations[0].value: 'a b' cannot be used as a label value"),
    ("node-selector-key", args(node_bootstrap={"enabled": True, "node_selector": {"bad key": "x"}}),
     "node_bootstrap.node_selector: 'bad key' is not a valid key"),
    ("node-selector-value", args(node_bootstrap={"enabled": True, "node_selector": {"os": "linux\n"}}),
     "node_bootstrap.node_selector['os']: 'linux\\n' cannot be used as a label value"),
    ("node-name-newline", args(node_bootstrap={"enabled": True, "name": "agent\n"}), "node_bootstrap.name: 'agent\\n'"),
]


@pytest.mark.parametrize("name, bad, message", BAD_ARGS, ids=[c[0] for c in BAD_ARGS])
def test_bad_python_args_fail_at_once_and_register_nothing(name, bad, message):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("rc", bad), mocks=mocks)
    text = str(raised.value)
    assert message in text
    assert PASSWORD not in text
    assert mocks.records == []
    # The API spells settings in snake_case (the user's own key, before the first ": ", is quoted as written).
    assert not re.search(r"\b(defaultServiceAccount|nodeBootstrap|createNamespace|maxSurge)\b", text.split(": ", 1)[1])


@pytest.mark.parametrize("password, node, message", [
    ("  \t", False, "registries[0] (r.example.com).password: must not be empty or only whitespace"),
    (5, False, "registries[0] (r.example.com).password: must be a string or an Output of one, not a number"),
    ({"a": 1}, False, "registries[0] (r.example.com).password: must be a string or an Output of one, not an object"),
    (":" * 100_000, True, "registries: with node bootstrap on, the node agent reads"),
])
def test_an_output_password_is_checked_when_it_resolves_and_fails_with_one_line(password, node, message):
    # Raised inside an apply: a RunError that is not a ValueError, which the SDK would wrap in "While processing
    # input ... ValueError has risen" with the inputs around it.
    bad = args(registry={"password": pulumi.Output.secret(password)},
               **({"node_bootstrap": {"enabled": True}} if node else {}))
    with pytest.raises(pulumi.RunError) as raised:
        run_program(lambda: RegistryCredentials("rc", bad))
    assert not isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(message), raised.value


@pytest.mark.parametrize("where, field, what", [
    ("registry", "server", "a registry host (text)"),
    ("registry", "username", "text, the registry user (e.g. a robot account)"),
    ("registry", "email", "a single-line string or omitted"),
    ("namespace", "name", "a name (text)"),
])
def test_only_the_password_may_be_an_output(where, field, what):
    # The password is made secret; the rest decides which resources and keys exist, and is shown in messages.
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("rc", args(**{where: {field: pulumi.Output.secret("x")}})),
                    mocks=mocks)
    assert f"{field}: must be {what}, not an Output (a plain value is needed here" in str(raised.value)
    assert mocks.records == []


def test_warnings_for_uppercase_server_and_untagged_agent_image():
    run = run_program(lambda: RegistryCredentials("rc", args(
        registry={"server": "Harbor.Example.com"}, node_bootstrap={"enabled": True, "image": "python"})))
    assert any("Harbor.Example.com" in w and "case-sensitively" in w for w in run.warnings)
    assert any("image 'python' has no tag or digest" in w for w in run.warnings)
    pinned = run_program(lambda: RegistryCredentials("rc", args(
        node_bootstrap={"enabled": True, "image": "r.example.com:5000/python@sha256:" + "a" * 64})))
    assert not [w for w in pinned.warnings if "tag or digest" in w or "case-sensitively" in w]


def test_verify_settings_and_enum_values_are_accepted(tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")  # verify_settings only needs a readable path; the check itself is off here
    run = run_program(lambda: RegistryCredentials("rc", args(
        registry={"verify": "off", "ca_file": str(ca_file), "insecure": False},
        namespace={"foreign_pull_secrets": "keep"}, verify="off")))
    assert run.of_type("kubernetes:core/v1:Secret")


def test_a_long_component_name_registers_with_a_derived_instance_label():
    name = "registry-credentials-for-the-production-eu-west-cluster-of-a-large-company"
    run = run_program(lambda: RegistryCredentials(name, args()))
    (secret,) = run.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["labels"]["app.kubernetes.io/instance"] == label_value(name)
    assert secret.inputs["metadata"]["name"] == name


def test_a_component_name_that_cannot_name_a_secret_asks_for_secret_name():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match=r"secret_name: not set, and the component name 'PullCreds' is not a valid"):
        run_program(lambda: RegistryCredentials("PullCreds", args()), mocks=mocks)
    assert mocks.records == []
    run = run_program(lambda: RegistryCredentials("PullCreds", args(secret_name="pull-creds")))
    assert run.of_type("kubernetes:core/v1:Secret")[0].inputs["metadata"]["name"] == "pull-creds"
