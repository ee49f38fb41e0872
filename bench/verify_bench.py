"""How long the credentials check takes for many registries (run by hand: venv/bin/python bench/verify_bench.py).

Prints, for N registries that accept connections but never answer (the worst case: every check runs into its
timeout), the wall time of one parallel check with a 1 s timeout; and the same for N checks against one HTTPS
endpoint that answers `/v2/` as a Basic-auth registry does (the common case: a TLS handshake and three round trips
per check). The endpoint is a few lines of the standard library with a certificate from `openssl`, so the numbers
measure the check, not a registry's own speed.

`--challenges` instead prints how long one hostile `WWW-Authenticate` answer costs to parse: the worst lines of
each shape at the parser's cap, and the most lines http.client accepts (100 of 64 KiB), of which the parser reads
its first MAX_CHALLENGES.
"""

import argparse
import base64
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from registry_credentials.verify.challenge import MAX_CHALLENGE_BYTES, parse_challenge, parse_challenges
from registry_credentials.verify.login import Target, check_all

TIMEOUT = 1.0
USERNAME, PASSWORD = "bench", "bench-password"


def silent(n: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        host = f"127.0.0.1:{sock.getsockname()[1]}"
        started = time.monotonic()
        results = check_all([Target(f"r{i}", host, "u", "p") for i in range(n)], TIMEOUT)
        elapsed = time.monotonic() - started
    outcomes = {r.outcome for r in results}
    print(f"silent  n={n:4d} timeout={TIMEOUT:.1f}s wall={elapsed:.2f}s ({elapsed / TIMEOUT:.2f} timeouts) {outcomes}")


class _BasicRegistry(BaseHTTPRequestHandler):
    """`GET /v2/`: 401 with a Basic challenge, 200 with the right credentials (distribution's htpasswd auth)."""

    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()

    def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
        ok = self.path == "/v2/" and self.headers.get("Authorization") == self.expected
        self.send_response(200 if ok else 401)
        if not ok:
            self.send_header("WWW-Authenticate", 'Basic realm="bench"')
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    """TLS per connection, in the connection's own thread (a handshake in accept() would serialise them)."""

    request_queue_size = 1024
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _BasicRegistry)
        self.context = context

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


def certificate(directory: Path) -> "tuple[Path, Path]":
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def basic(n: int, cert: Path, key: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _Server(context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        targets = [Target(f"r{i}", host, USERNAME, PASSWORD, ca_file=str(cert)) for i in range(n)]
        started = time.monotonic()
        results = check_all(targets, 10.0)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
    print(f"basic   n={n:4d} wall={elapsed:.2f}s {sorted({r.outcome for r in results})}")


def challenges() -> None:
    fill = MAX_CHALLENGE_BYTES - len("Bearer ")
    shapes = {
        "many parameters": "Bearer " + "a=b," * (fill // 4),
        "one long quoted value": 'Bearer realm="' + "x" * (fill - 9) + '"',
        "escapes": 'Bearer realm="' + "\\x" * ((fill - 9) // 2) + '"',
        "spaces": "Bearer" + " " * fill,
    }
    for name, line in shapes.items():
        started = time.perf_counter()
        for _ in range(20):
            parse_challenge(line)
        print(f"one {len(line)}-byte line, {name}: {(time.perf_counter() - started) / 20 * 1000:.2f} ms")
    answer = ["Bearer " + "a=b," * 16000] * 100
    started = time.perf_counter()
    parse_challenges(answer)
    print(f"100 lines of 64 KiB (ignored past the cap): {(time.perf_counter() - started) * 1000:.2f} ms")
    at_cap = [shapes["many parameters"]] * 100
    started = time.perf_counter()
    parse_challenges(at_cap)
    print(f"100 lines at the cap (the first few read): {(time.perf_counter() - started) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--challenges", action="store_true", help="time the parse of hostile challenges instead")
    if parser.parse_args().challenges:
        challenges()
        return
    for n in (1, 10, 50, 100, 200):
        silent(n)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = certificate(Path(tmp))
        for n in (1, 10, 50, 100):
            basic(n, cert, key)


if __name__ == "__main__":
    main()
