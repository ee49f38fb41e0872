"""The credentials check against real registries: HTTPS with a generated CA, Basic and token auth."""

import contextlib
import json
import socket
import threading
import time
from typing import Callable, Iterator, List

import pytest

from registry_credentials.credentials.servers import DOCKER_HUB_KEY
from registry_credentials.verify import login as verify
from registry_credentials.verify.challenge import MAX_CHALLENGE_BYTES, MAX_CHALLENGES
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


# ------------------------------------------------------------------------------------------- hostile registries


@contextlib.contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A plain-HTTP server on loopback that reads each request and then runs `answer` on the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)  # the request (or a TLS ClientHello, which then reads the answer as garbage)
            answer(conn)

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def drip(prefix: bytes, forever: bytes) -> Callable[[socket.socket], None]:
    """Send `prefix`, then `forever` one byte every 20 ms: every read lands well inside its timeout."""
    def answer(conn: socket.socket) -> None:
        conn.sendall(prefix)
        while True:
            for byte in forever:
                conn.sendall(bytes([byte]))
                time.sleep(0.02)
    return answer


def verify_threads(before: List[threading.Thread]) -> List[threading.Thread]:
    """The check threads started since `before` was taken that are still running."""
    return [t for t in threading.enumerate() if t.name.startswith("verify-") and t not in before]


UNAUTHORIZED = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"


@pytest.mark.parametrize("answer", [
    drip(b"HTTP/1.1 401 Unauthorized\r\n", b"WWW-Authenticate: Bearer " + b"a=b," * 10),
    drip(UNAUTHORIZED + b"WWW-Authenticate: Basic " + b"x" * 60000, b"y"),
    drip(b"", b"HTTP/1.1 200 OK\r\n"),
], ids=["challenge a byte at a time", "a 64 KiB challenge a byte at a time", "status line a byte at a time"])
def test_a_check_past_its_deadline_is_cut_off_and_no_worker_runs_on(answer):
    before = threading.enumerate()
    with raw_server(answer) as host:
        started = time.monotonic()
        (result,) = check_all([Target("registries[0]", host, "u", PASSWORD, insecure=True)], 0.5)
        elapsed = time.monotonic() - started
        assert verify_threads(before) == []  # cut off before check_all returned, while the server still drips
    assert result.outcome == UNREACHABLE and result.detail in ("no answer within 0.5 s", "timed out")
    assert elapsed < 0.5 + 2 * verify.GRACE


def test_a_token_answer_that_trickles_in_is_cut_off_too():
    def registry(conn: socket.socket) -> None:
        conn.sendall(UNAUTHORIZED + f'WWW-Authenticate: Bearer realm="http://{host}/token"\r\n\r\n'.encode())

    def token(conn: socket.socket) -> None:
        drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b'{"token":"')(conn)

    def either(conn: socket.socket) -> None:
        calls.append(1)
        (registry if len(calls) <= 2 else token)(conn)  # TLS attempt, plain ping; then the realm

    calls: List[int] = []
    before = threading.enumerate()
    with raw_server(either) as host:
        (result,) = check_all([Target("registries[0]", host, "u", PASSWORD, insecure=True)], 0.5)
        assert verify_threads(before) == []
    assert result.outcome == UNREACHABLE and len(calls) >= 3


@pytest.mark.parametrize("lines, note", [
    ([b'Basic realm="r"'], False),
    ([b"Basic " + b"x" * (MAX_CHALLENGE_BYTES - 6)], False),
    ([b"Basic " + b"x" * (MAX_CHALLENGE_BYTES - 5)], True),
    ([b"Negotiate"] * (MAX_CHALLENGES - 1) + [b'Basic realm="r"'], False),
    ([b"Negotiate"] * MAX_CHALLENGES + [b'Basic realm="r"'], True),
    ([b"Bearer " + b"a=b," * 16000] * 98, True),  # near http.client's most: 100 header lines of 64 KiB
])
def test_only_bounded_challenges_are_parsed_and_the_detail_says_so(lines, note):
    def answer(conn: socket.socket) -> None:
        conn.sendall(UNAUTHORIZED + b"".join(b"WWW-Authenticate: " + line + b"\r\n" for line in lines) + b"\r\n")

    with raw_server(answer) as host:
        (result,) = check_all([Target("registries[0]", host, "u", PASSWORD, insecure=True)], 5.0)
    basic = any(line.startswith(b"Basic") for line in lines[:MAX_CHALLENGES]) and not note
    # A Basic challenge read leads to an authenticated ping, which this server answers 401 again: rejected.
    assert result.outcome == (REJECTED if basic else UNREACHABLE), result.detail
    assert ("WWW-Authenticate lines" in result.detail) is note


@pytest.mark.parametrize("past", [0, 1])
def test_a_token_answer_is_read_up_to_its_limit(past):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.startswith("/token"):
                body = json.dumps({"token": "t0ken-value"}).encode()
                body += b" " * (verify.MAX_TOKEN_BYTES + past - len(body))
                self.send_response(200)
            elif self.headers.get("Authorization") == "Bearer t0ken-value":
                body = b"{}"
                self.send_response(200)
            else:
                body = b"{}"
                self.send_response(401)
                self.send_header("WWW-Authenticate", f'Bearer realm="http://{host}/token"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    host = f"127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = check(Target("registries[0]", host, "u", PASSWORD, insecure=True), TIMEOUT)
    finally:
        server.shutdown()
    assert result.outcome == (UNREACHABLE if past else ACCEPTED), result.detail
    assert (f"answered more than {verify.MAX_TOKEN_BYTES} bytes" in result.detail) is bool(past)
