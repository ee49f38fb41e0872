"""The node agent's recovery paths and refusals, each as a real process with its exit code and log line asserted."""

import fcntl
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from support.agent import (
    AGENT,
    LOCK,
    OUTPUTS,
    STATE,
    TMP_PREFIX,
    Agent,
    SecretVolume,
    agent_env,
    assert_no_secrets,
    auths,
    entry,
    read_json,
    run_once,
    wait_for,
    write_config,
)

REG = "registry.example.com"
OTHER = "other.example.com:5000"
OURS = entry("robot", "faults-S3cret-pw!")
SECOND = entry("robot2", "faults-Second-pw!")
PREEXISTING = entry("legacy", "faults-Preexisting-pw!")
FOREIGN = entry("someone", "faults-Foreign-pw!")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) [a-z-]+( |$)")


@pytest.fixture
def volume(tmp_path: Path) -> SecretVolume:
    """A Secret volume publishing OURS for REG."""
    vol = SecretVolume(tmp_path / "secret")
    vol.publish({"auths": {REG: OURS}})
    return vol


def kept_aside(root: Path, name: str) -> List[Path]:
    """Files the agent set aside as `<name>.corrupt-*`."""
    return sorted(p for p in root.iterdir() if p.name.startswith(f"{name}.corrupt-"))


def assert_log_lines_are_ours(text: str) -> None:
    """Every line of agent output is one log line of the agent's format (nothing forged, no traceback)."""
    for line in text.splitlines():
        assert LINE.match(line), f"not an agent log line: {line!r}"


# ------------------------------------------------------------------------------------------------ --once owner


def test_once_without_owner_id_is_one_stable_owner(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {REG: OURS, OTHER: SECOND}}))
    write_config(root, {"auths": {"foreign.example": FOREIGN}})
    env = {**agent_env(), "POD_NAME": "job-pod-1"}

    def once() -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, str(AGENT), "--source", str(src), "--kubelet-root", str(root),
                                 "--once", "--ready-file", ""], env=env, capture_output=True, text=True, timeout=30)
        OUTPUTS.append(result.stderr)
        assert_no_secrets(result.stderr)
        return result

    assert once().returncode == 0
    src.write_text(json.dumps({"auths": {REG: OURS}}))  # OTHER dropped from the source
    env["POD_NAME"] = "job-pod-2"  # a re-run is a new pod: still the same owner
    result = once()

    assert result.returncode == 0
    assert auths(root) == {"foreign.example": FOREIGN, REG: OURS}
    assert "removed=other.example.com:5000" in result.stderr
    assert list(read_json(root / STATE)["agents"]) == ["once"]


# ------------------------------------------------------------------------------------------------ take-over crash


def _tmp_exists(root: Path) -> bool:
    return any(name.startswith(TMP_PREFIX) for name in os.listdir(root))


def _config_reg(root: Path) -> Any:
    try:
        return auths(root).get(REG)
    except ValueError:
        return None


# Each phase is a pause before one of the take-over's renames: (what it is, how to recognise it on disk).
TAKEOVER_PHASES: Dict[str, Callable[[Path], bool]] = {
    "before-state": lambda root: _tmp_exists(root) and not (root / STATE).exists(),
    "before-config": lambda root: _tmp_exists(root) and (root / STATE).exists() and _config_reg(root) == PREEXISTING,
    "before-final-state": lambda root: _tmp_exists(root) and _config_reg(root) == OURS,
}


@pytest.mark.parametrize("phase", sorted(TAKEOVER_PHASES))
def test_kill_9_at_any_point_of_a_take_over_leaves_the_key_managed(root: Path, volume: SecretVolume, tmp_path: Path,
                                                                    agents: List[Agent], phase: str) -> None:
    original = {"auths": {REG: PREEXISTING, "foreign.example": FOREIGN}}
    write_config(root, original)
    process = subprocess.Popen(
        [sys.executable, str(AGENT), "--source", str(volume.path), "--kubelet-root", str(root), "--once",
         "--owner-id", "pod-a", "--ready-file", ""],
        env=agent_env(pause=0.5), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: TAKEOVER_PHASES[phase](root), timeout=10, what=phase)
    finally:
        process.kill()
        _, err = process.communicate(timeout=10)
        OUTPUTS.append(err)
    assert process.returncode == -signal.SIGKILL

    # The same pod restarts (a loop, as in the DaemonSet), then is stopped: the key was managed all along.
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready")
    assert auths(root)[REG] == OURS
    assert agent.terminate() == 0

    assert "hand-edited" not in agent.log()
    assert read_json(root / "config.json") == original  # the displaced entry came back on release
    assert sorted(os.listdir(root)) == ["config.json"]


# ------------------------------------------------------------------------------------------------ state file


VALID_DIGEST = "0" * 64
BAD_STATES = {
    "list": [],
    "string": '"state"',
    "not-json": '{"version": 1, "agents": ',
    "not-utf8": b'{"version": 1, "x": "\xff"}',
    "no-keys": {"version": 1, "created_config": False, "next_seq": 1, "agents": {}, "abandoned": {}},
    "no-version": {"created_config": False, "next_seq": 1, "agents": {}, "keys": {}, "abandoned": {}},
    "version-0": {"version": 0, "created_config": False, "next_seq": 1, "agents": {}, "keys": {}, "abandoned": {}},
    "wrong-version": {"version": 99, "created_config": False, "next_seq": 1, "agents": {}, "keys": {},
                      "abandoned": {}},
    "seq-string": {"version": 1, "created_config": False, "next_seq": "1", "agents": {}, "keys": {},
                   "abandoned": {}},
    "agent-not-object": {"version": 1, "created_config": False, "next_seq": 2, "agents": {"pod-a": 1},
                         "keys": {}, "abandoned": {}},
    "agent-seq-missing": {"version": 1, "created_config": False, "next_seq": 2, "agents": {"pod-a": {}},
                          "keys": {}, "abandoned": {}},
    "expires-string": {"version": 1, "created_config": False, "next_seq": 2,
                       "agents": {"pod-a": {"seq": 1, "expires": "soon"}}, "keys": {}, "abandoned": {}},
    "owners-list": {"version": 1, "created_config": False, "next_seq": 2, "agents": {"pod-a": {"seq": 1}},
                    "keys": {REG: {"owners": ["pod-a"], "written": []}}, "abandoned": {}},
    "written-numbers": {"version": 1, "created_config": False, "next_seq": 2, "agents": {"pod-a": {"seq": 1}},
                        "keys": {REG: {"owners": {"pod-a": VALID_DIGEST}, "written": [1, 2]}}, "abandoned": {}},
    "owner-digest-object": {"version": 1, "created_config": False, "next_seq": 2, "agents": {"pod-a": {"seq": 1}},
                            "keys": {REG: {"owners": {"pod-a": {}}, "written": []}}, "abandoned": {}},
    "abandoned-list": {"version": 1, "created_config": False, "next_seq": 1, "agents": {}, "keys": {},
                       "abandoned": []},
    "abandoned-value-null": {"version": 1, "created_config": False, "next_seq": 1, "agents": {}, "keys": {},
                             "abandoned": {REG: None}},
}


@pytest.mark.parametrize("name", sorted(BAD_STATES))
def test_corrupt_or_wrong_shape_state_is_kept_aside_and_rebuilt(root: Path, volume: SecretVolume, name: str) -> None:
    write_config(root, {"auths": {"foreign.example": FOREIGN}})
    bad = BAD_STATES[name]
    raw = bad if isinstance(bad, bytes) else (bad if isinstance(bad, str) else json.dumps(bad)).encode()
    (root / STATE).write_bytes(raw)

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    (kept,) = kept_aside(root, STATE)
    assert kept.read_bytes() == raw
    assert f"state-corrupt file={STATE} keptAs={kept.name}" in result.stderr
    assert auths(root) == {"foreign.example": FOREIGN, REG: OURS}
    assert list(read_json(root / STATE)["agents"]) == ["pod-a"]
    assert_log_lines_are_ours(result.stderr)


def test_oversized_state_is_renamed_aside_not_read(root: Path, volume: SecretVolume) -> None:
    assert run_once(volume.path, root, "pod-a").returncode == 0
    big = b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    (root / STATE).write_bytes(big)

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    (kept,) = kept_aside(root, STATE)
    assert kept.stat().st_size == len(big)
    assert "state-corrupt" in result.stderr and "larger than" in result.stderr
    assert auths(root) == {REG: OURS}


# ------------------------------------------------------------------------------------------------ config.json


# `null` is not here: the kubelet reads it as a file without entries (see test_node_agent_kubelet_json.py).
@pytest.mark.parametrize("document", ["[1, 2]", '"auths"', "42", '{"auths": []}', '{"auths": "x"}'])
def test_config_that_parses_but_is_not_an_object_is_kept_aside(root: Path, volume: SecretVolume,
                                                               document: str) -> None:
    original = write_config(root, document)

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    (kept,) = kept_aside(root, "config.json")
    assert kept.read_bytes() == original
    assert f"config-corrupt file=config.json keptAs={kept.name}" in result.stderr
    assert auths(root) == {REG: OURS}


def test_entry_deleted_by_someone_else_is_re_added_with_a_warning(root: Path, volume: SecretVolume) -> None:
    write_config(root, {"auths": {"foreign.example": FOREIGN}})
    assert run_once(volume.path, root, "pod-a").returncode == 0
    write_config(root, {"auths": {"foreign.example": FOREIGN}})  # someone removed our entry

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0
    assert f"WARNING re-add key={REG} " in result.stderr
    assert "added=registry.example.com" in result.stderr
    assert auths(root) == {"foreign.example": FOREIGN, REG: OURS}


# ------------------------------------------------------------------------------------------------ lock


def test_symlinked_lock_is_refused_and_its_target_untouched(root: Path, volume: SecretVolume, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("precious\n")
    (root / LOCK).symlink_to(target)
    original = write_config(root, {"auths": {"foreign.example": FOREIGN}})

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 3
    assert "sync-failed" in result.stderr and "refusing" in result.stderr and "symlink" in result.stderr
    assert target.read_text() == "precious\n" and (root / LOCK).is_symlink()
    assert (root / "config.json").read_bytes() == original


def test_lock_file_unlinked_while_waiting_is_locked_afresh(root: Path, volume: SecretVolume) -> None:
    lock_path = root / LOCK
    first = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(first, fcntl.LOCK_EX)
    process = subprocess.Popen(
        [sys.executable, str(AGENT), "--source", str(volume.path), "--kubelet-root", str(root), "--once",
         "--owner-id", "pod-a", "--ready-file", ""], env=agent_env(), stderr=subprocess.PIPE, text=True)
    second = None
    try:
        time.sleep(0.3)  # the agent now waits on the first lock file
        assert process.poll() is None and not (root / "config.json").exists()
        # Another holder finishes by unlinking the lock, and a third agent locks a fresh file at that path.
        os.unlink(lock_path)
        second = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(second, fcntl.LOCK_EX)
        os.close(first)
        time.sleep(0.4)
        # The waiter got the stale lock; it must notice and wait for the fresh one instead of writing now.
        assert process.poll() is None, "the agent wrote while another process held the lock at the lock path"
        assert not (root / "config.json").exists()
    finally:
        if second is not None:
            os.close(second)
        _, err = process.communicate(timeout=10)
        OUTPUTS.append(err)
    assert process.returncode == 0, err
    assert auths(root) == {REG: OURS}


# ------------------------------------------------------------------------------------------------ special files


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    # Bound by a relative name: a socket path is limited to 107 bytes, and pytest's temp paths can be longer.
    sock, cwd = socket.socket(socket.AF_UNIX), os.getcwd()
    try:
        os.chdir(path.parent)
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
        sock.close()
    return path


SPECIAL_SOURCES = {
    "fifo": (_fifo, "a FIFO"),
    "socket": (_socket, "a socket"),
    "device": (lambda path: Path("/dev/zero"), "a character device"),
    "directory": (lambda path: (path.mkdir() or path), "directory"),
}


@pytest.mark.parametrize("kind", sorted(SPECIAL_SOURCES))
def test_special_file_as_source_is_refused_at_once(root: Path, tmp_path: Path, kind: str) -> None:
    make, words = SPECIAL_SOURCES[kind]
    src = make(tmp_path / "special")
    original = write_config(root, {"auths": {"foreign.example": FOREIGN}})

    started = time.monotonic()
    result = run_once(src, root, "pod-a")

    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert "sync-failed" in result.stderr and words in result.stderr
    assert (root / "config.json").read_bytes() == original


@pytest.mark.parametrize("kind", ["fifo", "socket", "directory"])
def test_special_file_as_lock_is_refused_at_once(root: Path, volume: SecretVolume, kind: str) -> None:
    path = root / LOCK
    {"fifo": _fifo, "socket": _socket, "directory": lambda p: p.mkdir()}[kind](path)
    original = write_config(root, {"auths": {"foreign.example": FOREIGN}})

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 3, result.stderr
    assert "refusing" in result.stderr and "not a regular file" in result.stderr
    assert (root / "config.json").read_bytes() == original


def test_loop_with_a_fifo_source_keeps_failing_and_stops_on_sigterm(root: Path, tmp_path: Path,
                                                                     agents: List[Agent]) -> None:
    src = _fifo(tmp_path / "fifo")
    agent = Agent(src, root, "pod-a", tmp_path)
    agents.append(agent)
    agent.wait_for_log("sync-failed", times=2)
    assert not agent.ready_file.exists()

    assert agent.terminate(timeout=5) == 0
    assert "a FIFO" in agent.log()


# ------------------------------------------------------------------------------------------------ exit code 4


def test_oversized_config_is_left_untouched_with_exit_4(root: Path, volume: SecretVolume) -> None:
    big = {"auths": {"foreign.example": FOREIGN}, "pad": "x" * (3 * 1024 * 1024)}
    original = write_config(root, big)

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 4
    assert "sync-failed" in result.stderr and "larger than" in result.stderr
    assert (root / "config.json").read_bytes() == original
    assert not kept_aside(root, "config.json")


def test_config_with_too_many_items_is_left_untouched_with_exit_4(root: Path, volume: SecretVolume) -> None:
    original = write_config(root, json.dumps({"auths": {}, "pad": [[]] * 60_000}))

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 4
    assert "JSON items" in result.stderr
    assert (root / "config.json").read_bytes() == original


def test_merge_that_would_not_fit_is_refused_with_exit_4(root: Path, tmp_path: Path) -> None:
    # Each file alone is within its cap; together they are not: never write what the next run must refuse.
    original = write_config(root, {"auths": {"foreign.example": FOREIGN}, "pad": "y" * (1900 * 1024)})
    src = tmp_path / "big-source.json"
    src.write_text(json.dumps({"auths": {REG: {**OURS, "email": "e" * (900 * 1024)}}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 4
    assert "would exceed" in result.stderr
    assert (root / "config.json").read_bytes() == original


def test_failed_release_exits_with_its_code_and_keeps_the_file(root: Path, volume: SecretVolume, tmp_path: Path,
                                                               agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready")
    # The node file grows past what the agent will rewrite (another tool appended a lot): release must not touch it.
    grown = dict(read_json(root / "config.json"), pad="z" * (3 * 1024 * 1024))
    os.replace(_write(tmp_path / "grown.json", grown), root / "config.json")
    agent.wait_for_log("sync-failed")
    original = (root / "config.json").read_bytes()

    assert agent.terminate() == 4
    assert "release-failed owner=pod-a" in agent.log()
    assert (root / "config.json").read_bytes() == original
    assert not agent.ready_file.exists()


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


# ------------------------------------------------------------------------------------------------ sizes and flags


def test_source_past_the_size_cap_is_invalid(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "huge.json"
    src.write_text(json.dumps({"auths": {REG: {**OURS, "email": "e" * (1200 * 1024)}}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 1
    assert "larger than" in result.stderr
    assert not (root / "config.json").exists()


def test_source_with_too_many_registries_is_invalid(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "many.json"
    src.write_text(json.dumps({"auths": {f"r{n}.example": {"auth": OURS["auth"]} for n in range(2001)}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 1
    assert "2001 registries; at most 2000" in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "0.01", "86401", "1e12", "soon"])
def test_interval_must_be_finite_and_bounded(root: Path, volume: SecretVolume, value: str) -> None:
    result = run_once(volume.path, root, "pod-a", "--interval", value)

    assert result.returncode == 2
    assert "--interval" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "config.json").exists()


@pytest.mark.parametrize("value", ["0.1", "86400"])
def test_interval_bounds_are_accepted(root: Path, volume: SecretVolume, value: str) -> None:
    assert run_once(volume.path, root, "pod-a", "--interval", value).returncode == 0


# ------------------------------------------------------------------------------------------------ log injection


FORGED = "2030-01-01T00:00:00.000Z INFO sync owner=attacker owned=0 config=unchanged"
EVIL_KEYS = [f"evil.example\n{FORGED}", f"evil.example\r{FORGED}", "evil.example\x1b[2Jclear", "evil\u2028.example",
             "evil\x7f.example"]


@pytest.mark.parametrize("key", EVIL_KEYS, ids=["lf", "cr", "esc", "u2028", "del"])
def test_control_characters_in_keys_are_escaped_in_logs(root: Path, tmp_path: Path, key: str) -> None:
    write_config(root, {"auths": {key: PREEXISTING}})  # take-over logs the key alone, `added=` in a list
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {key: OURS}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0
    assert auths(root) == {key: OURS}
    assert_log_lines_are_ours(result.stderr)
    escaped = json.dumps(key).replace("\x7f", "\\u007f")
    assert f"take-over key={escaped} " in result.stderr
    assert f"updated={escaped} " in result.stderr
    assert all(c.isprintable() for c in result.stderr.replace("\n", ""))


def test_a_comma_in_a_key_is_quoted_in_key_lists(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {"a,b.example": OURS, "c.example": SECOND}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0
    assert 'added="a,b.example",c.example ' in result.stderr


# ------------------------------------------------------------------------------------------------ found by mutation


def test_a_fifo_as_ready_file_is_logged_not_waited_on(root: Path, volume: SecretVolume, tmp_path: Path) -> None:
    ready = _fifo(tmp_path / "ready")

    result = run_once(volume.path, root, "pod-a", "--ready-file", str(ready))

    assert result.returncode == 0  # the sync itself succeeded; only readiness could not be signalled
    assert f'ERROR ready-file file={ready} error="No such device or address"' in result.stderr
    assert auths(root) == {REG: OURS}


def test_node_file_is_indented_json_unless_that_would_pass_the_cap(root: Path, volume: SecretVolume) -> None:
    assert run_once(volume.path, root, "pod-a").returncode == 0
    document = read_json(root / "config.json")
    assert (root / "config.json").read_text() == json.dumps(document, indent=2) + "\n"

    # Compact it fits under 2 MiB; indented (one item per line) it would not: written compact, nothing refused.
    crowded = {"auths": {"foreign.example": FOREIGN}, "pad": [0] * 45_000, "text": "t" * (1900 * 1024)}
    write_config(root, json.dumps(crowded, separators=(",", ":")))
    volume.publish({"auths": {REG: SECOND}})
    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    written = (root / "config.json").read_bytes()
    assert len(written) <= 2 * 1024 * 1024 and b"\n  " not in written
    assert json.loads(written)["auths"] == {"foreign.example": FOREIGN, REG: SECOND}


@pytest.mark.parametrize("size, code", [(1024 * 1024 + 64 * 1024, 0), (1024 * 1024 + 64 * 1024 + 1, 1)])
def test_source_size_cap_is_exact(root: Path, tmp_path: Path, size: int, code: int) -> None:
    document = json.dumps({"auths": {REG: {**OURS, "email": ""}}})
    src = tmp_path / "sized.json"
    src.write_text(document.replace('"email": ""', '"email": "' + "e" * (size - len(document)) + '"'))
    assert src.stat().st_size == size

    assert run_once(src, root, "pod-a").returncode == code


def test_a_looping_agent_holds_a_lease_of_five_intervals(root: Path, volume: SecretVolume, tmp_path: Path,
                                                         agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path, interval=100)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready")
    agent_record = read_json(root / STATE)["agents"]["pod-a"]
    lease = agent_record["lease"]

    assert lease["seconds"] == 500  # max(5 x interval, 300 s)
    assert 480 < lease["until"] - time.clock_gettime(time.CLOCK_BOOTTIME) <= 500  # on the boot-time clock
    assert lease["boot"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert agent_record["expires"] is None  # an older agent reads this: never expires, never wall time
    assert agent.terminate() == 0  # a signal ends the 100 s wait at once


@pytest.mark.parametrize("edited", [REG, OTHER])
def test_a_hand_edit_is_respected_whichever_key_it_is(root: Path, tmp_path: Path, edited: str) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {REG: OURS, OTHER: SECOND}}))
    assert run_once(src, root, "pod-a").returncode == 0
    config = read_json(root / "config.json")
    config["auths"][edited] = PREEXISTING  # someone hot-fixed one of our two entries
    write_config(root, config)

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0
    assert f"hand-edited key={edited} " in result.stderr
    assert auths(root) == {REG: OURS, OTHER: SECOND, edited: PREEXISTING}


def test_an_idle_loop_does_not_rewrite_its_files(root: Path, volume: SecretVolume, tmp_path: Path,
                                                 agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready")
    agent.wait_for_log(" sync ", times=2)
    before = {name: (root / name).read_bytes() for name in ("config.json", STATE)}
    # Held open: a rewrite then cannot get the same inode number back (freed numbers are reused at once).
    held = [open(root / name, "rb") for name in ("config.json", STATE)]
    try:
        agent.wait_for_log(" sync ", times=8)  # six more syncs with nothing to do (the lease renews at half-time)
        assert [os.stat(root / name).st_ino for name in ("config.json", STATE)] == [
            os.fstat(handle.fileno()).st_ino for handle in held]
    finally:
        for handle in held:
            handle.close()
    assert {name: (root / name).read_bytes() for name in ("config.json", STATE)} == before
    assert agent.terminate() == 0


def test_log_timestamps_have_three_digit_milliseconds(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    spec = importlib.util.spec_from_file_location("node_agent_for_log_test", AGENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module.time, "time", lambda: 1_700_000_000.9999)

    module.log("INFO", "probe", key="k")

    assert capsys.readouterr().err == "2023-11-14T22:13:20.999Z INFO probe key=k\n"


@pytest.mark.parametrize("kind, words", [("symlink", 'it is a symlink" '), ("fifo", "it is a FIFO, not a regular file")])
def test_config_json_that_is_not_a_regular_file_is_refused_by_kind(root: Path, volume: SecretVolume, tmp_path: Path,
                                                                   kind: str, words: str) -> None:
    if kind == "symlink":
        (root / "config.json").symlink_to(tmp_path / "elsewhere.json")
    else:
        _fifo(root / "config.json")

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 3
    assert f"refusing to use {root / 'config.json'}: {words}" in result.stderr
    assert not (tmp_path / "elsewhere.json").exists()


def test_long_key_lists_are_cut_at_twenty_names(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {f"r{n:02d}.example": {"auth": OURS["auth"]} for n in range(23)}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0
    shown = ",".join(f"r{n:02d}.example" for n in range(20))
    assert f"added={shown},...(+3) " in result.stderr


def test_a_large_take_over_is_remembered(root: Path, tmp_path: Path) -> None:
    # 1000 pre-existing entries of ~1.3 KB under our keys: the state keeps every displaced value (> 1 MiB).
    keys = [f"r{n:04d}.example" for n in range(1000)]
    write_config(root, json.dumps({"auths": {k: {**PREEXISTING, "email": "p" * 1300} for k in keys}}))
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {k: {"auth": OURS["auth"]} for k in keys}}))

    first = run_once(src, root, "pod-a")
    second = run_once(src, root, "pod-a")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr[-300:]
    assert (root / STATE).stat().st_size > 1024 * 1024
    assert "state-corrupt" not in second.stderr and "take-over" not in second.stderr
    displaced = read_json(root / STATE)["keys"][keys[-1]]["displaced_raw"]  # the entry's bytes, as they were
    assert json.loads(displaced) == {**PREEXISTING, "email": "p" * 1300}


@pytest.mark.parametrize("auth", ["dTpwMQ", "dTpwMTI", "dTpw"])  # "u:p1", "u:p12" unpadded; "u:p" needs none
def test_unpadded_base64_auth_is_accepted_like_the_kubelet_does(root: Path, tmp_path: Path, auth: str) -> None:
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {REG: {"auth": auth}}}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert auths(root) == {REG: {"auth": auth}}


def test_a_take_over_state_may_hold_twice_the_items_of_config_json(root: Path, tmp_path: Path) -> None:
    # 2000 pre-existing entries of ~45 JSON items each: config.json stays under 100000 items, while the state
    # (each displaced value plus owners and digests per key) needs more: its own, larger cap must take it.
    keys = [f"r{n:04d}.example" for n in range(2000)]
    write_config(root, json.dumps({"auths": {k: {"auth": PREEXISTING["auth"], "x": [0] * 40} for k in keys}}))
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {k: {"auth": OURS["auth"]} for k in keys}}))

    first = run_once(src, root, "pod-a")
    second = run_once(src, root, "pod-a")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr[-300:]
    raw = (root / STATE).read_bytes()
    assert sum(raw.count(c) for c in (b"{", b"[", b",", b":")) > 100_000
    assert "state-corrupt" not in second.stderr and "take-over" not in second.stderr


def test_release_keeps_a_file_it_created_once_someone_else_added_to_it(root: Path, volume: SecretVolume,
                                                                        tmp_path: Path, agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready")
    write_config(root, {**read_json(root / "config.json"), "HttpHeaders": {"User-Agent": "node"}})
    agent.wait_for_log(" sync ", times=3)

    assert agent.terminate() == 0
    assert read_json(root / "config.json") == {"auths": {}, "HttpHeaders": {"User-Agent": "node"}}
