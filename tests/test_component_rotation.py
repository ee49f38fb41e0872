"""A rotation under Pulumi's mocks: the `-previous` Secrets, the order every list names them in, the node file,
the record of each window, and what a past `until` does on a first run and after a window has ended."""

import base64
import json

import pytest

from registry_credentials import ConfigError, RegistryCredentials
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from registry_credentials.credentials.rotation import EXPIRES_ANNOTATION, TODAY_ENV, UNTIL_ANNOTATION
from support.records import plaintext_of, unwrap
from support.stack import run_stack_program

NEW, OLD = "New-harbor-S3cret", "Old-harbor-S3cret"
HARBOR = {"name": "harbor", "server": "harbor.example.com", "username": "robot$app+new", "expires": "2027-03-01",
          "previous": {"username": "robot$app+old", "until": "2026-12-20"}}
ROTATING = {
    "registries": [HARBOR, {"name": "quay", "server": "quay.io", "username": "q"}],
    "passwords": {"harbor": NEW, "quay": "Quay-S3cret"},
    "previousPasswords": {"harbor": OLD},
    "namespaces": ["apps", {"name": "made", "create": True, "serviceAccounts": ["ci"]}],
    "nodeBootstrap": {"enabled": True},
    "secretName": "harbor-pull",
}
SECRET = "kubernetes:core/v1:Secret"


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setenv(TODAY_ENV, "2026-12-10")


def users(record):
    auths = json.loads(base64.b64decode(unwrap(record.inputs)["data"][".dockerconfigjson"]))["auths"]
    return {key: entry["username"] for key, entry in auths.items()}


def by_name(run, typ):
    return {r.name: r for r in run.of_type(typ)}


def test_a_live_window_adds_a_previous_secret_listed_second_everywhere():
    run = run_stack_program(ROTATING)
    secrets = by_name(run, SECRET)
    for namespace in ("apps", "made"):
        current = secrets[f"registry-credentials:{namespace}"]
        previous = secrets[f"registry-credentials:{namespace}:previous"]
        assert unwrap(previous.inputs)["metadata"]["name"] == "harbor-pull-previous"
        assert users(current) == {"harbor.example.com": "robot$app+new", "quay.io": "q"}
        assert users(previous) == {"harbor.example.com": "robot$app+old"}  # only the registries being rotated
        assert unwrap(current.inputs)["metadata"]["annotations"] == {EXPIRES_ANNOTATION: "2027-03-01"}
        assert unwrap(previous.inputs)["metadata"]["annotations"] == {UNTIL_ANNOTATION: "2026-12-20"}
    both = [{"name": "harbor-pull"}, {"name": "harbor-pull-previous"}]
    patches = by_name(run, "kubernetes:core/v1:ServiceAccountPatch")
    assert unwrap(patches["registry-credentials:apps/default"].inputs)["imagePullSecrets"] == both
    assert unwrap(patches["registry-credentials:made/default"].inputs)["imagePullSecrets"] == both
    created = by_name(run, "kubernetes:core/v1:ServiceAccount")["registry-credentials:made/ci"]
    assert unwrap(created.inputs)["imagePullSecrets"] == both
    assert run.outputs["imagePullSecrets"]["apps"] == both
    assert run.outputs["secretNames"]["apps"] == "harbor-pull"
    # Method 1: one Secret, both credentials, the outgoing one under a second spelling of the same key.
    node = secrets["registry-credentials:registry-credentials-node"]
    assert users(node) == {"harbor.example.com": "robot$app+new", "https://harbor.example.com": "robot$app+old",
                           "quay.io": "q"}
    assert "registry-credentials:registry-credentials-node:previous" not in secrets
    assert NEW not in plaintext_of(run) and OLD not in plaintext_of(run)


def test_the_previous_secret_and_the_lists_come_before_the_secret_that_is_replaced():
    """A changed Secret with a fixed name is deleted before it is re-created; the lists must already name
    `-previous`, which must already exist."""
    run = run_stack_program(ROTATING)
    secrets = by_name(run, SECRET)
    main = secrets["registry-credentials:apps"].dependencies
    assert any(d.endswith("::registry-credentials:apps:previous") for d in main)
    assert any(d.endswith("ServiceAccountPatch::registry-credentials:apps/default") for d in main)
    made = secrets["registry-credentials:made"].dependencies
    assert any(d.endswith("ServiceAccount::registry-credentials:made/ci") for d in made)
    patch = by_name(run, "kubernetes:core/v1:ServiceAccountPatch")["registry-credentials:apps/default"]
    assert any(d.endswith("::registry-credentials:apps:previous") for d in patch.dependencies)
    assert not any(d.endswith("Secret::registry-credentials:apps") for d in patch.dependencies)


def test_each_window_has_a_record_of_the_day_it_was_first_deployed():
    run = run_stack_program(ROTATING)
    (record,) = [r for r in run.of_type("random:index/randomId:RandomId") if ":previous:" in r.name]
    assert record.name == "registry-credentials:previous:harbor.example.com@2026-12-20"
    assert unwrap(record.inputs)["keepers"] == {"firstSeen": "2026-12-10"}


def test_without_a_window_nothing_changes():
    harbor = {k: v for k, v in HARBOR.items() if k != "previous"}
    plain = {**ROTATING, "registries": [harbor, ROTATING["registries"][1]]}
    del plain["previousPasswords"]
    run = run_stack_program(plain)
    assert not [r for r in run.of_type(SECRET) if r.name.endswith(":previous")]
    assert not [r for r in run.of_type("random:index/randomId:RandomId") if ":previous:" in r.name]
    patch = by_name(run, "kubernetes:core/v1:ServiceAccountPatch")["registry-credentials:apps/default"]
    assert unwrap(patch.inputs)["imagePullSecrets"] == [{"name": "harbor-pull"}]


class DeployedBefore(RecordingMocks):
    """Mocks whose state holds each window's record as deployed on `first_seen` (ignore_changes keeps it)."""

    def __init__(self, first_seen: str) -> None:
        super().__init__()
        self.first_seen = first_seen

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if ":previous:" in args.name and args.typ == "random:index/randomId:RandomId":
            state = {**state, "keepers": {"firstSeen": self.first_seen}}
        return resource_id, state


def test_after_the_window_the_next_preview_warns_and_drops_the_previous_credential(monkeypatch):
    monkeypatch.setenv(TODAY_ENV, "2026-12-21")
    run = run_stack_program(ROTATING, mocks=DeployedBefore("2026-12-10"))
    assert not [r for r in run.of_type(SECRET) if r.name.endswith(":previous")]
    patch = by_name(run, "kubernetes:core/v1:ServiceAccountPatch")["registry-credentials:apps/default"]
    assert unwrap(patch.inputs)["imagePullSecrets"] == [{"name": "harbor-pull"}]
    node = by_name(run, SECRET)["registry-credentials:registry-credentials-node"]
    assert "https://harbor.example.com" not in users(node)
    (warning,) = [w for w in run.warnings if "overlap window ended" in w]
    assert warning.startswith("registries[0] (harbor.example.com).previous: the overlap window ended on 2026-12-20 "
                              "(today is 2026-12-21)")
    assert "remove `previous`" in warning
    # The current Secret is exactly what it was during the window: no other change.
    monkeypatch.setenv(TODAY_ENV, "2026-12-10")
    during = by_name(run_stack_program(ROTATING), SECRET)["registry-credentials:apps"]
    after = by_name(run, SECRET)["registry-credentials:apps"]
    assert unwrap(after.inputs) == unwrap(during.inputs)


def test_until_already_past_on_the_first_run_fails_and_changes_nothing_in_the_cluster(monkeypatch):
    monkeypatch.setenv(TODAY_ENV, "2026-12-21")
    mocks = RecordingMocks()
    with pytest.raises(Exception) as raised:
        run_stack_program(ROTATING, mocks=mocks)
    assert str(raised.value) == (
        "registries[0] (harbor.example.com).previous.until: 2026-12-20 is already past (today is 2026-12-21), so the "
        "outgoing credential would not be kept at all: set until to the last day it must keep working, e.g. "
        "2026-12-28, or remove previous")
    assert type(raised.value).__name__ == "ResolvedConfigError"  # a RunError: the engine prints the message alone
    declared = [r for r in mocks.records if r.custom and not r.read]
    assert [r.typ for r in declared] == ["random:index/randomId:RandomId"]  # only the window's record, state only


def test_a_record_from_a_run_that_failed_keeps_failing(monkeypatch):
    """`up --skip-preview` records the window before the error; the next run still refuses it."""
    monkeypatch.setenv(TODAY_ENV, "2026-12-22")
    with pytest.raises(Exception, match="was already past when this window was first deployed, on 2026-12-21"):
        run_stack_program(ROTATING, mocks=DeployedBefore("2026-12-21"))


def test_the_transform_adds_both_secrets_in_order():
    import pulumi
    import pulumi_kubernetes as k8s

    def program():
        rc = RegistryCredentials("rc", {
            "registries": [{"server": "harbor.example.com", "username": "new", "password": NEW,
                            "previous": {"username": "old", "password": OLD, "until": "2026-12-20"}}],
            "namespaces": [{"name": "apps"}]})
        k8s.core.v1.Pod("p", metadata={"namespace": "apps"},
                        spec={"containers": [{"name": "c", "image": "harbor.example.com/a:1"}],
                              "imagePullSecrets": [{"name": "rc"}]},
                        opts=pulumi.ResourceOptions(transforms=[rc.pull_secret_transform()]))

    run = run_program(program, run_transforms=True)
    (pod,) = run.of_type("kubernetes:core/v1:Pod")
    assert unwrap(pod.inputs)["spec"]["imagePullSecrets"] == [{"name": "rc"}, {"name": "rc-previous"}]


# (change to the configuration, the one message) -- bad input at preview: one message, nothing registered
L = "registries[0] (harbor.example.com)"
BAD = [
    ({"previous": {"until": "next week"}}, f"{L}.previous.until: 'next week' is not a date"),
    ({"previous": {"username": "robot$app+old"}}, f"{L}.previous.until: is required"),
    ({"expires": "2026-12-15"}, f"{L}.expires: 2026-12-15 is before previous.until 2026-12-20"),
    ({"expires": "2026-12-01"}, f"{L}.expires: 2026-12-01 is before previous.until"),
    ({"previous": {"until": "2026-12-20", "password": OLD}}, "registries[0].previous.password: never put a password"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_rotation_settings_fail_with_one_message_and_register_nothing(change, message):
    mocks = RecordingMocks()
    config = {**ROTATING, "registries": [{**HARBOR, **change}, ROTATING["registries"][1]]}
    with pytest.raises(ConfigError) as raised:
        run_stack_program(config, mocks=mocks)
    assert raised.value.problems[0].startswith(message), raised.value.problems
    assert len(raised.value.problems) == 1  # an expired date is not reported again for a registry refused already
    assert mocks.records == []
    assert OLD not in str(raised.value) and NEW not in str(raised.value)


@pytest.mark.parametrize("config, message", [
    ({**ROTATING, "previousPasswords": {}}, "previousPasswords.harbor: the password of registry 'harbor' is not set; "
     "run pulumi config set --stack test --secret --path --type string 'previousPasswords.harbor' '<old password>'"),
    ({**ROTATING, "previousPasswords": {"harbor": NEW}, "registries": [
        {**HARBOR, "previous": {"until": "2026-12-20"}}, ROTATING["registries"][1]]},
     f"{L}.previous: is the same credential as the current one"),
    ({**ROTATING, "previousPasswords": {"harbor": OLD, "quay": "x"}},
     "previousPasswords.quay: this registry has no `previous`"),
    ({**ROTATING, "expiryWarningDays": "soon"}, "expiryWarningDays: must be a whole number of days"),
])
def test_bad_previous_passwords_fail_with_one_message_and_register_nothing(config, message):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack_program(config, mocks=mocks)
    assert raised.value.problems == (raised.value.problems[0],) and raised.value.problems[0].startswith(message)
    assert mocks.records == []


def test_previous_passwords_in_plain_text_are_refused():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="previousPasswords: is stored in plain text"):
        run_program(lambda: __import__("runpy").run_path("__main__.py", run_name="__main__"),
                    project="registry-credentials", mocks=mocks,
                    config={f"registry-credentials:{k}": v if isinstance(v, str) else json.dumps(v)
                            for k, v in ROTATING.items()},
                    secret_keys=["registry-credentials:passwords"])
    assert mocks.records == []


@pytest.mark.parametrize("today, expired, outcome", [
    ("2027-02-20", None, "warns"), ("2027-03-01", None, "warns"), ("2027-03-02", None, "fails"),
    ("2027-03-02", "warn", "warns"), ("2027-01-01", None, "quiet"),
])
def test_expires_at_preview(monkeypatch, today, expired, outcome):
    monkeypatch.setenv(TODAY_ENV, today)
    config = {**ROTATING, "registries": [{k: v for k, v in HARBOR.items() if k != "previous"}]}
    config["passwords"] = {"harbor": NEW}
    del config["previousPasswords"]
    if expired:
        config["expiredCredentials"] = expired
    mocks = RecordingMocks()
    if outcome == "fails":
        with pytest.raises(ConfigError, match=r"expires: the credential of user 'robot\$app\+new' expired on"):
            run_stack_program(config, mocks=mocks)
        assert mocks.records == []
        return
    run = run_stack_program(config, mocks=mocks)
    found = [w for w in run.warnings if ".expires: " in w]
    assert len(found) == (0 if outcome == "quiet" else 1)
