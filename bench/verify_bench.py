"""How long the credentials check takes for many registries (run by hand: venv/bin/python bench/verify_bench.py).

Prints, for N registries that accept connections but never answer (the worst case: every check runs into its
timeout), the wall time of one parallel check with a 1 s timeout, and the same for N checks against one real HTTPS
registry with Basic auth (the common case: each check is three round trips).
"""

import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from registry_credentials.verify.login import Target, check_all  # noqa: E402
from support.tls_registry import PASSWORD, USERNAME, running_tls_registry  # noqa: E402

TIMEOUT = 1.0


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


def real(n: int, registry) -> None:
    targets = [Target(f"r{i}", registry.host, USERNAME, PASSWORD, ca_file=str(registry.ca_file)) for i in range(n)]
    started = time.monotonic()
    results = check_all(targets, 10.0)
    elapsed = time.monotonic() - started
    print(f"real    n={n:4d} wall={elapsed:.2f}s {sorted({r.outcome for r in results})}")


def main() -> None:
    for n in (1, 10, 50, 100, 200):
        silent(n)
    with tempfile.TemporaryDirectory() as tmp, running_tls_registry(Path(tmp), USERNAME, PASSWORD) as registry:
        for n in (1, 10, 50, 100):
            real(n, registry)


if __name__ == "__main__":
    main()
