"""Tests of the real-registry harness itself (tests/support/registry.py and tests/support/oci.py).

Authfiles here are written by hand, never by the component, so a bug in the component cannot hide a harness bug.
Nothing prints authfile contents or passwords.
"""

import base64
import contextlib
import gzip
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

from support.oci import build_layout
from support.registry import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Registry,
    auth_failures,
    require_tools,
    running_registry,
    unauthorized,
)

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry of this module's own, so its log holds only these tests' requests."""
    with running_registry(tmp_path_factory.mktemp("harness")) as reg:
        yield reg


def auth_value(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")


def write_authfile(path: Path, entries: Dict[str, Tuple[str, str]]) -> Path:
    """A docker config.json by hand: ``{"auths": {key: {"auth": base64("user:pass")}}}``."""
    auths = {key: {"auth": auth_value(user, password)} for key, (user, password) in entries.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": auths}))
    return path


def new_log(reg: Registry, offset: int) -> str:
    return reg.log_text()[offset:]


def test_defaults_are_distinctive() -> None:
    assert DEFAULT_USERNAME == "ci-puller"
    # The characters that matter for auth encoding: first-colon split, URL userinfo, markup/shell, non-ASCII.
    for char in ":@<&>é":
        assert char in DEFAULT_PASSWORD


def test_right_auth_inspects_the_pushed_image(registry: Registry, tmp_path: Path) -> None:
    assert registry.host.startswith("127.0.0.1:")
    assert registry.image == f"{registry.host}/tiny:1.0"
    assert (registry.username, registry.password) == (DEFAULT_USERNAME, DEFAULT_PASSWORD)
    assert registry.password not in repr(registry)  # pytest tracebacks show fixture reprs
    authfile = write_authfile(tmp_path / "config.json", {registry.host: (registry.username, registry.password)})

    result = registry.inspect(authfile)

    assert result.returncode == 0, result.stderr
    assert not unauthorized(result)
    info = json.loads(result.stdout)
    assert info["Name"] == f"{registry.host}/tiny"
    assert info["RepoTags"] == ["1.0"]
    # Exactly the manifest the harness built: rebuilding the deterministic layout gives the same digest.
    assert info["Digest"] == build_layout(tmp_path / "again").manifest_digest


def test_wrong_password_is_401_and_logged_as_an_auth_failure(registry: Registry, tmp_path: Path) -> None:
    wrong = (registry.username, "not-" + registry.password)
    authfile = write_authfile(tmp_path / "config.json", {registry.host: wrong})
    offset = len(registry.log_text())

    result = registry.inspect(authfile)

    assert result.returncode != 0
    assert unauthorized(result), result.stderr
    assert registry.username in auth_failures(new_log(registry, offset))


def test_password_bytes_must_be_utf8(registry: Registry, tmp_path: Path) -> None:
    """Same characters, Latin-1 bytes: 401. Proves the non-ASCII character really reaches the comparison."""
    path = tmp_path / "config.json"
    latin1 = base64.b64encode(f"{registry.username}:{registry.password}".encode("latin-1")).decode()
    path.write_text(json.dumps({"auths": {registry.host: {"auth": latin1}}}))

    assert unauthorized(registry.inspect(path))


def test_key_for_another_host_is_401(registry: Registry, tmp_path: Path) -> None:
    authfile = write_authfile(tmp_path / "config.json", {"127.0.0.1:1": (registry.username, registry.password)})
    offset = len(registry.log_text())

    result = registry.inspect(authfile)

    assert unauthorized(result), result.stderr
    failures = auth_failures(new_log(registry, offset))
    # No credentials matched, so none were sent (skopeo sends an empty user), and the user was never tried.
    assert failures and set(failures) == {""}, failures


def test_missing_authfile_raises_instead_of_going_anonymous(registry: Registry, tmp_path: Path) -> None:
    offset = len(registry.log_text())

    with pytest.raises(FileNotFoundError):
        registry.inspect(tmp_path / "does-not-exist.json")
    with pytest.raises(FileNotFoundError):
        registry.inspect(tmp_path)  # a directory is not an authfile either

    assert "GET /v2/" not in new_log(registry, offset)  # skopeo never ran


def test_no_authfile_at_all_is_anonymous_and_401(registry: Registry) -> None:
    offset = len(registry.log_text())

    result = registry.inspect_anonymous()

    assert unauthorized(result), result.stderr
    assert '"GET /v2/tiny/manifests/1.0 HTTP/1.1" 401' in new_log(registry, offset)


def test_inherited_auth_sources_are_ignored(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Good credentials in every fallback location skopeo knows must not rescue a mismatched or absent authfile."""
    good = {registry.host: (registry.username, registry.password)}
    home = tmp_path / "home"
    write_authfile(home / ".docker" / "config.json", good)
    write_authfile(home / ".config" / "containers" / "auth.json", good)
    (home / ".dockercfg").write_text(json.dumps({registry.host: {"auth": auth_value(*good[registry.host])}}))
    runtime = tmp_path / "runtime"
    write_authfile(runtime / "containers" / "auth.json", good)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(write_authfile(tmp_path / "registry-auth.json", good)))
    mismatched = write_authfile(tmp_path / "config.json", {"127.0.0.1:1": good[registry.host]})

    assert unauthorized(registry.inspect(mismatched))
    assert unauthorized(registry.inspect_anonymous())
    # Control: the planted files are valid; used explicitly, they authenticate.
    assert registry.inspect(home / ".docker" / "config.json").returncode == 0


def test_skopeo_uses_the_harness_registries_conf(registry: Registry, tmp_path: Path) -> None:
    """System registries.conf (credential-helpers, mirrors) must not apply: skopeo reads the workdir's copy."""
    authfile = write_authfile(tmp_path / "config.json", {registry.host: (registry.username, registry.password)})
    conf = registry.workdir / "registries.conf"
    original = conf.read_text()
    conf.write_text("this is [[ not toml\n")
    try:
        result = registry.inspect(authfile)
    finally:
        conf.write_text(original)

    assert result.returncode != 0
    assert str(conf) in result.stderr and "loading registries configuration" in result.stderr, result.stderr
    assert registry.inspect(authfile).returncode == 0


def test_credentials_never_reach_the_registry_log(registry: Registry, tmp_path: Path) -> None:
    registry.inspect(write_authfile(tmp_path / "good.json", {registry.host: (registry.username, registry.password)}))
    registry.inspect(write_authfile(tmp_path / "bad.json", {registry.host: (registry.username, "wrong-pw")}))
    log = registry.log_text()

    assert "GET /v2/tiny/manifests/1.0" in log  # the requests were logged ...
    for secret in (registry.password, auth_value(registry.username, registry.password), "wrong-pw"):
        assert secret not in log  # ... without their credentials


def completed(returncode: int, stderr: str) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(["skopeo"], returncode, stdout="", stderr=stderr)


def test_unauthorized_recognises_only_the_401() -> None:
    msg_401 = 'level=fatal msg="... reading manifest 1.0 in h/tiny: unauthorized: authentication required"'
    assert unauthorized(completed(1, msg_401))
    assert not unauthorized(completed(0, msg_401))
    assert not unauthorized(completed(1, 'msg="pinging container registry h: dial tcp h: connect: connection refused"'))
    assert not unauthorized(completed(1, 'msg="http: server gave HTTP response to HTTPS client"'))
    assert not unauthorized(completed(1, ""))


def test_require_tools_names_missing_tools_and_apt_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tools()  # all present on this machine / CI

    fake_skopeo = tmp_path / "skopeo"
    fake_skopeo.write_text("#!/bin/sh\n")
    fake_skopeo.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(RuntimeError) as err:
        require_tools()
    message = str(err.value)
    assert "docker-registry" in message and "htpasswd" in message
    assert "apt-get install -y apache2-utils docker-registry" in message
    assert "skopeo" not in message  # present, so not reported


def test_oci_layout_is_deterministic_and_consistent(tmp_path: Path) -> None:
    first, second = build_layout(tmp_path / "a"), build_layout(tmp_path / "b")
    assert first.manifest_digest == second.manifest_digest
    files = sorted(p.relative_to(first.layout) for p in first.layout.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second.layout) for p in second.layout.rglob("*") if p.is_file())
    for rel in files:
        assert (first.layout / rel).read_bytes() == (second.layout / rel).read_bytes(), rel

    index = json.loads((first.layout / "index.json").read_text())
    [entry] = index["manifests"]
    assert entry["digest"] == first.manifest_digest
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    manifest = json.loads((first.layout / "blobs" / "sha256" / first.manifest_digest[7:]).read_text())
    assert [layer["digest"] for layer in manifest["layers"]] == [first.layer_digest]
    assert manifest["config"]["digest"] == first.config_digest
    assert json.loads((first.layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}

    # Nothing time- or host-dependent: two builds in the same second would hide a timestamp, so look at the bytes.
    layer = (first.layout / "blobs" / "sha256" / first.layer_digest[7:]).read_bytes()
    assert layer[:3] == b"\x1f\x8b\x08" and layer[3] & 0x08 == 0  # gzip, deflate, no FNAME field
    assert layer[4:8] == b"\0\0\0\0"  # gzip MTIME = 0
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        [member] = tar.getmembers()
    assert (member.name, member.mtime, member.uid, member.gid) == ("hello.txt", 0, 0, 0)
    assert (member.uname, member.gname) == ("", "")
    assert first.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()


INNER_TEST = textwrap.dedent(
    """
    import base64, json
    from pathlib import Path

    from support.registry import real_registry, unauthorized  # noqa: F401  (as the lead's conftest re-exports it)

    def test_fixture(real_registry, tmp_path):
        (Path(__file__).parent / "host.txt").write_text(real_registry.host)
        auth = base64.b64encode(f"{real_registry.username}:{real_registry.password}".encode()).decode()
        authfile = tmp_path / "config.json"
        authfile.write_text(json.dumps({"auths": {real_registry.host: {"auth": auth}}}))
        result = real_registry.inspect(authfile)
        assert result.returncode == 0, result.stderr
        assert unauthorized(real_registry.inspect_anonymous())
    """
)


def run_inner_pytest(tmp_path: Path, path_env: str) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(TESTS_DIR), PATH=path_env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "basetemp"), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_real_registry_fixture_serves_then_stops(tmp_path: Path) -> None:
    """The session fixture, used the way the lead's conftest re-exports it, in a separate pytest run."""
    result = run_inner_pytest(tmp_path, os.environ["PATH"])

    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-2000:]
    # After that session ended, nothing listens on the registry's port any more.
    addr, port = (tmp_path / "host.txt").read_text().rsplit(":", 1)
    with socket.socket() as sock:
        assert sock.connect_ex((addr, int(port))) != 0


def test_running_registry_fails_not_skips_without_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing tool is an error (so the real_registry fixture errors its tests), never a skip."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    with pytest.raises(RuntimeError, match="apt-get install -y apache2-utils docker-registry skopeo"):
        with running_registry(tmp_path / "workdir"):
            pass  # pragma: no cover
    assert not (tmp_path / "workdir").exists()  # failed before touching anything


def test_start_failure_is_clear_and_shows_the_log_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import support.registry as harness

    def broken_config(workdir: Path, port: int, realm: str) -> Path:
        path = workdir / "config.yml"
        path.write_text(f"version: 0.1\nstorage: {{nosuchdriver: {{}}}}\nhttp: {{addr: '127.0.0.1:{port}'}}\n")
        return path

    monkeypatch.setattr(harness, "_write_config", broken_config)
    with pytest.raises(harness.RegistryError) as err:
        with running_registry(tmp_path / "workdir"):
            pass  # pragma: no cover

    message = str(err.value)
    assert "could not start docker-registry" in message and "exited with rc=" in message
    assert "nosuchdriver" in message  # the registry's own complaint, from the log tail
    assert DEFAULT_PASSWORD not in message


def listening(host: str) -> bool:
    addr, port = host.rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((addr, int(port))) == 0


def test_running_registry_stops_on_error_exit(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        with running_registry(tmp_path / "workdir") as reg:
            host = reg.host
            assert listening(host)
            raise KeyError("a failing test body")

    assert not listening(host)  # stopped (and waited for) by the context manager itself


def test_registry_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL skips every finally/teardown; the registry must not outlive its test process (setpriv --pdeathsig)."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from support.registry import running_registry

        with running_registry(Path(sys.argv[1])) as registry:
            (Path(sys.argv[1]) / "host.txt").write_text(registry.host)
            children = Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()
            (Path(sys.argv[1]) / "children.txt").write_text(" ".join(children))
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(TESTS_DIR))
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr[-2000:]

    addr, port = (tmp_path / "host.txt").read_text().rsplit(":", 1)
    deadline = time.monotonic() + 5
    while True:
        with socket.socket() as sock:
            if sock.connect_ex((addr, int(port))) != 0:
                break
        if time.monotonic() > deadline:
            for pid in (tmp_path / "children.txt").read_text().split():  # clean up what this test started
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            pytest.fail(f"registry on {addr}:{port} outlived its killed parent")
        time.sleep(0.02)

