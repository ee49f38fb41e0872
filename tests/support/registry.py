"""A real registry (distribution 2.8, htpasswd auth, plain HTTP on 127.0.0.1) and skopeo, for credential tests.

Tests use it to prove that rendered credentials really authenticate::

    def test_pull(real_registry, tmp_path):
        authfile = tmp_path / "config.json"
        authfile.write_text(rendered_dockerconfigjson)
        result = real_registry.inspect(authfile)
        assert result.returncode == 0, result.stderr

skopeo traps this module guards against (skopeo 1.9.3, the version these tests run against):

* A missing ``--authfile`` is silently ignored and skopeo goes anonymous: ``inspect`` raises FileNotFoundError first.
* When the authfile has no matching key, skopeo falls back to REGISTRY_AUTH_FILE, ``$XDG_RUNTIME_DIR/containers``
  (``/run/containers/$UID`` without it), ``$XDG_CONFIG_HOME`` or ``$HOME/.config/containers/auth.json``,
  ``$DOCKER_CONFIG`` or ``$HOME/.docker/config.json`` and ``$HOME/.dockercfg``. Every skopeo run here therefore gets
  a whitelisted environment (PATH, a fresh empty HOME and XDG_RUNTIME_DIR under the workdir, TMPDIR, LANG) and its own
  ``registries.conf`` (so no system ``credential-helpers`` or mirrors apply) and ``policy.json``.
* skopeo 1.9.3 only reads the ``auth`` field of an authfile entry (``username``/``password`` alone give a 401).
* Plain HTTP needs ``--tls-verify=false``.
"""

import base64
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import pytest

from support.oci import DEFAULT_TAG, build_layout

DEFAULT_USERNAME = "ci-puller"
DEFAULT_PASSWORD = "p@ss:w0rd<&>é"
"""Checked to work end to end (htpasswd -B, distribution 2.8, skopeo 1.9.3, hand-written ``auth``):

* ``:`` -- Basic auth splits at the *first* colon, so a colon in the password must survive (it does; a colon in
  the username cannot, and ``running_registry`` rejects it);
* ``@`` -- would break a ``user:pass@host`` URL form;
* ``<&>`` -- HTML/XML/shell-special;
* ``é`` -- non-ASCII: the ``auth`` field must be base64 of the UTF-8 bytes (``p@ss:w0rd<&>e`` is rejected).
The password reaches htpasswd on stdin (``-i``), never on its command line.
"""

REPOSITORY = "tiny"
TAG = DEFAULT_TAG

REQUIRED_TOOLS = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}
"""Executable -> Debian package that provides it."""

SKOPEO_TIMEOUT = 30.0
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
PORT_ATTEMPTS = 3

# File names inside the workdir; Registry's methods derive paths from its workdir.
LOG_NAME = "registry.log"
REGISTRIES_CONF_NAME = "registries.conf"
POLICY_NAME = "policy.json"
HOMES_NAME = "homes"

UNAUTHORIZED_MESSAGE = "unauthorized: authentication required"


class RegistryError(RuntimeError):
    """The registry did not come up, or the image could not be pushed."""


def require_tools() -> None:
    """Raise RuntimeError naming every missing tool and the apt-get command that installs it."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = sorted({REQUIRED_TOOLS[tool] for tool in missing})
        raise RuntimeError(
            f"real-registry tests need {', '.join(missing)} on PATH, and they are missing. "
            f"Install with: apt-get update && apt-get install -y {' '.join(packages)}"
        )


def unauthorized(result: subprocess.CompletedProcess) -> bool:
    """True when skopeo failed because the registry answered 401 ``unauthorized: authentication required``."""
    return result.returncode != 0 and UNAUTHORIZED_MESSAGE in (result.stderr or "")


_AUTH_FAILURE = re.compile(r'error authenticating user \\"(.*?)\\": authentication failure')


def auth_failures(log_text: str) -> List[str]:
    """Usernames the registry logged an authentication failure for, in order ("" when no credentials were sent).

    distribution logs ``msg="error authenticating user \\"NAME\\": authentication failure"`` (logrus text format
    escapes the inner quotes, so a plain ``'user "NAME"'`` substring search never matches).
    """
    return _AUTH_FAILURE.findall(log_text)


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "<no log>"


def _skopeo_env(workdir: Path) -> Dict[str, str]:
    """A whitelisted environment with a fresh, empty HOME: no inherited auth files can be found."""
    homes = workdir / HOMES_NAME
    homes.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=homes))
    runtime = home / "run"  # empty: the default authfile ($XDG_RUNTIME_DIR/containers/auth.json) cannot exist
    tmp = home / "tmp"
    runtime.mkdir(mode=0o700)
    tmp.mkdir()
    # Deliberately absent: REGISTRY_AUTH_FILE, DOCKER_CONFIG, XDG_CONFIG_HOME, proxies, CONTAINERS_* and the rest.
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
    }


def _skopeo(workdir: Path, args: Sequence[str], timeout: float = SKOPEO_TIMEOUT) -> subprocess.CompletedProcess:
    # --registries-conf is a hidden global flag of skopeo (1.9.3 ignores CONTAINERS_REGISTRIES_CONF): it replaces
    # /etc/containers/registries.conf, so a machine's credential-helpers, mirrors or blocks cannot apply.
    command = ["skopeo", "--registries-conf", str(workdir / REGISTRIES_CONF_NAME), *args]
    return subprocess.run(
        command,
        env=_skopeo_env(workdir),
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Registry:
    """A running registry that requires ``username``/``password`` and already holds ``image``."""

    host: str  # "127.0.0.1:PORT"
    username: str
    password: str = field(repr=False)  # kept out of reprs, so pytest tracebacks never show it
    image: str  # "127.0.0.1:PORT/tiny:1.0"
    workdir: Path

    def inspect(self, authfile: Path) -> subprocess.CompletedProcess:
        """``skopeo inspect --authfile AUTHFILE --tls-verify=false docker://IMAGE`` in an isolated environment.

        Raises FileNotFoundError when ``authfile`` is not a file, because skopeo would silently ignore it.
        """
        authfile = Path(authfile)
        if not authfile.is_file():
            raise FileNotFoundError(
                errno.ENOENT,
                "authfile is not a file (skopeo would silently ignore it and try anonymously)",
                str(authfile),
            )
        return _skopeo(
            self.workdir,
            ["inspect", "--authfile", str(authfile.resolve()), "--tls-verify=false", f"docker://{self.image}"],
        )

    def inspect_anonymous(self) -> subprocess.CompletedProcess:
        """``skopeo inspect`` with no authfile at all, in the same isolated environment: no credentials exist."""
        return _skopeo(self.workdir, ["inspect", "--tls-verify=false", f"docker://{self.image}"])

    def log_text(self) -> str:
        """The registry's log (stdout and stderr) so far."""
        return (self.workdir / LOG_NAME).read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_support_files(workdir: Path) -> None:
    (workdir / REGISTRIES_CONF_NAME).write_text("# isolated from /etc/containers/registries.conf by the test harness\n")
    (workdir / POLICY_NAME).write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))


def _write_htpasswd(path: Path, username: str, password: str) -> None:
    # -i reads the password from stdin, so it is not on any command line; -B is bcrypt (the only hash
    # distribution accepts); the default cost 5 keeps each check at a few milliseconds.
    result = subprocess.run(
        ["htpasswd", "-B", "-i", "-c", str(path), username],
        input=password.encode(),
        capture_output=True,
        timeout=SKOPEO_TIMEOUT,
    )
    if result.returncode != 0:
        message = _redact(result.stderr.decode(errors="replace"), [password])
        raise RegistryError(f"htpasswd failed (rc={result.returncode}): {message}")


def _write_config(workdir: Path, port: int, realm: str) -> Path:
    config = workdir / "config.yml"
    # JSON is YAML; json.dumps quotes the paths safely.
    config.write_text(
        json.dumps(
            {
                "version": 0.1,
                "log": {"level": "info", "formatter": "text"},
                "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}},
                "http": {"addr": f"127.0.0.1:{port}"},
                "auth": {"htpasswd": {"realm": realm, "path": str(workdir / "htpasswd")}},
            },
            indent=2,
        )
    )
    return config


def _parent_death_wrapper() -> List[str]:
    """``setpriv --pdeathsig TERM`` (util-linux, essential on Debian) so a SIGKILLed pytest leaves no registry behind.

    The signal fires when the *thread* that started the registry exits; pytest sets fixtures up in its main thread.
    Without setpriv the registry still stops on normal exit, on exceptions and on Ctrl-C (same process group).
    """
    return ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []


def _registry_env(workdir: Path) -> Dict[str, str]:
    # No inherited REGISTRY_* variables: distribution lets them override any config.yml setting.
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(workdir), "LANG": "C.UTF-8"}


def _probe(host: str) -> Optional[urllib.error.HTTPError]:
    """GET /v2/ without credentials: the HTTPError if the server answered with one, None if nothing answered."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    try:
        with opener.open(f"http://{host}/v2/", timeout=2) as response:
            raise RegistryError(f"/v2/ on {host} answered {response.status} without credentials; auth is off")
    except urllib.error.HTTPError as err:
        err.close()
        return err
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def _wait_ready(process: subprocess.Popen, host: str, realm: str) -> Tuple[Optional[str], bool]:
    """Poll /v2/ until our registry answers 401. Returns (failure or None, whether another port may help)."""
    deadline = time.monotonic() + START_TIMEOUT
    delay = 0.005
    while True:
        err = _probe(host)
        if err is not None:
            challenge = err.headers.get("WWW-Authenticate", "")
            if err.code == 401 and f'realm="{realm}"' in challenge:
                return None, False
            # Our realm is unique, so something else owns the port: a lost race for it.
            return f"{host} answered {err.code} {challenge!r}: not our registry", True
        if process.poll() is not None:
            return f"docker-registry exited with rc={process.returncode}", True  # e.g. port taken meanwhile
        if time.monotonic() > deadline:
            return f"docker-registry did not answer 401 on {host} within {START_TIMEOUT:.0f} s", False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _start(workdir: Path) -> Tuple[subprocess.Popen, str]:
    """Start the registry on a free port and wait for its 401; retry on a lost port race."""
    log_path = workdir / LOG_NAME
    failures: List[str] = []
    for attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        host = f"127.0.0.1:{port}"
        realm = f"registry-credentials-test-{port}-{os.getpid()}"
        config = _write_config(workdir, port, realm)
        with open(log_path, "ab") as log:
            log.write(f"--- harness: starting docker-registry on {host} (attempt {attempt + 1})\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*_parent_death_wrapper(), "docker-registry", "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=_registry_env(workdir),
            )
        try:
            failure, retry = _wait_ready(process, host, realm)
        except BaseException:
            _stop(process)
            raise
        if failure is None:
            return process, host
        _stop(process)
        failures.append(failure)
        if not retry:
            break
    raise RegistryError(
        "could not start docker-registry: " + "; ".join(failures) + f"\n--- tail of {log_path}:\n" + _tail(log_path)
    )


def _push(registry: Registry, reference: str) -> None:
    # --dest-creds puts the password on skopeo's argv (visible in /proc, like any test credential); it is never
    # part of an error message: only redacted stderr and the registry log are reported.
    result = _skopeo(
        registry.workdir,
        [
            "--policy",
            str(registry.workdir / POLICY_NAME),
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"{registry.username}:{registry.password}",
            reference,
            f"docker://{registry.image}",
        ],
        timeout=60,
    )
    if result.returncode != 0:
        secrets = [
            registry.password,
            base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode(),
        ]
        raise RegistryError(
            f"skopeo copy {reference} -> docker://{registry.image} failed (rc={result.returncode}):\n"
            + _redact(result.stderr, secrets)
            + "\n--- tail of the registry log:\n"
            + _redact(_tail(registry.workdir / LOG_NAME), secrets)
        )


@contextmanager
def running_registry(
    workdir: Path, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD
) -> Iterator[Registry]:
    """Run an htpasswd-protected registry on 127.0.0.1 holding ``tiny:1.0``; stop it on exit."""
    require_tools()
    if not username or ":" in username or "\n" in username:
        raise ValueError("username must be non-empty and contain no ':' or newline (Basic auth, htpasswd)")
    if not password or "\n" in password:
        raise ValueError("password must be non-empty and contain no newline (htpasswd -i reads one line)")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    _write_support_files(workdir)
    _write_htpasswd(workdir / "htpasswd", username, password)
    image = build_layout(workdir / "oci")

    process, host = _start(workdir)
    try:
        registry = Registry(
            host=host,
            username=username,
            password=password,
            image=f"{host}/{REPOSITORY}:{TAG}",
            workdir=workdir,
        )
        _push(registry, image.reference)
        yield registry
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def real_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A session-wide registry with the default test credentials; fails (never skips) if tools are missing."""
    with running_registry(tmp_path_factory.mktemp("registry")) as registry:
        yield registry
