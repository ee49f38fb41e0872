"""The dates of credentials, pure: `until` and `expires`, the two spellings of one key, what a window holds.

The kubelet facts these rest on are proven against Go itself in tests/credentials/test_kubelet_keyring.py.
"""

import datetime
import json

import pytest

from registry_credentials.checks.problems import Problems
from registry_credentials.checks.values import ARGS, STACK
from registry_credentials.credentials import rotation
from registry_credentials.credentials.dockerconfig import Entry
from registry_credentials.credentials.keyring import parse_key
from registry_credentials.credentials.registries import check_registries
from registry_credentials.credentials.servers import DOCKER_HUB_KEY, normalize_server
from registry_credentials.errors import ConfigError

TODAY = datetime.date(2026, 12, 10)
HARBOR = {"server": "harbor.example.com", "username": "robot$app+new", "password": "New-S3cret"}


def registry(**extra):
    return {**HARBOR, **extra}


def previous(**extra):
    return {"username": "robot$app+old", "until": "2026-12-20", "password": "Old-S3cret", **extra}


# (value, date or the words of the message)
DATES = [
    ("2026-12-20", datetime.date(2026, 12, 20)),
    (datetime.date(2026, 12, 20), datetime.date(2026, 12, 20)),  # a YAML date, as an offline reader may give it
    ("2026-02-30", "'2026-02-30' is not a date"),
    ("20261220", "'20261220' is not a date"),
    ("2026-12-20T00:00:00Z", "is not a date"),
    ("soon", "'soon' is not a date; write it as YYYY-MM-DD"),
    ("2026-12-20\n", "is not a date"),
    (20261220, "must be a date written YYYY-MM-DD"),
    (datetime.datetime(2026, 12, 20, 1, 2), "must be a date written YYYY-MM-DD"),
    (None, "must be a date"),
]


@pytest.mark.parametrize("value, expected", DATES, ids=[repr(v) for v, _ in DATES])
def test_dates_are_written_yyyy_mm_dd(value, expected):
    if isinstance(expected, datetime.date):
        assert rotation.parse_date("until", value) == expected
    else:
        with pytest.raises(ConfigError) as raised:
            rotation.parse_date("until", value)
        assert str(raised.value).startswith("until: ") and expected in str(raised.value)


def test_today_comes_from_the_environment_when_set(monkeypatch):
    monkeypatch.setenv(rotation.TODAY_ENV, "2031-01-02")
    assert rotation.today() == datetime.date(2031, 1, 2)
    monkeypatch.setenv(rotation.TODAY_ENV, "tomorrow")
    with pytest.raises(ConfigError, match=r"\$REGISTRY_CREDENTIALS_TODAY: 'tomorrow' is not a date"):
        rotation.today()
    monkeypatch.delenv(rotation.TODAY_ENV)
    assert rotation.today() == datetime.datetime.now(datetime.timezone.utc).date()


SERVERS = ["harbor.example.com", "registry.example.com:5000", "registry.example.com:5000/team", "docker.io",
           "docker.io/library", "[fd00::1]:5000", "localhost:5000", "quay.io/org"]


@pytest.mark.parametrize("server", SERVERS)
def test_the_second_spelling_is_another_json_key_filed_under_the_same_index_key(server):
    key = normalize_server(server).key
    other = rotation.alternate_key(key)
    assert other != key
    assert parse_key(other) == parse_key(key) is not None


def test_docker_hubs_second_spelling_drops_the_scheme():
    assert rotation.alternate_key(DOCKER_HUB_KEY) == "index.docker.io/v1/"
    assert rotation.alternate_key("harbor.example.com") == "https://harbor.example.com"


def checked(items, source=ARGS, now=TODAY):
    problems = Problems()
    result = check_registries(items, problems, source, now=now)
    return result, problems.found


def test_a_live_window_renders_the_outgoing_credential_under_the_same_key_and_a_second_spelling():
    result, found = checked([registry(previous=previous()), {"server": "quay.io", "username": "q", "password": "Q"}])
    assert found == []
    assert result.rotating
    assert result.previous[0] == rotation.Previous("robot$app+old", datetime.date(2026, 12, 20), live=True)
    assert result.previous[1] is None
    previous_auths = json.loads(result.rendered_previous)["auths"]
    assert {k: v["username"] for k, v in previous_auths.items()} == {"harbor.example.com": "robot$app+old"}
    node = json.loads(result.rendered_node)["auths"]
    assert {k: v["username"] for k, v in node.items()} == {
        "harbor.example.com": "robot$app+new", "https://harbor.example.com": "robot$app+old", "quay.io": "q"}
    assert json.loads(result.rendered)["auths"]["harbor.example.com"]["username"] == "robot$app+new"


@pytest.mark.parametrize("until, live", [("2026-12-09", False), ("2026-12-10", True), ("2026-12-11", True)])
def test_until_is_the_last_day_the_outgoing_credential_is_kept(until, live):
    result, found = checked([registry(previous=previous(until=until))])
    assert found == [] and result.previous[0].live is live
    assert result.rotating is live
    assert (result.rendered_previous is None) is not live
    assert ("https://harbor.example.com" in json.loads(result.rendered_node)["auths"]) is live


def test_the_username_defaults_to_the_current_one():
    result, found = checked([registry(previous={"until": "2026-12-20", "password": "Old-S3cret"})])
    assert found == [] and result.previous[0].username == "robot$app+new"


L = "registries[0] (harbor.example.com)"
# (registry, the one message expected) -- each bad input gets exactly one
BAD = [
    (registry(previous=previous(until="next week")), f"{L}.previous.until: 'next week' is not a date"),
    (registry(previous=previous(until=None)), f"{L}.previous.until: is required"),
    (registry(previous=previous(until=20261220)), f"{L}.previous.until: must be a date written YYYY-MM-DD"),
    (registry(previous={"password": "Old-S3cret"}), f"{L}.previous.until: is required"),
    (registry(previous=previous(password=None)),
     f"{L}.previous.password: is not set; give the registry's password, as a secret"),
    (registry(previous=previous(password="  ")), f"{L}.previous.password: must not be empty"),
    (registry(previous=previous(username="robot$app+new", password="New-S3cret")),
     f"{L}.previous: is the same credential as the current one"),
    (registry(previous={"until": "2026-12-20", "password": "New-S3cret"}),
     f"{L}.previous: is the same credential as the current one"),
    (registry(expires="2026-12-15", previous=previous()),
     f"{L}.expires: 2026-12-15 is before previous.until 2026-12-20"),
    (registry(expires="March"), f"{L}.expires: 'March' is not a date"),
    (registry(previous=previous(username="a:b")), f"{L}.previous.username: must not contain ':'"),
    (registry(previous=previous(usrname="x")), f"{L}.previous.usrname: unknown setting (did you mean 'username'?)"),
    (registry(previous="2026-12-20"), f"{L}.previous: expected a mapping such as {{until: '2026-12-20'}}"),
]


@pytest.mark.parametrize("item, message", BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_previous_and_expires_get_one_message(item, message):
    _, found = checked([item])
    assert len(found) == 1, found
    assert found[0].startswith(message), found[0]
    assert "S3cret" not in found[0]


def test_different_usernames_with_one_password_are_two_credentials():
    _, found = checked([registry(previous=previous(password="New-S3cret"))])
    assert found == []


def test_stack_config_keeps_the_password_out_of_previous():
    item = {"name": "harbor", **registry(previous=previous(password="Old-S3cret"))}
    _, found = checked([item], source=STACK)
    assert found == []  # the reader put it there from previousPasswords, and refused one written by hand
    _, found = checked([{**item, "previous": {**previous(), "pasword": "x"}}], source=STACK)
    assert found == [f"{L}.previous.pasword: unknown setting; allowed: until, username"]


def expiring(days_from_today):
    return Entry(0, "harbor.example.com", "harbor.example.com", "robot",
                 expires=TODAY + datetime.timedelta(days=days_from_today))


# (days until expires, warning days, mode, warnings' words, problems' words)
EXPIRY = [
    (30, 14, rotation.ExpiredCredentials.FAIL, [], []),
    (15, 14, rotation.ExpiredCredentials.FAIL, [], []),
    (14, 14, rotation.ExpiredCredentials.FAIL, ["expires in 14 days (2026-12-24)"], []),
    (1, 14, rotation.ExpiredCredentials.FAIL, ["expires in 1 day (2026-12-11)"], []),
    (0, 14, rotation.ExpiredCredentials.FAIL, ["expires today (2026-12-10)"], []),
    (-1, 14, rotation.ExpiredCredentials.FAIL, [], ["expired on 2026-12-09", "expiredCredentials: warn"]),
    (-1, 14, rotation.ExpiredCredentials.WARN, ["expired on 2026-12-09"], []),
    (3, 0, rotation.ExpiredCredentials.FAIL, [], []),
    (3, 3, rotation.ExpiredCredentials.FAIL, ["expires in 3 days"], []),
]


@pytest.mark.parametrize("days, warn_days, mode, warning, problem", EXPIRY)
def test_expires_warns_within_the_set_days_and_fails_once_past(days, warn_days, mode, warning, problem):
    warnings, problems = rotation.expiry_findings([expiring(days)], rotation.ExpirySettings(warn_days, mode), TODAY)
    assert len(warnings) == (1 if warning else 0) and len(problems) == (1 if problem else 0)
    for words, found in ((warning, warnings), (problem, problems)):
        for word in words:
            assert word in found[0]
        if words:
            assert found[0].startswith("registries[0] (harbor.example.com).expires: ")


@pytest.mark.parametrize("config, expected", [
    ({}, rotation.ExpirySettings(14, rotation.ExpiredCredentials.FAIL)),
    ({"expiry_warning_days": 30, "expired_credentials": "warn"},
     rotation.ExpirySettings(30, rotation.ExpiredCredentials.WARN)),
    ({"expiry_warning_days": "7"}, rotation.ExpirySettings(7, rotation.ExpiredCredentials.FAIL)),
])
def test_expiry_settings(config, expected):
    problems = Problems()
    assert rotation.check_expiry_settings(config, problems, ARGS) == expected
    assert problems.found == []


@pytest.mark.parametrize("config, message", [
    ({"expiryWarningDays": -1}, "expiryWarningDays: must be a whole number of days from 0 to 3650"),
    ({"expiryWarningDays": True}, "expiryWarningDays: must be a whole number of days"),
    ({"expiryWarningDays": "two weeks"}, "expiryWarningDays: must be a whole number of days"),
    ({"expiredCredentials": "ignore"}, "expiredCredentials: must be one of fail, warn, not 'ignore'"),
])
def test_bad_expiry_settings(config, message):
    problems = Problems()
    rotation.check_expiry_settings(config, problems, STACK)
    assert len(problems.found) == 1 and problems.found[0].startswith(message), problems.found
