"""The node agent, run as real subprocesses on temp kubelet roots: merge, ownership, hand-over, crash safety."""

import json
import os
import random
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from support.agent import (
    AGENT,
    OUTPUTS,
    SECRETS,
    STATE,
    TMP_PREFIX,
    Agent,
    SecretVolume,
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
OURS = entry("robot", "agent-S3cret-pw!")
ROTATED = entry("robot", "agent-R0tated-pw!")
NEWER = entry("robot", "agent-N3wer-pod-pw!")
SECOND = entry("robot2", "agent-Second-pw!")
FOREIGN = entry("someone", "foreign-S3cret-pw!")
PREEXISTING = entry("legacy", "preexisting-S3cret-pw!")
HAND_EDITED = entry("admin", "hand-Edited-pw!")


def source(**entries: Dict[str, Any]) -> Dict[str, Any]:
    """A `.dockerconfigjson` with REG and/or OTHER entries (reg=..., other=...)."""
    keys = {"reg": REG, "other": OTHER}
    return {"auths": {keys.get(name, name): value for name, value in entries.items()}}


def foreign_config() -> Dict[str, Any]:
    """A config.json someone else wrote: a foreign entry and foreign top-level keys."""
    return {"auths": {"foreign.example": FOREIGN}, "HttpHeaders": {"User-Agent": "node-image"}, "credsStore": "x"}


@pytest.fixture
def volume(tmp_path: Path) -> SecretVolume:
    """A Secret-volume-like directory holding the source, published with OURS for REG."""
    vol = SecretVolume(tmp_path / "secret")
    vol.publish(source(reg=OURS))
    return vol


def mode(path: Path) -> int:
    """Permission bits of path."""
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(root: Path) -> List[str]:
    """Temp files the agent left in root."""
    return [name for name in os.listdir(root) if name.startswith(TMP_PREFIX)]


# ------------------------------------------------------------------------------------------------ merge


def test_merge_keeps_foreign_entries_and_top_level_keys_with_mode_0600(root: Path, volume: SecretVolume) -> None:
    write_config(root, foreign_config())
    os.chmod(root / "config.json", 0o644)
    volume.publish(source(reg=OURS, other=SECOND))

    result = run_once(volume.path, root, "node-a", preexec_fn=lambda: os.umask(0))

    assert result.returncode == 0, result.stderr
    config = read_json(root / "config.json")
    assert config == {**foreign_config(), "auths": {"foreign.example": FOREIGN, REG: OURS, OTHER: SECOND}}
    assert all(value["auth"] for value in config["auths"].values())  # skopeo reads only `auth`
    assert mode(root / "config.json") == 0o600 and mode(root / STATE) == 0o600
    assert "add" in result.stderr or "added=" in result.stderr
    assert leftovers(root) == []


def test_entry_with_only_username_and_password_gets_auth(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "plain.json"
    plain = {"username": "robot", "password": "agent-S3cret-pw!"}
    src.write_text(json.dumps({"auths": {REG: plain}}))

    assert run_once(src, root, "node-a").returncode == 0

    assert auths(root)[REG] == OURS


def test_registry_removed_from_source_is_removed(root: Path, volume: SecretVolume) -> None:
    write_config(root, foreign_config())
    volume.publish(source(reg=OURS, other=SECOND))
    assert run_once(volume.path, root, "node-a").returncode == 0

    volume.publish(source(reg=OURS))
    result = run_once(volume.path, root, "node-a")

    assert result.returncode == 0
    assert auths(root) == {"foreign.example": FOREIGN, REG: OURS}
    assert f"removed={OTHER}" in result.stderr
    assert list(read_json(root / STATE)["keys"]) == [REG]


def test_second_once_run_without_changes_does_not_rewrite(root: Path, volume: SecretVolume) -> None:
    assert run_once(volume.path, root, "node-a").returncode == 0
    before = (root / "config.json").stat().st_ino

    result = run_once(volume.path, root, "node-a")

    assert result.returncode == 0 and "config=unchanged" in result.stderr
    assert (root / "config.json").stat().st_ino == before


# ---------------------------------------------------------------------------------------- loop, release, hand-over


def test_loop_picks_up_rotated_secret(root: Path, volume: SecretVolume, tmp_path: Path, agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(lambda: auths(root).get(REG) == OURS, what="first sync")

    volume.publish(source(reg=ROTATED))

    wait_for(lambda: auths(root).get(REG) == ROTATED, what="rotated password on the node")
    assert agent.process.poll() is None


def test_stale_ready_file_is_removed_at_start(root: Path, tmp_path: Path, agents: List[Agent]) -> None:
    volume = SecretVolume(tmp_path / "secret")
    volume.publish("{broken")
    ready = tmp_path / "ready"
    ready.write_text("left by a container that was killed\n")  # /tmp is an emptyDir: it survives restarts

    agent = Agent(volume.path, root, "pod-a", tmp_path, ready_file=ready)
    agents.append(agent)

    agent.wait_for_log("sync-failed")
    assert not ready.exists()


def test_sigterm_removes_entries_and_the_file_it_created(root: Path, volume: SecretVolume, tmp_path: Path,
                                                        agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="ready file")
    assert auths(root) == {REG: OURS}

    assert agent.terminate() == 0

    assert sorted(os.listdir(root)) == []  # config.json, state and lock all gone: as before
    assert not agent.ready_file.exists()
    assert "release" in agent.log()


def test_sigterm_restores_existing_file_and_displaced_entry(root: Path, volume: SecretVolume, tmp_path: Path,
                                                           agents: List[Agent]) -> None:
    original = foreign_config()
    original["auths"][REG] = PREEXISTING
    write_config(root, original)
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(lambda: auths(root).get(REG) == OURS, what="take-over")
    assert auths(root)["foreign.example"] == FOREIGN
    agent.wait_for_log(f"take-over key={REG}")

    assert agent.terminate() == 0

    assert read_json(root / "config.json") == original
    assert list(read_json(root / "config.json")["auths"]) == ["foreign.example", REG]  # same position
    assert sorted(os.listdir(root)) == ["config.json"]
    assert f"restored={REG}" in agent.log()


def start_old_then_new(root: Path, tmp_path: Path, agents: List[Agent], old_source: Any,
                       owners: Tuple[str, str]) -> Tuple[Agent, Agent]:
    """A rolling update's overlap: an old agent syncs OURS, then a newer one (source NEWER) takes REG over."""
    old_secret, new_secret = SecretVolume(tmp_path / "old"), SecretVolume(tmp_path / "new")
    old_secret.publish(old_source)
    new_secret.publish(source(reg=NEWER))
    old = Agent(old_secret.path, root, owners[0], tmp_path)
    agents.append(old)
    wait_for(lambda: auths(root).get(REG) == OURS, what="old agent's sync")
    new = Agent(new_secret.path, root, owners[1], tmp_path)
    agents.append(new)
    wait_for(lambda: auths(root).get(REG) == NEWER, what="new agent's value")
    return old, new


def test_handover_between_two_agents_on_one_node(root: Path, tmp_path: Path, agents: List[Agent]) -> None:
    original = foreign_config()
    write_config(root, original)
    old, new = start_old_then_new(root, tmp_path, agents, source(reg=OURS, other=SECOND),
                                  ("ds-old-abc12", "ds-new-xyz89"))
    syncs = old.count(" sync ")
    old.wait_for_log(" sync ", times=syncs + 3)
    assert auths(root)[REG] == NEWER  # the older agent does not revert the newer one's value

    assert old.terminate() == 0
    assert auths(root) == {"foreign.example": FOREIGN, REG: NEWER}  # OTHER was only the old agent's
    new.wait_for_log(" sync ", times=new.count(" sync ") + 2)
    assert auths(root) == {"foreign.example": FOREIGN, REG: NEWER}

    assert new.terminate() == 0
    assert read_json(root / "config.json") == original
    assert sorted(os.listdir(root)) == ["config.json"]


def test_newer_agent_leaving_first_hands_back_to_older(root: Path, tmp_path: Path, agents: List[Agent]) -> None:
    old, new = start_old_then_new(root, tmp_path, agents, source(reg=OURS), ("pod-old", "pod-new"))

    assert new.terminate() == 0  # e.g. a rollback: the older pod stays

    wait_for(lambda: auths(root).get(REG) == OURS, what="older agent takes the key back")
    assert "hand-edited" not in old.log()


def test_hand_edited_entry_is_not_silently_overwritten(root: Path, volume: SecretVolume, tmp_path: Path,
                                                       agents: List[Agent]) -> None:
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    wait_for(lambda: auths(root).get(REG) == OURS, what="first sync")
    config = read_json(root / "config.json")
    config["auths"][REG] = HAND_EDITED
    write_config(root, config)

    agent.wait_for_log(f"hand-edited key={REG}")
    volume.publish(source(reg=ROTATED))
    agent.wait_for_log(f"skippedHandEdited={REG}", times=3)
    assert auths(root)[REG] == HAND_EDITED

    assert agent.terminate() == 0
    assert auths(root) == {REG: HAND_EDITED}  # not ours any more: release leaves it


def test_deleting_a_hand_edited_entry_hands_it_back(root: Path, volume: SecretVolume) -> None:
    assert run_once(volume.path, root, "node-a").returncode == 0
    write_config(root, {"auths": {REG: HAND_EDITED}})
    first = run_once(volume.path, root, "node-a")
    assert "hand-edited" in first.stderr and auths(root)[REG] == HAND_EDITED

    write_config(root, {"auths": {}})
    result = run_once(volume.path, root, "node-a")

    assert auths(root)[REG] == OURS
    assert f"manage-again key={REG}" in result.stderr


def test_expired_owner_is_collected(root: Path, tmp_path: Path) -> None:
    ghost_src, live_src = tmp_path / "ghost.json", tmp_path / "live.json"
    ghost_src.write_text(json.dumps(source(other=SECOND)))
    live_src.write_text(json.dumps(source(reg=OURS)))
    assert run_once(ghost_src, root, "pod-killed-9").returncode == 0
    state = read_json(root / STATE)
    state["agents"]["pod-killed-9"]["expires"] = time.time() - 1  # its lease ran out
    (root / STATE).write_text(json.dumps(state))

    result = run_once(live_src, root, "pod-live")

    assert auths(root) == {REG: OURS}
    assert "expire-owner owner=pod-killed-9" in result.stderr


# ------------------------------------------------------------------------------------------------ crash safety


def test_kill_9_mid_sync_always_leaves_a_valid_file(root: Path, volume: SecretVolume) -> None:
    write_config(root, foreign_config())
    assert run_once(volume.path, root, "pod-a").returncode == 0
    rng = random.Random(20241125)
    killed = 0
    for round_number in range(24):
        volume.publish(source(reg=ROTATED if round_number % 2 == 0 else OURS))
        process = subprocess.Popen(
            [sys.executable, str(AGENT),
             "--source", str(volume.path), "--kubelet-root", str(root), "--once", "--owner-id", "pod-a",
             "--ready-file", ""],
            env={**os.environ, "REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME": "0.03"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.02, 0.16))
        process.kill()
        _, err = process.communicate(timeout=10)
        OUTPUTS.append(err)
        assert_no_secrets(err)
        killed += process.returncode == -9

        config = json.loads((root / "config.json").read_text())  # never torn
        assert config["auths"][REG] in (OURS, ROTATED)
        assert config["auths"]["foreign.example"] == FOREIGN and config["HttpHeaders"]
        assert not (root / "config.json").is_symlink() and mode(root / "config.json") == 0o600
    assert killed >= 8, "too few runs were interrupted to mean anything"

    volume.publish(source(reg=ROTATED))
    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0
    assert auths(root) == {"foreign.example": FOREIGN, REG: ROTATED}
    assert leftovers(root) == []
    assert "hand-edited" not in result.stderr  # a crash between the two renames is not mistaken for a hand edit


def test_kill_9_during_release_is_finished_by_the_next_agent(root: Path, volume: SecretVolume, tmp_path: Path,
                                                            agents: List[Agent]) -> None:
    original = foreign_config()
    original["auths"][REG] = PREEXISTING
    write_config(root, original)
    for attempt, delay in enumerate((0.0, 0.04, 0.08, 0.12)):
        volume.publish(source(reg=OURS, other=SECOND))
        agent = Agent(volume.path, root, "pod-a", tmp_path, pause=0.03, ready_file=tmp_path / f"ready-{attempt}")
        agents.append(agent)
        wait_for(agent.ready_file.exists, what="ready")
        agent.process.send_signal(15)
        time.sleep(delay)
        assert agent.kill() in (-9, 0)
        config = read_json(root / "config.json")  # valid JSON, whatever point the release reached
        assert config["auths"]["foreign.example"] == FOREIGN
        assert config["auths"][REG] in (OURS, PREEXISTING)

    again = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(again)
    wait_for(again.ready_file.exists, what="ready")
    assert again.terminate() == 0

    assert read_json(root / "config.json") == original
    assert sorted(os.listdir(root)) == ["config.json"]
    assert "hand-edited" not in again.log()


def test_concurrent_once_runs_do_not_lose_updates(root: Path, tmp_path: Path) -> None:
    write_config(root, foreign_config())
    processes = []
    for number in range(8):
        src = tmp_path / f"src-{number}.json"
        src.write_text(json.dumps({"auths": {f"r{number}.example": OURS}}))
        processes.append(subprocess.Popen(
            [sys.executable, str(AGENT),
             "--source", str(src), "--kubelet-root", str(root), "--once", "--owner-id", f"node-{number}",
             "--ready-file", ""],
            env={**os.environ, "REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME": "0.02"},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, err = process.communicate(timeout=30)
        OUTPUTS.append(err)
        assert_no_secrets(err)
        assert process.returncode == 0, err

    expected = {"foreign.example": FOREIGN, **{f"r{number}.example": OURS for number in range(8)}}
    assert auths(root) == expected
    assert len(read_json(root / STATE)["agents"]) == 8


# ------------------------------------------------------------------------------------------------ refusals and failures


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_unsafe_target_is_refused(root: Path, volume: SecretVolume, tmp_path: Path, kind: str) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"auths": {}}')
    if kind == "symlink":
        (root / "config.json").symlink_to(elsewhere)
    else:
        (root / "config.json").mkdir()

    result = run_once(volume.path, root, "node-a")

    assert result.returncode == 3
    assert "refusing" in result.stderr
    assert elsewhere.read_text() == '{"auths": {}}'
    assert (root / "config.json").is_symlink() == (kind == "symlink")
    assert not (tmp_path / "ready").exists()


def test_loop_keeps_retrying_a_refused_symlink_then_recovers(root: Path, volume: SecretVolume, tmp_path: Path,
                                                            agents: List[Agent]) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    (root / "config.json").symlink_to(elsewhere)
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    agent.wait_for_log("sync-failed", times=2)
    assert agent.process.poll() is None and not agent.ready_file.exists()
    assert elsewhere.read_text() == "{}"

    (root / "config.json").unlink()
    write_config(root, {"auths": {}})

    wait_for(agent.ready_file.exists, what="ready after the symlink is gone")
    assert auths(root) == {REG: OURS}


def test_corrupt_config_is_kept_aside(root: Path, volume: SecretVolume) -> None:
    corrupt = write_config(root, '{"auths": {"foreign.example": {"auth": "Zm9v')

    result = run_once(volume.path, root, "node-a")

    assert result.returncode == 0
    assert auths(root) == {REG: OURS}
    kept = [name for name in os.listdir(root) if name.startswith("config.json.corrupt-")]
    assert len(kept) == 1 and (root / kept[0]).read_bytes() == corrupt
    assert mode(root / kept[0]) == 0o600
    assert "config-corrupt" in result.stderr and kept[0] in result.stderr


def test_missing_kubelet_root_is_a_clear_error(volume: SecretVolume, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubelet"

    result = run_once(volume.path, missing, "node-a")

    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not missing.exists()


INVALID_SOURCES = {
    "missing": None,
    "not-json": "{not json",
    "no-auths": json.dumps({"credsStore": "x"}),
    "auths-not-object": json.dumps({"auths": []}),
    "empty-auths": json.dumps({"auths": {}}),
    "no-credentials": json.dumps({"auths": {REG: {"username": "robot"}}}),
    "auth-without-colon": json.dumps({"auths": {REG: {"auth": "bm9jb2xvbg=="}}}),
    "auth-not-base64": json.dumps({"auths": {REG: {"auth": "%%%"}}}),
    "one-bad-entry": json.dumps({"auths": {REG: ROTATED, OTHER: {"password": "x"}}}),
}


@pytest.mark.parametrize("name", sorted(INVALID_SOURCES))
def test_invalid_source_keeps_last_good_file(root: Path, volume: SecretVolume, tmp_path: Path, name: str) -> None:
    ready = tmp_path / "ready"
    assert run_once(volume.path, root, "node-a", "--ready-file", str(ready)).returncode == 0
    assert ready.exists()
    before = (root / "config.json").read_bytes()
    bad = tmp_path / "bad.json"
    if INVALID_SOURCES[name] is not None:
        bad.write_text(INVALID_SOURCES[name])

    result = run_once(bad, root, "node-a", "--ready-file", str(ready))

    assert result.returncode == 1
    assert (root / "config.json").read_bytes() == before
    assert not ready.exists()
    assert "sync-failed" in result.stderr


def test_loop_survives_invalid_source_and_ready_only_after_success(root: Path, tmp_path: Path,
                                                                   agents: List[Agent]) -> None:
    volume = SecretVolume(tmp_path / "secret")
    volume.publish("{broken")
    agent = Agent(volume.path, root, "pod-a", tmp_path)
    agents.append(agent)
    agent.wait_for_log("sync-failed", times=2)
    assert not agent.ready_file.exists() and not (root / "config.json").exists()

    volume.publish(source(reg=OURS))
    wait_for(agent.ready_file.exists, what="ready after the source is fixed")
    assert auths(root) == {REG: OURS}

    volume.publish({"auths": {REG: {"auth": "!!"}}})
    wait_for(lambda: not agent.ready_file.exists(), what="not ready while the source is invalid")
    assert auths(root) == {REG: OURS}

    volume.publish(source(reg=ROTATED))
    wait_for(agent.ready_file.exists, what="ready again")
    wait_for(lambda: auths(root) == {REG: ROTATED}, what="recovered with the new value")
    assert agent.process.poll() is None


def test_owner_id_defaults_to_the_pod_name(root: Path, volume: SecretVolume, tmp_path: Path) -> None:
    # The looping agent (the DaemonSet) is the pod; `--once` has its own stable default (test_node_agent_faults).
    env = {**os.environ, "POD_NAME": "registry-credentials-node-7xk2p"}
    process = subprocess.Popen([sys.executable, str(AGENT), "--source", str(volume.path), "--kubelet-root", str(root),
                                "--interval", "0.1", "--ready-file", str(tmp_path / "ready")], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for((tmp_path / "ready").exists, what="ready")
        assert list(read_json(root / STATE)["agents"]) == ["registry-credentials-node-7xk2p"]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
        OUTPUTS.append(err)
    assert process.returncode == 0


def test_usage_error_exits_2(root: Path, volume: SecretVolume) -> None:
    result = run_once(volume.path, root, "node-a", "--interval", "0")

    assert result.returncode == 2


def _find_python39() -> Any:
    candidates = [str(p) for p in sorted((Path.home() / ".pyenv" / "versions").glob("3.9*/bin/python3"))]
    candidates += [shutil.which("python3.9") or ""]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "True":
            return candidate
    return None


PYTHON39 = _find_python39()


def test_runs_on_python_3_9(root: Path, volume: SecretVolume) -> None:
    # The agent promises Python >= 3.9 (node images); this machine image ships 3.9 under pyenv. Fail, never skip.
    assert PYTHON39, "no Python 3.9 interpreter found (pyenv 3.9.x or python3.9 on PATH); install one"
    result = run_once(volume.path, root, "node-a", python=str(PYTHON39))

    assert result.returncode == 0, result.stderr
    assert auths(root) == {REG: OURS}


# ------------------------------------------------------------------------------------------------ keep last


def test_no_credential_ever_appeared_in_agent_output(root: Path, volume: SecretVolume, tmp_path: Path) -> None:
    # Runs last: every helper already scanned its own process; this re-checks the whole session at once.
    corrupt_with_secret = json.dumps({"auths": {"x": FOREIGN}})[:-3]
    write_config(root, corrupt_with_secret)
    run_once(volume.path, root, "node-a")
    assert "agent-S3cret-pw!" in SECRETS and OURS["auth"] in SECRETS
    assert "agent-S3cret-pw!" in volume.path.read_text()  # the scan looks for values that were really there
    everything = "\n".join(OUTPUTS)
    assert " sync " in everything
    assert_no_secrets(everything)
