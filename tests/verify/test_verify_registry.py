"""The credentials check against real registries: HTTPS with a generated CA, Basic and token auth."""

import threading
import time

import pytest

from registry_credentials.credentials.servers import DOCKER_HUB_KEY
from registry_credentials.verify import login as verify
from registry_credentials.verify.login import ACCEPTED, REJECTED, UNREACHABLE, Target, check, check_all, endpoint_of
from support.tls_registry import PASSWORD, USERNAME, make_ca, running_tls_registry, silent_server

TIMEOUT = 5.0


def target(registry, password=PASSWORD, ca_file="default", **extra):
    """A Target for a test registry; ca_file defaults to the registry's own CA."""
    ca = str(registry.ca_file) if ca_file == "default" else ca_file
    return Target(f"registries[0] ({registry.host})", registry.host, USERNAME, password, ca_file=ca, **extra)


def assert_no_secret(result, *secrets):
    for text in (repr(result), result.detail):
        for secret in (PASSWORD, *secrets):
            assert secret not in text


@pytest.mark.parametrize("fixture", ["tls_basic_registry", "tls_token_registry"])
@pytest.mark.parametrize("password, outcome", [(PASSWORD, ACCEPTED), ("wrong-" + PASSWORD, REJECTED)])
def test_right_password_accepted_wrong_rejected(request, fixture, password, outcome):
    registry = request.getfixturevalue(fixture)
    result = check(target(registry, password), TIMEOUT)
    assert result.outcome == outcome, result.detail
    assert_no_secret(result, password)
    if registry.issuer is not None:
        assert_no_secret(result, *registry.issuer.issued)


def test_token_flow_asks_the_realm_with_service_and_account(tls_token_registry):
    before = len(tls_token_registry.issuer.requests)
    assert check(target(tls_token_registry), TIMEOUT).outcome == ACCEPTED
    (path,) = tls_token_registry.issuer.requests[before:]
    assert path.startswith("/token?") and "service=test-registry" in path and "account=robot%24verify" in path


def test_wrong_password_at_the_token_server_is_named_in_the_detail(tls_token_registry):
    result = check(target(tls_token_registry, "nope-nope"), TIMEOUT)
    assert result.outcome == REJECTED
    assert "token server" in result.detail and "401" in result.detail


def test_without_the_ca_the_certificate_is_not_trusted(tls_basic_registry):
    result = check(target(tls_basic_registry, ca_file=None), TIMEOUT)
    assert (result.outcome, result.detail) == (UNREACHABLE, "TLS failed: certificate verify failed: unable to get "
                                               "local issuer certificate")


def test_a_different_ca_is_not_trusted(tls_basic_registry, tmp_path):
    other = make_ca(tmp_path / "other", name="other CA")
    result = check(target(tls_basic_registry, ca_file=str(other.ca_file)), TIMEOUT)
    assert result.outcome == UNREACHABLE and result.detail.startswith("TLS failed: certificate verify failed")


def test_plain_http_registry_needs_insecure(real_registry):
    """The plain-HTTP htpasswd registry of support.registry: refused over HTTPS, checked when insecure."""
    plain = Target("plain", real_registry.host, real_registry.username, real_registry.password)
    assert check(plain, TIMEOUT).outcome == UNREACHABLE
    insecure = Target("plain", real_registry.host, real_registry.username, real_registry.password, insecure=True)
    assert check(insecure, TIMEOUT).outcome == ACCEPTED
    wrong = Target("plain", real_registry.host, real_registry.username, "wrong-password", insecure=True)
    assert check(wrong, TIMEOUT).outcome == REJECTED


@pytest.mark.parametrize("insecure", [False, True])
def test_plain_http_realm_on_another_host_gets_no_credentials(tmp_path, insecure):
    with running_tls_registry(tmp_path, USERNAME, PASSWORD, auth="token", realm_host="127.0.0.2",
                              realm_tls=False) as registry:
        result = check(target(registry, insecure=insecure), TIMEOUT)
        assert result.outcome == UNREACHABLE
        assert "refused to send credentials to the plain-HTTP token realm http://127.0.0.2:" in result.detail
        assert registry.issuer.requests == []  # nothing at all reached the realm


def test_https_realm_on_another_host_is_used(tmp_path):
    """Docker Hub's shape: the realm (auth.docker.io) is another host than the registry, over HTTPS."""
    with running_tls_registry(tmp_path, USERNAME, PASSWORD, auth="token", realm_host="127.0.0.2") as registry:
        assert check(target(registry), TIMEOUT).outcome == ACCEPTED
        assert check(target(registry, "bad-password"), TIMEOUT).outcome == REJECTED


@pytest.mark.parametrize("host, detail", [
    ("registry.invalid", "DNS lookup failed"),
    ("127.0.0.1:1", "connection refused"),
])
def test_unreachable_hosts(host, detail):
    result = check(Target("r", host, "u", PASSWORD), TIMEOUT)
    assert (result.outcome, result.detail) == (UNREACHABLE, detail)


def test_https_proxy_is_honoured_and_no_proxy_bypasses_it(tls_basic_registry, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = check(target(tls_basic_registry), TIMEOUT)
    assert (through_proxy.outcome, through_proxy.detail) == (
        UNREACHABLE, "the proxy from HTTPS_PROXY could not be used")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert check(target(tls_basic_registry), TIMEOUT).outcome == ACCEPTED


def test_fifty_registries_cost_about_one_timeout():
    """50 registries that never answer, 1 s each: checked in parallel they end within a few timeouts, not 50."""
    timeout = 1.0
    with silent_server() as host:
        started = time.monotonic()
        results = check_all([Target(f"registries[{i}]", host, "u", PASSWORD) for i in range(50)], timeout)
        elapsed = time.monotonic() - started
    assert [r.label for r in results] == [f"registries[{i}]" for i in range(50)]
    assert {(r.outcome, r.detail) for r in results} == {(UNREACHABLE, "timed out")}
    assert elapsed < 4 * timeout, f"{elapsed:.2f} s for 50 registries"


def test_a_check_stuck_past_its_deadline_is_reported_unreachable(monkeypatch):
    monkeypatch.setattr(verify, "check", lambda target, timeout: time.sleep(5))
    started = time.monotonic()
    (result,) = check_all([Target("registries[0]", "stuck.example", "u", PASSWORD)], 0.2)
    assert time.monotonic() - started < 2
    assert (result.outcome, result.detail) == (UNREACHABLE, "no answer within 0.2 s")


def test_mixed_outcomes_keep_their_order(tls_basic_registry, tls_token_registry):
    results = check_all([
        target(tls_basic_registry), target(tls_token_registry, "bad-password"),
        Target("gone", "127.0.0.1:1", "u", PASSWORD),
    ], TIMEOUT)
    assert [r.outcome for r in results] == [ACCEPTED, REJECTED, UNREACHABLE]


@pytest.mark.parametrize("key, endpoint", [
    (DOCKER_HUB_KEY, "registry-1.docker.io"),
    ("docker.io/team", "registry-1.docker.io"),
    ("harbor.example.com:8443/team/app", "harbor.example.com:8443"),
    ("[::1]:5000", "[::1]:5000"),
])
def test_endpoint_of_key(key, endpoint):
    assert endpoint_of(key) == endpoint


def test_scrub_hides_secrets_but_not_short_words():
    assert verify.scrub("token abcd1234 and p", ["abcd1234", "p"]) == "token *** and p"


def test_more_registries_than_threads_are_checked_in_batches(monkeypatch):
    monkeypatch.setattr(verify, "MAX_PARALLEL", 3)
    lock, running, peak = threading.Lock(), [0], [0]

    def fake_check(target, timeout):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return verify.Result(target.label, target.key, target.key, target.username, ACCEPTED, "ok")

    monkeypatch.setattr(verify, "check", fake_check)
    results = check_all([Target(f"r{i}", "h", "u", PASSWORD) for i in range(7)], 1.0)
    assert [(r.label, r.outcome) for r in results] == [(f"r{i}", ACCEPTED) for i in range(7)]
    assert peak[0] == 3


def test_a_bad_ca_file_is_a_result_not_a_traceback(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    result = check(Target("r", "127.0.0.1:1", "u", PASSWORD, ca_file=str(bad)), TIMEOUT)
    assert (result.outcome, result.detail) == (UNREACHABLE, "could not prepare the request (SSLError)")
