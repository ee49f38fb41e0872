"""The RegistryCredentials component under Pulumi's mock runtime: what it registers, and what stays secret."""

import base64
import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from registry_credentials import ConfigError, RegistryCredentials, render_dockerconfigjson
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from support.records import manifest_bodies, plaintext_of, unwrap, validate_strict

SECRET_TYPE = "kubernetes:core/v1:Secret"
PASSWORDS = {"harbor": "harbor-Pa55:w<rd>&", "hub": "dckr_pat_Hub-S3cret"}
REGISTRIES = [
    {"server": "harbor.example.com", "username": "robot$apps+puller", "password": PASSWORDS["harbor"]},
    {"server": "hub.docker.com", "username": "example-ci", "password": PASSWORDS["hub"], "email": "ci@example.com"},
]


def args(**overrides):
    """Component args with secret passwords, as the stack program passes them."""
    registries = [{**r, "password": pulumi.Output.secret(r["password"])} for r in REGISTRIES]
    return {"registries": registries, "namespaces": [{"name": "apps"}, {"name": "basic"}], **overrides}


def run(**overrides):
    return run_program(lambda: RegistryCredentials("rc", args(**overrides)))


def forbidden_strings():
    """Every plaintext form a credential could leak in."""
    values = list(PASSWORDS.values())
    values += [base64.b64encode(f"{r['username']}:{r['password']}".encode()).decode() for r in REGISTRIES]
    values.append(base64.b64encode(render_dockerconfigjson(REGISTRIES).encode()).decode()[:40])
    return values


def test_one_dockerconfigjson_secret_per_namespace():
    result = run()
    secrets = sorted(result.of_type(SECRET_TYPE), key=lambda r: r.name)
    assert [s.name for s in secrets] == ["rc:apps", "rc:basic"]
    for secret, namespace in zip(secrets, ["apps", "basic"]):
        inputs = unwrap(secret.inputs)
        assert inputs["type"] == "kubernetes.io/dockerconfigjson"
        assert inputs["metadata"]["name"] == "rc"
        assert inputs["metadata"]["namespace"] == namespace
        assert inputs["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/part-of": "registry-credentials",
            "app.kubernetes.io/instance": "rc",
        }
        assert list(inputs["data"]) == [".dockerconfigjson"]
        decoded = base64.b64decode(inputs["data"][".dockerconfigjson"]).decode()
        assert decoded == render_dockerconfigjson(REGISTRIES)


def test_secret_data_is_secret_on_the_recorded_inputs():
    for secret in run().of_type(SECRET_TYPE):
        assert rpc.is_rpc_secret(secret.inputs["data"])
        assert not rpc.is_rpc_secret(secret.inputs["metadata"])


def test_no_credential_in_any_non_secret_input_output_or_log_line():
    result = run()
    exposed = plaintext_of(result)
    assert "rc:apps" in exposed  # the scan does see the records
    for value in forbidden_strings():
        assert value not in exposed


def test_outputs():
    result = run_program(lambda: _export(RegistryCredentials("rc", args(secret_name="pull"))))
    assert result.outputs["secretNames"] == {"apps": "pull", "basic": "pull"}
    assert result.outputs["imagePullSecrets"] == {"apps": [{"name": "pull"}], "basic": [{"name": "pull"}]}
    assert result.secret_outputs == ["dockerconfigjson"]
    assert result.outputs["dockerconfigjson"] == render_dockerconfigjson(REGISTRIES)


def _export(component: RegistryCredentials) -> None:
    pulumi.export("secretNames", component.secret_names)
    pulumi.export("imagePullSecrets", component.image_pull_secrets)
    pulumi.export("dockerconfigjson", component.dockerconfigjson)


def test_preview_warning_for_docker_hub_lookalike_names_the_registry_and_no_secret():
    warnings = run().warnings
    assert len(warnings) == 1
    assert "registries[1] (hub.docker.com)" in warnings[0]
    for value in forbidden_strings():
        assert value not in warnings[0]


def test_children_inherit_the_callers_provider_so_one_stack_can_serve_two_clusters():
    def program():
        for cluster in ("east", "west"):
            provider = k8s.Provider(cluster, context=cluster)
            RegistryCredentials(f"rc-{cluster}", args(), pulumi.ResourceOptions(providers=[provider]))

    result = run_program(program)
    secrets = result.of_type(SECRET_TYPE)
    assert len(secrets) == 4
    for secret in secrets:
        cluster = secret.name.split(":")[0].removeprefix("rc-")
        assert f"pulumi:providers:kubernetes::{cluster}::" in secret.provider


def test_every_child_is_parented_to_the_component():
    result = run()
    children = [urn for urn in result.urns if "::rc:" in urn]
    assert len(children) == 6  # 2 Secrets, 2 live reads, 2 default ServiceAccount patches
    assert all("::registry-credentials:index:RegistryCredentials$kubernetes:core/v1:" in urn for urn in children)


def test_manifests_validate_strictly():
    bodies = manifest_bodies(run().records)
    assert sorted(b["kind"] for b in bodies) == ["Secret", "Secret", "ServiceAccount", "ServiceAccount"]
    for body in bodies:
        validate_strict(body)


BAD_ARGS = [
    (dict(registries=[]), "at least one registry"),
    (dict(registries=[{"server": "", "username": "u", "password": "p"}]), "registries[0].server"),
    (dict(registries=[{"server": "r.io", "username": "a:b", "password": "p"}]), "must not contain ':'"),
    (dict(registries=[{"server": "r.io", "username": "u", "password": ""}]), "registries[0] (r.io).password"),
    (dict(registries=[{"server": "r.io", "username": "u"}]), "registries[0] (r.io).password"),
    (dict(namespaces=[{"name": "Apps"}]), "namespaces[0].name"),
    (dict(namespaces=[{"name": "apps"}, {"name": "apps"}]), "listed twice"),
    (dict(secret_name="Not_Valid"), "secret_name"),
    (dict(registries=[{"server": "r.io", "username": "u", "password": "x" * 2**20}]), "over the Secret limit"),
]


@pytest.mark.parametrize("overrides, message", BAD_ARGS, ids=[m for _, m in BAD_ARGS])
def test_bad_args_raise_one_clear_error_and_register_nothing(overrides, message):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("rc", args(**overrides)), mocks=mocks)
    assert message in str(raised.value)
    assert mocks.records == []


def test_the_register_nothing_check_can_fail():
    """A program that registers and then raises is seen: the check above is not vacuous."""
    mocks = RecordingMocks()

    def program():
        RegistryCredentials("rc", args())
        raise ConfigError("late")

    with pytest.raises(ConfigError):
        run_program(program, mocks=mocks)
    assert {r.typ for r in mocks.records} >= {SECRET_TYPE}


def test_a_password_output_from_another_resource_is_kept_secret():
    def program():
        password = pulumi.Output.from_input(PASSWORDS["harbor"])  # e.g. a robot account's generated secret
        RegistryCredentials("rc", {"registries": [{**REGISTRIES[0], "password": password}],
                                   "namespaces": [{"name": "apps"}]})

    result = run_program(program)
    (secret,) = result.of_type(SECRET_TYPE)
    assert rpc.is_rpc_secret(secret.inputs["data"])
    assert PASSWORDS["harbor"] not in plaintext_of(result)
    assert json.loads(base64.b64decode(unwrap(secret.inputs)["data"][".dockerconfigjson"]))["auths"]


def test_config_errors_are_pulumi_run_errors_so_preview_prints_one_line_without_a_traceback():
    with pytest.raises(pulumi.RunError):
        run_program(lambda: RegistryCredentials("rc", args(registries=[])))


def test_no_namespaces_gives_empty_maps():
    result = run_program(lambda: _export(RegistryCredentials("rc", args(namespaces=[]))))
    assert result.outputs["secretNames"] == {} and result.outputs["imagePullSecrets"] == {}
