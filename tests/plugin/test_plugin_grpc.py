"""The plugin over real gRPC: launched as the language host launches it, then GetSchema and Construct.

Construct runs against Pulumi's own MockMonitor served as a gRPC ResourceMonitor (support/plugin_host.py), with
inputs encoded the ways an engine sends them.
"""

import base64
import json
from typing import Any, Dict, Iterator, List

import grpc
import pytest
from pulumi.runtime import rpc

from registry_credentials.plugin.provider import MAX_MESSAGE_CHARS
from support.plugin_host import (
    PLUGIN_DIR,
    UNKNOWN,
    PluginProcess,
    RecordingMocks,
    bare_secret,
    is_secret,
    output_value,
    state,
)

PASSWORD = "s3cret-pw-7f3a"
USER = "ci-bot"
AUTH = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
TOKEN = "registry-credentials:index:RegistryCredentials"
DEP = "urn:pulumi:dev::consumer::random:index/randomPassword:RandomPassword::pw"
K8S = "urn:pulumi:dev::consumer::pulumi:providers:kubernetes::cluster::5f1b4d2e-provider-id"


@pytest.fixture(scope="module")
def plugin() -> Iterator[PluginProcess]:
    process = PluginProcess()
    yield process
    process.close()


def live_service_account(foreign: List[str]):
    def live(args) -> Dict[str, Any]:
        ns, name = args.resource_id.split("/")
        return {
            "metadata": {"name": name, "namespace": ns, "managedFields": []},
            "imagePullSecrets": [{"name": n} for n in foreign],
        }

    return live


def registry(password: Any, **extra: Any) -> Dict[str, Any]:
    return {"server": "harbor.example.com", "username": USER, "password": password, **extra}


def without_secrets(value: Any) -> Any:
    """The value with every secret-marked part replaced, i.e. what may be shown or stored in plaintext."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def assert_no_plaintext(plugin: PluginProcess, mocks: RecordingMocks, outputs: Dict[str, Any]) -> None:
    shown = json.dumps(
        [without_secrets(outputs), [without_secrets(a.inputs) for a in mocks.registered], plugin.engine.logs]
    ) + "".join(plugin.stderr)
    assert PASSWORD not in shown and AUTH not in shown


def registered(mocks: RecordingMocks, typ: str) -> List[Any]:
    return [a for a in mocks.registered if a.typ == typ]


def test_plugin_announces_its_port_and_serves_the_committed_schema(plugin):
    committed = json.loads((PLUGIN_DIR / "schema.json").read_text())
    served = plugin.schema()
    assert served == committed, "provider/schema.json is out of date: run `bash scripts/schema`"
    assert served["name"] == "registry-credentials" and TOKEN in served["resources"]
    assert plugin.plugin_info().version == served["version"]


# The same registry, encoded each way an engine may send it to Construct: (inputs, inputDependencies).
ENCODINGS = {
    "password as a secret output value": ({"registries": [registry(output_value(PASSWORD, secret=True))]}, {}),
    "password as a bare secret (the SDK marks the whole list secret)": (
        {"registries": [registry(bare_secret(PASSWORD))]}, {}
    ),
    "whole list as a secret output value": ({"registries": output_value([registry(PASSWORD)], secret=True)}, {}),
    "bare secret password and a dependency of the list": (
        {"registries": [registry(bare_secret(PASSWORD))]}, {"registries": [DEP]}
    ),
    "one entry as a secret output value": ({"registries": [output_value(registry(PASSWORD), secret=True)]}, {}),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_construct_registers_the_secret_and_the_patch_and_keeps_the_password_secret(plugin, encoding):
    mocks = RecordingMocks(live_service_account([]))
    registries, dependencies = ENCODINGS[encoding]
    inputs = {**registries, "namespaces": [{"name": "apps"}], "secretName": "pull"}
    response = plugin.construct(mocks, inputs, dependencies=dependencies)
    outputs = state(response)

    assert response.urn.endswith(f"::{TOKEN}::creds")
    (secret,) = registered(mocks, "kubernetes:core/v1:Secret")
    assert secret.name == "creds:apps" and secret.inputs["type"] == "kubernetes.io/dockerconfigjson"
    assert secret.inputs["metadata"]["name"] == "pull" and secret.inputs["metadata"]["namespace"] == "apps"
    assert is_secret(secret.inputs["data"])
    rendered = json.loads(base64.b64decode(secret.inputs["data"]["value"][".dockerconfigjson"]))
    assert rendered == {"auths": {"harbor.example.com": {"username": USER, "password": PASSWORD, "auth": AUTH}}}

    (patch,) = registered(mocks, "kubernetes:core/v1:ServiceAccountPatch")
    assert patch.inputs["metadata"]["name"] == "default" and patch.inputs["metadata"]["namespace"] == "apps"
    assert patch.inputs["imagePullSecrets"] == [{"name": "pull"}]
    assert [r.resource_id for r in mocks.read] == ["apps/default"]

    assert outputs["secretNames"] == {"apps": "pull"}
    assert outputs["imagePullSecrets"] == {"apps": [{"name": "pull"}]}
    assert outputs["serviceAccounts"] == {"apps": ["default"]}
    assert outputs["nodeDaemonset"] == ""
    assert is_secret(outputs["dockerconfigjson"])
    assert json.loads(outputs["dockerconfigjson"]["value"]) == rendered
    assert_no_plaintext(plugin, mocks, outputs)


def test_values_that_depended_on_other_resources_keep_the_dependency_and_their_schema_names(plugin):
    # An engine that sends no output values wraps a list with dependencies as one value: the SDK then maps no
    # camelCase names inside it, so serviceAccounts / defaultServiceAccount must still reach the component.
    mocks = RecordingMocks(live_service_account([]))
    inputs = {
        "registries": [registry(output_value(PASSWORD, secret=True))],
        "namespaces": [{"name": "apps", "serviceAccounts": ["builder"], "defaultServiceAccount": False}],
        "secretName": "pull",
    }
    outputs = state(plugin.construct(mocks, inputs, dependencies={"namespaces": [DEP]}, providers={"kubernetes": K8S}))
    (account,) = registered(mocks, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["name"] == "builder" and account.inputs["imagePullSecrets"] == [{"name": "pull"}]
    assert registered(mocks, "kubernetes:core/v1:ServiceAccountPatch") == [] and mocks.read == []
    assert outputs["serviceAccounts"] == {"apps": ["builder"]}
    (component,) = [r for r in mocks.requests if r.type == TOKEN]
    assert DEP in component.dependencies
    # The consumer's kubernetes provider still reaches every child after the dependency is merged into the options.
    children = [r for r in mocks.requests if r.type != TOKEN]
    assert children and all(r.provider == K8S for r in children)


def test_foreign_pull_secrets_refused_at_the_patch_says_what_to_do_without_a_traceback(plugin):
    mocks = RecordingMocks(live_service_account(["theirs"]))
    inputs = {"registries": [registry(output_value(PASSWORD, secret=True))], "namespaces": [{"name": "apps"}]}
    with pytest.raises(grpc.RpcError) as raised:
        plugin.construct(mocks, inputs)
    details = raised.value.details()
    assert "already lists imagePullSecrets ['theirs']" in details and "foreignPullSecrets: keep" in details
    assert "Traceback" not in details and PASSWORD not in details
    assert registered(mocks, "kubernetes:core/v1:ServiceAccountPatch") == []


@pytest.mark.parametrize(
    "mode, foreign, expected",
    [
        ("keep", ["theirs"], ["theirs", "pull"]),
        ("fail", [], ["pull"]),
    ],
)
def test_foreign_pull_secrets_arrives_as_the_enum_value(plugin, mode, foreign, expected):
    mocks = RecordingMocks(live_service_account(foreign))
    inputs = {
        "registries": [registry(output_value(PASSWORD, secret=True))],
        "namespaces": [{"name": "apps", "foreignPullSecrets": mode}],
        "secretName": "pull",
    }
    plugin.construct(mocks, inputs)
    (patch,) = registered(mocks, "kubernetes:core/v1:ServiceAccountPatch")
    assert patch.inputs["imagePullSecrets"] == [{"name": n} for n in expected]
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == ("true" if foreign else "false")


# An unknown password during preview: as an output value without a value, and as the bare unknown sentinel that
# engines send without output values (`rpc.UNKNOWN`), then wrapped by the SDK with the list's dependency.
UNKNOWN_PASSWORDS = {
    "output value": ({"registries": [registry(output_value(UNKNOWN, secret=True, dependencies=[DEP]))]}, {}),
    "bare unknown": ({"registries": [registry(rpc.UNKNOWN)]}, {"registries": [DEP]}),
}


@pytest.mark.parametrize("encoding", list(UNKNOWN_PASSWORDS))
def test_preview_with_an_unknown_password_registers_and_leaves_the_config_unknown(plugin, encoding):
    mocks = RecordingMocks(live_service_account([]))
    registries, dependencies = UNKNOWN_PASSWORDS[encoding]
    response = plugin.construct(
        mocks, {**registries, "namespaces": [{"name": "apps"}]}, dry_run=True, dependencies=dependencies
    )
    outputs = state(response)
    (secret,) = registered(mocks, "kubernetes:core/v1:Secret")
    assert is_secret(secret.inputs["data"]) or secret.inputs.get("data") == rpc.UNKNOWN
    assert outputs["secretNames"] == {"apps": "creds"}
    assert not isinstance(outputs.get("dockerconfigjson"), str)


def test_a_namespace_name_unknown_at_preview_is_refused_with_what_to_do(plugin):
    mocks = RecordingMocks(live_service_account([]))
    inputs = {"registries": [registry(output_value(PASSWORD, secret=True))], "namespaces": [{"name": rpc.UNKNOWN}]}
    with pytest.raises(grpc.RpcError) as raised:
        plugin.construct(mocks, inputs, dry_run=True, dependencies={"namespaces": [DEP]})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "namespaces[0].name: is not known yet" in raised.value.details()
    assert "dependsOn" in raised.value.details() and mocks.registered == []


def construct_error(plugin: PluginProcess, mocks: RecordingMocks, inputs: Dict[str, Any]) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        plugin.construct(mocks, inputs)
    error = raised.value
    text = f"{error.details()} {error.trailing_metadata()}"
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, text
    assert PASSWORD not in text and "Traceback" not in text and 'File "' not in text and "Unexpected" not in text
    assert error.details() and (len(error.details().splitlines()) == 1 or "problems" in error.details())
    return error.details()


def inputs(**extra: Any) -> Dict[str, Any]:
    """Good inputs, with `extra` replacing or adding top-level ones."""
    return {"registries": [registry(output_value(PASSWORD, secret=True))], "namespaces": [{"name": "apps"}], **extra}


def one_registry(**fields: Any) -> Dict[str, Any]:
    return inputs(registries=[registry(output_value(PASSWORD, secret=True), **fields)])


# Every input takes one refusal path, the checker the Python API and stack config use: each case is one clear
# INVALID_ARGUMENT line, in the schema's spelling, and nothing is registered.
BAD_INPUTS = [
    ("no registries", {"namespaces": [{"name": "apps"}]}, "registries: is required"),
    ("no namespaces", {"registries": [registry(output_value(PASSWORD, secret=True))]}, "namespaces: is required"),
    ("no password", {"registries": [{"server": "harbor.example.com", "username": USER}],
                     "namespaces": [{"name": "apps"}]}, "registries[0] (harbor.example.com).password: is not set"),
    ("bad namespace name", inputs(namespaces=[{"name": "Apps_1"}]), "namespaces[0].name"),
    ("bad secret name, spelled as in the schema", inputs(secretName="Bad_Name"), "secretName: "),
    ("unknown enum value", inputs(namespaces=[{"name": "apps", "foreignPullSecrets": "sometimes"}]), "sometimes"),
    ("namespace name not known yet", inputs(namespaces=[{"name": output_value(UNKNOWN, dependencies=[DEP])}]),
     "namespaces[0].name: is not known yet"),
    # Only the password may be secret, however the secret is sent (the SDK pushes a bare one up to the list).
    *((f"{field} sent as a {how}", one_registry(**{field: wrap(value)}), f"registries[0].{field}: arrived as a secret")
      for field, value in (("username", USER), ("server", "harbor.example.com"), ("email", "ci@example.com"))
      for how, wrap in (("secret output value", lambda v: output_value(v, secret=True)), ("bare secret", bare_secret))),
    ("namespace name sent as a bare secret", inputs(namespaces=[{"name": bare_secret("apps")}]),
     "namespaces[0].name: arrived as a secret"),
    ("node image sent as a secret", inputs(nodeBootstrap={"enabled": True, "image": bare_secret("python:3")}),
     "nodeBootstrap.image: arrived as a secret"),
    # A value of the wrong shape is refused, never mapped to a default.
    *((f"nodeBootstrap {value!r}", inputs(nodeBootstrap=value), "nodeBootstrap: expected a mapping")
      for value in (True, "enabled", [], 1)),
    *((f"namespaces {value!r}", inputs(namespaces=value), "namespaces: must be a plain list")
      for value in (5, True, "apps", {"name": "apps"})),
    ("namespaces a number with a dependency", inputs(namespaces=output_value(5, dependencies=[DEP])),
     "namespaces: must be a plain list"),
    ("registries a number", inputs(registries=3), "registries: must be a plain list"),
    ("a registry that is a number", inputs(registries=[3]), "registries[0]: expected a mapping"),
    ("a namespace that is a number", inputs(namespaces=[3]), "namespaces[0]: expected a mapping"),
    ("verify a number", inputs(verify=3), "verify: must be one of warn, fail, off, not 3"),
    ("interval text", inputs(nodeBootstrap={"intervalSeconds": "x"}), "nodeBootstrap.intervalSeconds: must be"),
    ("enabled a number", inputs(nodeBootstrap={"enabled": 1}), "nodeBootstrap.enabled: must be true or false, not 1"),
    ("username a number", one_registry(username=3), "username: must be text"),
    # Keys the schema does not have are refused with the closest spelling, at any depth.
    ("unknown input", inputs(bogus=1), "bogus: unknown setting"),
    ("misspelt namespace setting", inputs(namespaces=[{"name": "apps", "defaultServiceAcount": False}]),
     "namespaces[0].defaultServiceAcount: unknown setting (did you mean 'defaultServiceAccount'?)"),
    ("misspelt node setting", inputs(nodeBootstrap={"enable": True}),
     "nodeBootstrap.enable: unknown setting (did you mean 'enabled'?)"),
    # A password that is known is checked now, however it is sent.
    *((f"password {label} as a {how}", inputs(registries=[registry(wrap(value))]),
       f"registries[0] (harbor.example.com).password: {message}")
      for label, value, message in (("whitespace", "  \t ", "must not be empty or only whitespace"),
                                    *((kind, v, f"must be a string or an Output of one, not {kind}") for kind, v in (
                                        ("a number", 5), ("an object", {"a": 1}), ("a list", ["x"]),
                                        ("a boolean", True))))
      for how, wrap in (("secret output value", lambda v: output_value(v, secret=True)), ("bare secret", bare_secret),
                        ("plain value", lambda v: v))),
    ("server with userinfo", one_registry(server=f"bob:{PASSWORD}x@harbor.example.com"),
     "registries[0].server: cannot be parsed: it holds credentials"),
    ("two problems at once", inputs(secretName="Bad_Name", verify="sometimes"), "2 problems in the configuration"),
]


@pytest.mark.parametrize("case, inputs, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_give_one_clear_error_and_register_nothing(plugin, case, inputs, message):
    mocks = RecordingMocks(live_service_account([]))
    assert message in construct_error(plugin, mocks, inputs)
    assert mocks.registered == [] and mocks.read == []


def property_errors(error: grpc.RpcError) -> List[str]:
    """The property paths in the structured invalid-input details; the engine prints the input value at each."""
    # Pulumi's copy of google.rpc.Status: importing google.rpc's as well registers the message twice.
    from pulumi.runtime.proto import errors_pb2, status_pb2

    paths = []
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                found = errors_pb2.InputPropertiesError()
                if detail.Unpack(found):
                    paths += [e.property_path for e in found.errors]
    return paths


def test_our_invalid_input_errors_name_no_property_path_whose_value_the_engine_would_print(plugin):
    # deploy/source_eval.go errorToMessage prints "property P with value 'V'": for registries[1], V holds the password.
    mocks = RecordingMocks(live_service_account([]))
    entry = registry(output_value(PASSWORD, secret=True))
    with pytest.raises(grpc.RpcError) as raised:
        plugin.construct(mocks, {"registries": [entry, entry], "namespaces": [{"name": "apps"}]})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "server is the same registry as registries[0]" in raised.value.details()
    assert property_errors(raised.value) == []
    # Nor does a missing input (the SDK's own check would name it).
    with pytest.raises(grpc.RpcError) as raised:
        plugin.construct(mocks, {"namespaces": [{"name": "apps"}]})
    assert property_errors(raised.value) == []


def test_an_unknown_resource_type_is_one_clear_invalid_argument(plugin):
    from pulumi.runtime.proto import provider_pb2

    with pytest.raises(grpc.RpcError) as raised:
        plugin.provider.Construct(provider_pb2.ConstructRequest(
            project="consumer", stack="dev", name="x", type="registry-credentials:index:Nope"), timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == (
        "resource type 'registry-credentials:index:Nope' is not one of this package's; it provides only "
        f"{TOKEN}")


def test_numbers_arrive_as_doubles_and_reach_the_agent_as_whole_numbers(plugin):
    mocks = RecordingMocks(live_service_account([]))
    node = {"enabled": True, "intervalSeconds": 30, "maxSurge": "2",
            "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}
    plugin.construct(mocks, inputs(nodeBootstrap=node))
    (daemonset,) = registered(mocks, "kubernetes:apps/v1:DaemonSet")
    spec = daemonset.inputs["spec"]["template"]["spec"]
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": 300}]
    assert spec["containers"][0]["command"][spec["containers"][0]["command"].index("--interval") + 1] == "30"


@pytest.mark.parametrize("case, bad", [
    ("3000 problems", inputs(namespaces=[{"name": f"n{i}", "bogus": 1} for i in range(3000)])),
    ("one problem of a megabyte", one_registry(server="h" * 1_000_000, username="")),
])
def test_an_error_too_long_for_grpc_metadata_still_arrives_as_invalid_argument(plugin, case, bad):
    # A gRPC client refuses a metadata value over 16 KiB, which would turn the error into RESOURCE_EXHAUSTED.
    details = construct_error(plugin, RecordingMocks(live_service_account([])), bad)
    assert len(details) <= MAX_MESSAGE_CHARS
    assert details.startswith("3000 problems in the configuration; the first ") if case == "3000 problems" \
        else details.endswith("...")


def test_an_unknown_key_of_a_megabyte_is_named_short_and_found_fast(plugin):
    # difflib's "did you mean" costs the product of the lengths: a megabyte key took over a minute.
    details = construct_error(plugin, RecordingMocks(live_service_account([])), inputs(**{"x" * 1_000_000: 1}))
    assert details.startswith("x" * 80 + "... (1000000 characters): unknown setting; allowed: ")


def test_selected_namespaces_arrive_with_their_label_keys_and_engine_as_written(plugin):
    """Label names are data, not property names: the SDK's schema-to-Python mapping must leave them alone."""
    mocks = RecordingMocks(live_service_account([]))
    selected = {"matchLabels": {"example.com/pull_secrets": "true"}, "secretCopy": "external-secrets",
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["legacy"]}]}
    inputs = {"registries": [registry(output_value(PASSWORD, secret=True))], "namespaces": [{"name": "apps"}],
              "selectedNamespaces": selected}
    outputs = state(plugin.construct(mocks, inputs))
    (binding,) = registered(mocks, "kubernetes:admissionregistration.k8s.io/v1:MutatingAdmissionPolicyBinding")
    assert binding.inputs["spec"]["matchResources"]["namespaceSelector"] == {
        "matchLabels": {"example.com/pull_secrets": "true"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["legacy"]},
                             {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                              "values": ["apps", "registry-credentials-source"]}],
    }
    assert registered(mocks, "kubernetes:external-secrets.io/v1:ClusterExternalSecret")
    assert outputs["secretNames"] == {"apps": "creds", "registry-credentials-source": "creds"}
    assert_no_plaintext(plugin, mocks, outputs)
