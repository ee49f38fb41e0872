"""Ownership of `imagePullSecrets` from live ServiceAccounts shaped like a real API server's, managedFields included.

Fixtures in tests/service_accounts/fixtures/ each carry `_sources`: where their shape comes from (the Kubernetes
server-side-apply docs and API reference, a real API server dump, kubectl's field manager names). Every fixture
mixes managers that own the list with managers that own other fields (the controller-manager's `secrets`,
kubectl's last-applied annotation), so a filter that counts every manager as an owner fails here.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.cli.mockrun import run_program
from registry_credentials.service_accounts.pull_secrets import list_owners, live_names, plan_for_live, plan_pull_secrets
from registry_credentials.service_accounts.resources import KEPT_ANNOTATION, UnsafePatchError
from registry_credentials.service_accounts.settings import ForeignPullSecrets

KEEP = ForeignPullSecrets.KEEP

FIXTURES = Path(__file__).parent / "fixtures"
OURS = "pulumi-registry-credentials-test-rc"  # field_manager("rc") under the mocks' project and stack
SA = "kubernetes:core/v1:ServiceAccount"
PATCH = "kubernetes:core/v1:ServiceAccountPatch"
REGISTRY = {"server": "harbor.example.com", "username": "robot$puller", "password": "Managed-F1elds-pw"}


def fixture(name: str) -> Dict[str, Any]:
    """A live ServiceAccount as `kubectl get sa -o json --show-managed-fields` prints it."""
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    assert document["_sources"], f"{name}: every fixture says where its shape comes from"
    return document["object"]


# name: (owners of the list, live names, {mode: planned list or the foreign names of the refusal}, force in keep)
# A force in both modes is written {"fail": True, KEEP: True}.
CASES: Dict[str, Any] = {
    "controller_manager_only": ((), (), {"fail": ["rc"], KEEP: ["rc"]}, False),
    "kubectl_client_side_apply": (("kubectl-client-side-apply",), ("team-pull",),
                                  {"fail": "['team-pull']", KEEP: ["team-pull", "rc"]}, True),
    "kubectl_edit": (("kubectl-edit",), ("legacy-pull",), {"fail": "['legacy-pull']", KEEP: ["legacy-pull", "rc"]},
                     True),
    # Only we own the list, next to the controller-manager and kubectl owning other fields: rc-old is ours.
    "ours_renamed_secret": ((OURS,), ("rc-old",), {"fail": ["rc"], KEEP: ["rc"]}, False),
    "ours_renamed_secret_with_kept": ((OURS,), ("team-pull", "rc-old"),
                                      {"fail": "['team-pull']", KEEP: ["team-pull", "rc"]}, True),
    "ours_with_duplicates": ((OURS,), ("rc", "team-pull"), {"fail": "['team-pull']", KEEP: ["rc", "team-pull"]},
                             True),
    "edited_with_duplicates": (("kubectl-edit",), ("legacy-pull", "rc"),
                               {"fail": "['legacy-pull']", KEEP: ["legacy-pull", "rc"]}, True),
    # A co-owner applied the identical value: it relies on rc-old too, so rc-old is not ours to drop.
    "co_owner_identical_value": ((OURS, "kubectl"), ("rc-old",), {"fail": "['rc-old']", KEEP: ["rc-old", "rc"]},
                                 True),
    # kubectl patch of the controller's default: the API server tracks nothing, so no owner; the entry is foreign.
    "kubectl_patch_untracked": ((), ("legacy-pull",), {"fail": "['legacy-pull']", KEEP: ["legacy-pull", "rc"]},
                                True),
    # Another instance's retained patch: its list is [rc] (ours by name), but its annotations need force.
    "retained_by_another_instance": (("pulumi-registry-credentials-old-rc",), ("rc",), {"fail": ["rc"], KEEP: ["rc"]},
                                     {"fail": True, KEEP: True}),
}


def forced(case: Any, mode: str) -> bool:
    """Whether the case's plan forces in `mode`."""
    force = case[3]
    return force[mode] if isinstance(force, dict) else (force if mode == KEEP else False)


def test_every_fixture_has_a_case():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_list_owners_counts_only_managers_of_the_list(name: str):
    owners, _, _, _ = CASES[name]
    managed = fixture(name)["metadata"].get("managedFields", [])
    # Other managers are present and must not count (an untracked object has none at all).
    assert len(managed) > len(owners) or not managed or name == "retained_by_another_instance"
    assert list_owners(managed) == owners


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_names_in_order_without_duplicates(name: str):
    _, names, _, _ = CASES[name]
    assert live_names(fixture(name).get("imagePullSecrets")) == names


def _plan(name: str, mode: str) -> Any:
    live = fixture(name)
    return plan_for_live("apps/default", live.get("imagePullSecrets"), live["metadata"], "rc", mode, OURS)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("mode", ["fail", KEEP])
def test_plan_through_list_owners_and_live_names(name: str, mode: str):
    _, _, expected, _ = CASES[name]
    if isinstance(expected[mode], str):
        with pytest.raises(ConfigError) as raised:
            _plan(name, mode)
        assert f"already lists imagePullSecrets {expected[mode]} set by someone else" in str(raised.value)
        return
    plan = _plan(name, mode)
    assert list(plan.names) == expected[mode]
    assert plan.force == forced(CASES[name], mode)
    assert len(set(plan.names)) == len(plan.names)


def _component(name: str, mode: str, live: Optional[Dict[str, Any]] = None) -> List[str]:
    args = {"registries": [REGISTRY], "namespaces": [{"name": "apps", "foreign_pull_secrets": mode}],
            "secret_name": "rc"}
    run = run_program(lambda: RegistryCredentials("rc", args), live={(SA, "apps/default"): live or fixture(name)})
    (patch,) = [p for p in run.of_type(PATCH) if not p.name.endswith(":ensure")]
    force = patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"]
    return [e["name"] for e in patch.inputs["imagePullSecrets"]] + [f"force={force}"]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("mode", ["fail", KEEP])
def test_component_reads_the_live_object_the_same_way(name: str, mode: str):
    # The whole path: the provider's read (camelCase JSON -> SDK output types), field_of, list_owners, live_names.
    _, _, expected, _ = CASES[name]
    if isinstance(expected[mode], str):
        with pytest.raises(UnsafePatchError) as raised:
            _component(name, mode)
        assert f"already lists imagePullSecrets {expected[mode]} set by someone else" in str(raised.value)
        return
    refused = ""
    try:
        planned = _component(name, mode)
    except UnsafePatchError as err:  # failed outside the handler: its deep async traceback upsets pytest's repr
        refused = str(err)[:120]
    assert not refused, f"refused unexpectedly: {refused}"
    assert planned == expected[mode] + [f"force={'true' if forced(CASES[name], mode) else 'false'}"]


def test_an_entry_we_recorded_as_kept_stays_whatever_its_name_sorts_like():
    # "a-team" sorts before our "rc": only equality, never order, may decide what is ours.
    live = ("a-team", "rc-old")
    plan = plan_pull_secrets("apps/default", live, "rc", KEEP, owned_by_us=True, kept=["a-team"])
    assert (list(plan.names), plan.force, plan.foreign) == (["a-team", "rc"], True, ("a-team",))
    with pytest.raises(ConfigError, match=r"\['a-team'\]"):
        plan_pull_secrets("apps/default", live, "rc", "fail", owned_by_us=True, kept=["a-team"])


def test_names_and_modes_compare_by_value_not_identity():
    # Live names, our name and the mode arrive from JSON, stack config or a str Enum: never the same objects.
    ours = "".join(["r", "c"])
    live = ("".join(["r", "c"]), "".join(["te", "am"]))
    plan = plan_pull_secrets("apps/default", live, ours, "".join(["ke", "ep"]), owned_by_us=True,
                             kept=["".join(["r", "c"]), "team"])
    assert (list(plan.names), plan.force, plan.foreign) == (["rc", "team"], True, ("team",))


# (live list, owned by us, kept, mode, the list we apply) with our Secrets ("ours", "ours-previous")
ROTATION_LISTS = [
    ([], False, [], "fail", ("ours", "ours-previous")),
    (["ours"], True, [], "fail", ("ours", "ours-previous")),
    (["ours", "ours-previous"], True, [], "fail", ("ours", "ours-previous")),
    (["x", "ours"], False, [], "keep", ("x", "ours", "ours-previous")),
    (["ours", "x"], True, ["x"], "keep", ("ours", "ours-previous", "x")),
    (["ours-previous", "ours", "x"], True, ["x"], "keep", ("ours", "ours-previous", "x")),
]


@pytest.mark.parametrize("live, owned, kept, mode, names", ROTATION_LISTS)
def test_during_a_window_our_two_secrets_are_one_block_current_first(live, owned, kept, mode, names):
    from registry_credentials.service_accounts.pull_secrets import plan_pull_secrets
    from registry_credentials.service_accounts.settings import ForeignPullSecrets

    plan = plan_pull_secrets("apps/default", live, ("ours", "ours-previous"), ForeignPullSecrets(mode),
                             owned_by_us=owned, kept=kept)
    assert plan.names == names


@pytest.mark.parametrize("owned", [True, False])
def test_after_a_window_the_previous_secret_is_ours_to_drop_never_someone_elses(owned):
    from registry_credentials.service_accounts.pull_secrets import plan_pull_secrets
    from registry_credentials.service_accounts.settings import ForeignPullSecrets

    plan = plan_pull_secrets("apps/default", ["ours", "ours-previous"], "ours", ForeignPullSecrets.FAIL,
                             owned_by_us=owned, retired=["ours-previous"])
    assert (plan.names, plan.foreign) == (("ours",), ())


@pytest.mark.parametrize("name", sorted(CASES))
def test_reading_the_live_object_logs_no_key_warning(name: str):
    # The SDK's output types warn on every camelCase get() ("Key 'managedFields' not found in ObjectMeta"): at
    # 1,000 namespaces that was 2,000 warnings per preview, sent to the engine and printed.
    args = {"registries": [REGISTRY], "namespaces": [{"name": "apps", "foreign_pull_secrets": KEEP}],
            "secret_name": "rc"}
    run = run_program(lambda: RegistryCredentials("rc", args), live={(SA, "apps/default"): fixture(name)})
    assert not [w for w in run.warnings if "not found in" in w], run.warnings
