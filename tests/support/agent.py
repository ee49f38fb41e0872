"""Run the node agent as a real subprocess against temp directories, and watch what it logs."""

import base64
import functools
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

AGENT = Path(__file__).resolve().parents[2] / "components" / "registry_credentials" / "node" / "agent.py"
PAUSE_ENV = "REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME"
STATE = "registry-credentials.state.json"
"""The agent's ownership record, next to config.json."""
LOCK = ".registry-credentials.lock"
"""The agent's lock file, next to config.json."""
TMP_PREFIX = ".registry-credentials.tmp-"
"""Prefix of the agent's temporary files before the atomic rename."""

SECRETS: set = set()
"""Every password and `auth` value a test handed to the agent; none may ever show up in its output."""

OUTPUTS: List[str] = []
"""Everything any agent process printed during this test session."""


def entry(username: str, password: str, **extra: Any) -> Dict[str, Any]:
    """Build a kubectl-style auths entry and remember its credentials for the output scan."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    SECRETS.update({password, auth})
    return {"username": username, "password": password, **extra, "auth": auth}


def assert_no_secrets(text: str) -> None:
    """Fail if any known credential appears in text."""
    leaked = sorted(secret for secret in SECRETS if secret and secret in text)
    assert not leaked, f"credential leaked into agent output ({len(leaked)} value(s))"


def _record(text: str) -> str:
    OUTPUTS.append(text)
    assert_no_secrets(text)
    return text


class SecretVolume:
    """A directory laid out like a kubelet Secret volume: `key -> ..data/key`, `..data -> ..<timestamp>`."""

    def __init__(self, directory: Path, key: str = ".dockerconfigjson") -> None:
        self.directory = directory
        self.key = key
        self.generation = 0
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        """The path the agent is given (`--source`)."""
        return self.directory / self.key

    def publish(self, content: Any) -> None:
        """Swap in new content atomically, like the kubelet's AtomicWriter (content: dict or raw text)."""
        self.generation += 1
        payload = content if isinstance(content, str) else json.dumps(content)
        version = self.directory / f"..{self.generation:04d}"
        version.mkdir()
        (version / self.key).write_text(payload)
        temp_link = self.directory / "..data_tmp"
        os.symlink(version.name, temp_link)
        os.replace(temp_link, self.directory / "..data")
        if not self.path.is_symlink():
            os.symlink(f"..data/{self.key}", self.path)
        if self.generation > 1:
            stale = self.directory / f"..{self.generation - 1:04d}"
            (stale / self.key).unlink()
            stale.rmdir()


def command(source: Path, root: Path, *extra: str, python: str = sys.executable) -> List[str]:
    """Build the agent's command line."""
    return [python, str(AGENT), "--source", str(source), "--kubelet-root", str(root), *extra]


def agent_env(pause: Optional[float] = None) -> Dict[str, str]:
    """Environment for an agent process, without pod variables so --owner-id decides."""
    env = {k: v for k, v in os.environ.items() if k not in ("POD_NAME", "POD_UID", PAUSE_ENV)}
    if pause:
        env[PAUSE_ENV] = str(pause)
    return env


def run_once(source: Path, root: Path, owner: str, *extra: str, pause: Optional[float] = None,
             python: str = sys.executable, **popen: Any) -> subprocess.CompletedProcess:
    """Run `--once` to completion; the result's stderr has been scanned for credentials."""
    # An empty --ready-file first (a later one in extra wins) keeps tests from touching /tmp's default.
    args = ("--once", "--owner-id", owner, "--ready-file", "", *extra)
    result = subprocess.run(command(source, root, *args, python=python),
                            env=agent_env(pause), capture_output=True, text=True, timeout=30, **popen)
    _record(result.stdout + result.stderr)
    return result


class Agent:
    """A long-running agent process whose stderr goes to a file."""

    def __init__(self, source: Path, root: Path, owner: str, log_dir: Path, interval: float = 0.1,
                 ready_file: Optional[Path] = None, pause: Optional[float] = None) -> None:
        self.log_path = log_dir / f"agent-{owner}.log"
        extra = ["--owner-id", owner, "--interval", str(interval)]
        extra += ["--ready-file", str(ready_file or (log_dir / f"ready-{owner}"))]
        self.ready_file = ready_file or (log_dir / f"ready-{owner}")
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(command(source, root, *extra), env=agent_env(pause),
                                            stdout=log, stderr=subprocess.STDOUT)
        self.recorded = False

    def log(self) -> str:
        """Everything the agent printed so far."""
        return self.log_path.read_text()

    def count(self, text: str) -> int:
        """How many log lines contain text."""
        return sum(1 for line in self.log().splitlines() if text in line)

    def wait_for_log(self, text: str, times: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least `times` log lines contain text."""
        wait_for(lambda: self.count(text) >= times, timeout, f"{times}x {text!r} in {self.log_path.name}")

    def kill(self) -> int:
        """Send SIGKILL (no release), wait, scan the output; return the exit code."""
        self.process.kill()
        return self._finish(10.0)

    def terminate(self, timeout: float = 10.0) -> int:
        """Send SIGTERM, wait, scan the output; return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self._finish(timeout)

    def _finish(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        if not self.recorded:
            self.recorded = True
            _record(self.log())
        return code

    def close(self) -> None:
        """Kill the process if a test left it running."""
        if self.process.poll() is None:
            self.process.kill()
        self._finish(10.0)


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def read_json(path: Path) -> Optional[Any]:
    """Parse a JSON file, None if it does not exist."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def auths(root: Path) -> Dict[str, Any]:
    """The `auths` of root/config.json ({} when the file is missing or has none)."""
    return (read_json(root / "config.json") or {}).get("auths", {})


def write_config(root: Path, document: Any) -> bytes:
    """Put a config.json in place (document: JSON value or raw text) and return its exact bytes."""
    data = (document if isinstance(document, str) else json.dumps(document, indent=4)).encode()
    (root / "config.json").write_bytes(data)
    return data


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty kubelet root directory."""
    path = tmp_path / "kubelet"
    path.mkdir()
    return path


@pytest.fixture
def agents() -> Iterator[List[Agent]]:
    """Long-running agents a test starts; any still running at the end are killed."""
    started: List[Agent] = []
    yield started
    for agent in started:
        agent.close()


@functools.lru_cache(maxsize=None)
def agent_module() -> Any:
    """node_agent.py imported by path (it is a standalone script shipped alone), once per process."""
    spec = importlib.util.spec_from_file_location("node_agent_under_test", AGENT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
