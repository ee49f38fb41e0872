"""The platform model's rules on their own: each one can fail, so the scenarios built on them mean something."""

import pytest

from support.platform_model import (
    MAX_MANAGER,
    Cluster,
    Platform,
    PlatformError,
    ProviderOptions,
    relinquish,
    ssa_apply,
)

ISP = ("imagePullSecrets",)
PULL = [{"name": "ours"}]


def sa_cluster(pull_secrets=None, manager="kubectl-edit") -> Cluster:
    cluster = Cluster()
    cluster.put("Namespace", "", "apps")
    if pull_secrets is not None:
        cluster.put("ServiceAccount", "apps", "default", {"imagePullSecrets": pull_secrets}, manager=manager)
    return cluster


# (live list owned by kubectl-edit, applied list, force) -> error substring, or (resulting list, owners)
APPLIES = [
    (None, PULL, False, (PULL, {"me"})),
    ([{"name": "theirs"}], PULL, False, "conflict with \"kubectl-edit\": .imagePullSecrets"),
    ([{"name": "theirs"}], PULL, True, (PULL, {"me"})),
    (PULL, PULL, False, (PULL, {"me", "kubectl-edit"})),  # same value: shared, no conflict
]


@pytest.mark.parametrize("live, applied, force, expected", APPLIES)
def test_server_side_apply_ownership(live, applied, force, expected):
    cluster = sa_cluster(live)
    if isinstance(expected, str):
        with pytest.raises(PlatformError, match=expected):
            ssa_apply(cluster, "ServiceAccount", "apps", "default", {ISP: applied}, "me", force)
        return
    obj = ssa_apply(cluster, "ServiceAccount", "apps", "default", {ISP: applied}, "me", force)
    assert (obj.fields[ISP], obj.owners[ISP]) == expected


def test_relinquish_removes_only_what_the_manager_owned_alone():
    cluster = sa_cluster()
    fields = {ISP: PULL, ("metadata", "annotations", "a"): "1"}
    ssa_apply(cluster, "ServiceAccount", "apps", "default", fields, "me", False)
    ssa_apply(cluster, "ServiceAccount", "apps", "default", {("metadata", "annotations", "a"): "1"}, "other", False)
    relinquish(cluster, "ServiceAccount", "apps", "default", "me")
    obj = cluster.get(("ServiceAccount", "apps", "default"))
    assert obj.fields == {("metadata", "annotations", "a"): "1"}  # co-owned survives, ours alone is gone


def test_relinquish_of_a_missing_object_fails():
    with pytest.raises(PlatformError, match="not found"):
        relinquish(Cluster(), "ServiceAccount", "apps", "default", "me")


def test_field_manager_over_128_characters_is_rejected():
    cluster = sa_cluster()
    ssa_apply(cluster, "ServiceAccount", "apps", "default", {}, "m" * MAX_MANAGER, False)
    with pytest.raises(PlatformError, match="Too long"):
        ssa_apply(cluster, "ServiceAccount", "apps", "default", {}, "m" * (MAX_MANAGER + 1), False)


def test_apply_into_a_missing_namespace_fails():
    with pytest.raises(PlatformError, match='namespaces "apps" not found'):
        ssa_apply(Cluster(), "ServiceAccount", "apps", "default", {}, "me", False)


def test_reads_fail_for_missing_objects_and_are_skipped_for_unknown_ids():
    platform = Platform(sa_cluster([{"name": "theirs"}]))
    platform.begin(preview=True)
    with pytest.raises(PlatformError, match="resource 'apps/nope' does not exist"):
        platform.read("urn:a", "kubernetes:core/v1:ServiceAccount", "apps/nope")
    assert platform.read("urn:b", "kubernetes:core/v1:ServiceAccount", "04da6b54-80e4-46f7-96ec-b56ff0331ba9") == (
        "", None)
    id_, outputs = platform.read("urn:c", "kubernetes:core/v1:ServiceAccount", "apps/default")
    assert id_ == "apps/default" and outputs["imagePullSecrets"] == [{"name": "theirs"}]
    assert outputs["metadata"]["managedFields"][0]["manager"] == "kubectl-edit"
    assert outputs["metadata"]["managedFields"][0]["fieldsV1"] == {"f:imagePullSecrets": {}}


SECRET_INPUTS = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                 "metadata": {"name": "s", "namespace": "apps"}, "data": {".dockerconfigjson": "e30="}}


def register(platform, inputs, preview=False, urn="urn:pulumi:test::p::kubernetes:core/v1:Secret::s"):
    platform.begin(preview)
    result = platform.register(urn, "kubernetes:core/v1:Secret", inputs, True, False, set(), [])
    platform.finish()
    return result


def test_client_side_create_fails_for_an_existing_object_but_preview_is_green():
    cluster = sa_cluster()
    cluster.put("Secret", "apps", "s", {"data": {".dockerconfigjson": "e30="}}, manager="kubectl-create")
    platform = Platform(cluster)
    assert register(platform, SECRET_INPUTS, preview=True) == ("", SECRET_INPUTS)
    with pytest.raises(PlatformError, match='secrets "s" already exists'):
        register(platform, SECRET_INPUTS)


@pytest.mark.parametrize("mutable, op", [(False, "replace"), (True, "update")])
def test_secret_data_change_is_a_replace_unless_mutable(mutable, op):
    platform = Platform(sa_cluster(), ProviderOptions(enable_secret_mutable=mutable))
    register(platform, SECRET_INPUTS)
    changed = {**SECRET_INPUTS, "data": {".dockerconfigjson": "e30K"}}
    register(platform, changed, preview=True)
    assert [s.op for s in platform.changes()] == [op]
    register(platform, changed)
    assert platform.cluster.get(("Secret", "apps", "s")).fields[("data", ".dockerconfigjson")] == "e30K"
    register(platform, changed, preview=True)
    assert platform.changes() == []


def test_namespace_default_service_account_appears_after_the_run_not_at_create():
    platform = Platform(Cluster())
    platform.begin(preview=False)
    platform.register("urn:ns", "kubernetes:core/v1:Namespace",
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}, True, False, set(), [])
    assert platform.cluster.get(("ServiceAccount", "fresh", "default")) is None
    platform.finish()
    assert platform.cluster.get(("ServiceAccount", "fresh", "default")) is not None


def test_retain_on_delete_skips_the_provider_delete():
    platform = Platform(sa_cluster())
    platform.begin(preview=False)
    platform.register("urn:s", "kubernetes:core/v1:Secret", SECRET_INPUTS, True, True, set(), [])
    platform.finish()
    platform.destroy()
    assert platform.cluster.get(("Secret", "apps", "s")) is not None and platform.state == {}
