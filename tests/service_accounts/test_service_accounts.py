"""Methods 2 and 3: ServiceAccounts created and patched, others' pull secrets never silently lost."""

import pulumi
import pytest

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.checks.names import MAX_FIELD_MANAGER
from registry_credentials.cli.mockrun import run_program
from registry_credentials.service_accounts.pull_secrets import plan_pull_secrets
from registry_credentials.service_accounts.resources import UnsafePatchError, field_manager
from registry_credentials.service_accounts.settings import ForeignPullSecrets
from support.records import manifest_bodies, unwrap, validate_strict

KEEP = ForeignPullSecrets.KEEP

SA = "kubernetes:core/v1:ServiceAccount"
PATCH = "kubernetes:core/v1:ServiceAccountPatch"
REGISTRY = {"server": "harbor.example.com", "username": "robot$puller", "password": "Harb0r-S3cret"}

# (live entries, mode, expected list, force) — or an error substring instead of list/force.
PLANS = [
    ([], "fail", ["rc"], False),
    (["rc"], "fail", ["rc"], False),
    (["rc", "rc"], "fail", ["rc"], False),
    (["other"], "fail", "already lists imagePullSecrets ['other']", None),
    (["other"], KEEP, ["other", "rc"], True),
    (["a", "rc", "b"], KEEP, ["a", "rc", "b"], True),
    (["default-dockercfg-x7k2p"], KEEP, ["default-dockercfg-x7k2p", "rc"], True),  # OpenShift's own entry
]


@pytest.mark.parametrize("live, mode, expected, force", PLANS)
def test_plan(live, mode, expected, force):
    if isinstance(expected, str):
        with pytest.raises(ConfigError) as raised:
            plan_pull_secrets("apps/default", live, "rc", mode)
        assert expected in str(raised.value) and "foreign_pull_secrets: keep" in str(raised.value)
        return
    plan = plan_pull_secrets("apps/default", live, "rc", mode)
    assert (list(plan.names), plan.force) == (expected, force)


def live_sa(names, owners=(), kept=None):
    """A live ServiceAccount as the provider reads it: its list, who owns the list, our kept-entries annotation."""
    metadata = {"managedFields": [{"manager": m, "operation": "Apply", "fieldsType": "FieldsV1",
                                   "fieldsV1": {"f:imagePullSecrets": {}}} for m in owners]}
    if kept is not None:
        metadata["annotations"] = {"registry-credentials.pulumi.com/kept-pull-secrets": kept}
    return {"imagePullSecrets": [{"name": n} for n in names], "metadata": metadata}


def build(namespaces, live=None, **extra):
    """Run the component with one registry and these namespaces; `live` maps 'ns/sa' to its imagePullSecrets."""
    live_objects = {(SA, key): (value if isinstance(value, dict) else live_sa(value))
                    for key, value in (live or {}).items()}
    args = {"registries": [REGISTRY], "namespaces": namespaces, "secret_name": "rc", **extra}
    return run_program(lambda: RegistryCredentials("rc", args), live=live_objects)


def patches(run):
    return {f"{p.inputs['metadata']['namespace']}/{p.inputs['metadata']['name']}": p for p in run.of_type(PATCH)
            if not p.name.endswith(":ensure")}


def test_default_service_account_is_patched_not_declared():
    run = build([{"name": "apps"}])
    (patch,) = patches(run).values()
    assert patch.inputs["metadata"]["name"] == "default"
    assert patch.inputs["imagePullSecrets"] == [{"name": "rc"}]
    assert patch.inputs["metadata"]["annotations"] == {
        "pulumi.com/patchFieldManager": "pulumi-registry-credentials-test-rc",
        "pulumi.com/patchForce": "false",
        "registry-credentials.pulumi.com/kept-pull-secrets": "",
    }
    assert patch.retain_on_delete is False
    assert not [r for r in run.of_type(SA) if r.inputs["metadata"]["name"] == "default"]
    # The live object was read first, by its namespace/name id.
    assert [r.resource_id for r in run.records if r.read] == ["apps/default"]


def test_field_manager_is_deterministic_per_stack_and_instance():
    managers = set()
    for _ in range(2):
        run = build([{"name": "apps"}])
        managers.add(patches(run)["apps/default"].inputs["metadata"]["annotations"]["pulumi.com/patchFieldManager"])
    assert managers == {"pulumi-registry-credentials-test-rc"}



@pytest.mark.parametrize("past", [0, 1, 100])
def test_a_field_manager_fits_the_api_servers_limit_on_both_sides_of_it(past):
    prefix = len("pulumi-registry-credentials-test-")  # project and stack of the mocks
    name = "x" * (MAX_FIELD_MANAGER - prefix + past)
    manager = run_program(lambda: pulumi.export("m", field_manager(name))).outputs["m"]
    assert len(manager) == MAX_FIELD_MANAGER and (manager.endswith(name)) is (past == 0)


def test_foreign_entries_fail_at_preview_by_default_and_name_the_service_account():
    with pytest.raises(UnsafePatchError) as raised:
        build([{"name": "apps"}], live={"apps/default": ["team-registry"]})
    text = str(raised.value)
    assert text.startswith("ServiceAccount apps/default already lists imagePullSecrets ['team-registry']")
    assert "foreign_pull_secrets: keep" in text
    # A RunError that is not a ValueError reaches the engine unwrapped: one message, no stack trace.
    assert isinstance(raised.value, pulumi.RunError) and not isinstance(raised.value, ValueError)


def test_keep_mode_preserves_foreign_entries_forces_warns_and_is_retained_on_destroy():
    run = build([{"name": "apps", "foreign_pull_secrets": "keep"}], live={"apps/default": ["team-registry"]})
    patch = patches(run)["apps/default"]
    assert patch.inputs["imagePullSecrets"] == [{"name": "team-registry"}, {"name": "rc"}]
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
    assert patch.retain_on_delete is True
    (warning,) = run.warnings
    assert "ServiceAccount apps/default" in warning and "['team-registry']" in warning and "destroy" in warning


OURS = "pulumi-registry-credentials-test-rc"

# (live ServiceAccount, mode, expected list): whose entries are whose, from managedFields and our annotation.
OWNERSHIP = [
    # Only our manager owns the list: an old entry of ours (the Secret was renamed) is replaced, not kept.
    (live_sa(["old-name"], owners=[OURS], kept=""), "fail", ["rc"]),
    # ...but what we recorded as someone else's stays theirs.
    (live_sa(["team", "old-name"], owners=[OURS], kept="team"), "keep", ["team", "rc"]),
    # Someone else owns (or co-owns) the list: every other entry is theirs.
    (live_sa(["old-name"], owners=[OURS, "kubectl-edit"], kept=""), "keep", ["old-name", "rc"]),
    # No managedFields to go by: be conservative.
    (live_sa(["old-name"]), "keep", ["old-name", "rc"]),
]


@pytest.mark.parametrize("live, mode, expected", OWNERSHIP)
def test_ownership_decides_which_entries_are_foreign(live, mode, expected):
    run = build([{"name": "apps", "foreign_pull_secrets": mode}], live={"apps/default": live})
    assert [e["name"] for e in patches(run)["apps/default"].inputs["imagePullSecrets"]] == expected


def test_switching_back_to_fail_mode_never_drops_entries_we_kept():
    with pytest.raises(UnsafePatchError):
        build([{"name": "apps"}], live={"apps/default": live_sa(["team", "rc"], owners=[OURS], kept="team")})


def test_keep_mode_records_the_kept_entries_on_the_service_account():
    run = build([{"name": "apps", "foreign_pull_secrets": "keep"}], live={"apps/default": ["a", "b"]})
    annotations = patches(run)["apps/default"].inputs["metadata"]["annotations"]
    assert annotations["registry-credentials.pulumi.com/kept-pull-secrets"] == "a,b"


def test_keep_mode_without_foreign_entries_does_not_force():
    run = build([{"name": "apps", "foreign_pull_secrets": "keep"}], live={"apps/default": ["rc"]})
    patch = patches(run)["apps/default"]
    assert patch.inputs["imagePullSecrets"] == [{"name": "rc"}]
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "false"
    assert run.warnings == []


def test_named_service_accounts_created_and_patched():
    run = build([{"name": "basic", "default_service_account": False, "service_accounts": ["service1"],
                  "patch_service_accounts": ["ci-runner"]}],
                live={"basic/ci-runner": ["rc"]})
    (created,) = run.of_type(SA)
    assert created.inputs["metadata"]["name"] == "service1"
    assert created.inputs["imagePullSecrets"] == [{"name": "rc"}]
    assert created.inputs["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pulumi"
    assert patches(run)["basic/ci-runner"].inputs["imagePullSecrets"] == [{"name": "rc"}]


def test_patched_named_service_account_keeps_foreign_entries_in_keep_mode():
    run = build([{"name": "basic", "default_service_account": False, "patch_service_accounts": ["ci-runner"],
                  "foreign_pull_secrets": "keep"}], live={"basic/ci-runner": ["ci-token-pull"]})
    assert patches(run)["basic/ci-runner"].inputs["imagePullSecrets"] == [{"name": "ci-token-pull"}, {"name": "rc"}]


def test_a_namespace_the_stack_creates_is_ensured_before_its_default_service_account_is_read():
    run = build([{"name": "fresh", "create": True}])
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "fresh"
    ensure = next(p for p in run.of_type(PATCH) if p.name.endswith(":ensure"))
    # An empty apply: it only makes sure the object exists, and owns no field to fight over, not even a
    # patchFieldManager annotation (the main patch sets that one; two managers' values conflict).
    assert set(ensure.inputs) == {"apiVersion", "kind", "metadata"}
    assert set(ensure.inputs["metadata"]) == {"name", "namespace"}
    read = next(r for r in run.records if r.read)
    assert read.resource_id == "fresh/default"
    assert patches(run)["fresh/default"].inputs["imagePullSecrets"] == [{"name": "rc"}]
    secret = run.of_type("kubernetes:core/v1:Secret")[0]
    assert any(dep.endswith("Namespace::rc:fresh") for dep in secret.dependencies)


def test_patches_come_after_the_secret_they_reference():
    run = build([{"name": "apps"}])
    assert any(d.endswith("Secret::rc:apps") for d in patches(run)["apps/default"].dependencies)


BAD = [
    ({"name": "apps", "service_accounts": ["default"]}, "'default' is handled by default_service_account"),
    ({"name": "apps", "patch_service_accounts": ["default"]}, "'default' is handled by default_service_account"),
    ({"name": "apps", "service_accounts": ["a"], "patch_service_accounts": ["a"]}, "in both"),
    ({"name": "apps", "service_accounts": ["Bad_Name"]}, "service_accounts[0]"),
    ({"name": "apps", "service_accounts": "svc"}, "must be a list"),
    ({"name": "apps", "foreign_pull_secrets": "clobber"}, "must be one of fail, keep"),
    ({"name": "apps", "create": True, "patch_service_accounts": ["x"]}, "has no existing ServiceAccounts"),
]


@pytest.mark.parametrize("namespace, message", BAD, ids=[m for _, m in BAD])
def test_bad_service_account_settings_register_nothing(namespace, message):
    from registry_credentials.cli.mockrun import RecordingMocks

    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(lambda: RegistryCredentials("rc", {"registries": [REGISTRY], "namespaces": [namespace]}),
                    mocks=mocks)
    assert message in str(raised.value)
    assert mocks.records == []


def test_all_manifests_validate_strictly():
    run = build([{"name": "apps", "create": True, "service_accounts": ["service1"]},
                 {"name": "basic", "patch_service_accounts": ["ci"], "foreign_pull_secrets": "keep"}],
                live={"basic/ci": ["x"]})
    bodies = manifest_bodies(run.records)
    assert {b["kind"] for b in bodies} == {"Namespace", "Secret", "ServiceAccount"}
    for body in bodies:
        validate_strict(body)


def test_transform_factory_registers_as_a_stack_transform_and_a_resource_transform():
    import pulumi_kubernetes as k8s

    def program():
        rc = RegistryCredentials("rc", {"registries": [REGISTRY], "namespaces": [{"name": "apps"}]})
        pulumi.runtime.register_resource_transform(rc.pull_secret_transform())
        k8s.core.v1.ConfigMap("cm", metadata={"namespace": "apps"},
                              opts=pulumi.ResourceOptions(transforms=[rc.pull_secret_transform()]))

    run = run_program(program)
    assert len(run.stack_transforms) == 1
    (cm,) = run.of_type("kubernetes:core/v1:ConfigMap")
    assert len(cm.transforms) == 1
    args = pulumi.ResourceTransformArgs(
        custom=True, type_="kubernetes:core/v1:Pod", name="foo",
        props={"metadata": {"namespace": "apps"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        opts=pulumi.ResourceOptions())
    result = cm.transforms[0](args)
    assert unwrap(result.props)["spec"]["imagePullSecrets"] == [{"name": "rc"}]
