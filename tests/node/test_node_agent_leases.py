"""Leases on the node's boot-time clock: a wall-clock step never expires a live agent; a reboot re-bases leases.

All processes on a node share CLOCK_BOOTTIME (Linux clock_gettime(2): "like CLOCK_MONOTONIC, except that it also
includes any time that the system is suspended"), which NTP and `date -s` never step; it restarts at a reboot,
which /proc/sys/kernel/random/boot_id tells apart (a new random id per boot, proc(5)).
"""

import json
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from support.agent import (
    AGENT,
    STATE,
    Agent,
    SecretVolume,
    agent_env,
    agent_module,
    auths,
    entry,
    read_json,
    wait_for,
)

REG = "registry.example.com"
GHOSTS = "ghost.example.com"
LIVE = entry("robot", "leases-S3cret-pw!")
GHOST = entry("ghost", "leases-Ghost-pw!")
YEAR = 365 * 24 * 3600.0


class Node:
    """One kubelet root driven in process, with the boot-time clock and the wall clock set by the test."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.module = agent_module()
        self.root = root
        self.boot, self.now, self.wall = "boot-1", 1000.0, 1_700_000_000.0
        fake_time = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
        fake_time.time = lambda: self.wall
        monkeypatch.setattr(self.module, "time", fake_time)
        monkeypatch.setattr(self.module, "boot_clock", lambda: (self.boot, self.now))

    def sync(self, owner: str, entries: Dict[str, dict], lease: Optional[float]) -> None:
        self.module.transact(str(self.root), owner, entries, lease)

    def agents(self) -> Dict[str, dict]:
        return read_json(self.root / STATE)["agents"]


@pytest.fixture
def node(root: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    return Node(root, monkeypatch)


# (id, change before the live agent's sync: (boot id, boot-clock step, wall step), is the ghost expired)
SCENARIOS: List[Tuple[str, Tuple[Optional[str], float, float], bool]] = [
    ("wall-forward-a-year", (None, 10.0, YEAR), False),
    ("wall-back-a-year", (None, 10.0, -YEAR), False),
    ("boot-clock-within-the-lease", (None, 299.0, 0.0), False),
    ("boot-clock-past-the-lease", (None, 301.0, 0.0), True),
    ("boot-clock-past-the-lease-wall-back", (None, 301.0, -YEAR), True),
    ("reboot-new-boot-id", ("boot-2", -990.0, 0.0), False),
    ("reboot-without-a-boot-id", ("", -990.0, 0.0), False),
]


@pytest.mark.parametrize("name, change, expired", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_a_lease_runs_on_the_boot_time_clock_only(node: Node, name: str, change: Tuple[Optional[str], float, float],
                                                  expired: bool) -> None:
    boot, step, wall_step = change
    if boot == "":
        node.boot = ""
    node.sync("ghost-pod", {GHOSTS: GHOST}, 300.0)  # a looping agent, then killed -9: its lease is all that is left
    if boot is not None:
        node.boot = boot
    node.now += step
    node.wall += wall_step

    node.sync("live-pod", {REG: LIVE}, 300.0)

    assert ("ghost-pod" not in node.agents()) is expired
    assert (GHOSTS not in auths(node.root)) is expired


def test_a_lease_from_an_earlier_boot_runs_one_full_length_from_the_first_sync_that_sees_it(node: Node) -> None:
    node.sync("ghost-pod", {GHOSTS: GHOST}, 300.0)
    node.boot, node.now = "boot-2", 5.0  # the node restarted

    node.sync("live-pod", {REG: LIVE}, 300.0)

    assert node.agents()["ghost-pod"]["lease"] == {"boot": "boot-2", "until": 305.0, "seconds": 300.0}
    node.now = 304.0
    node.sync("live-pod", {REG: LIVE}, 300.0)
    assert "ghost-pod" in node.agents()
    node.now = 306.0
    node.sync("live-pod", {REG: LIVE}, 300.0)
    assert "ghost-pod" not in node.agents() and GHOSTS not in auths(node.root)


def test_the_state_holds_the_lease_on_the_boot_clock_and_a_null_expires_for_older_agents(node: Node) -> None:
    node.sync("pod-a", {REG: LIVE}, 300.0)

    assert node.agents()["pod-a"] == {"seq": 1, "expires": None,
                                      "lease": {"boot": "boot-1", "until": 1300.0, "seconds": 300.0}}


def test_a_lease_is_renewed_at_half_time_and_not_before(node: Node) -> None:
    node.sync("pod-a", {REG: LIVE}, 300.0)
    before = (node.root / STATE).read_bytes()
    node.now += 149.0

    node.sync("pod-a", {REG: LIVE}, 300.0)
    assert (node.root / STATE).read_bytes() == before  # an idle sync writes nothing

    node.now += 2.0
    node.sync("pod-a", {REG: LIVE}, 300.0)
    assert node.agents()["pod-a"]["lease"]["until"] == node.now + 300.0


def test_an_older_agents_wall_clock_lease_is_honoured_as_it_was(node: Node) -> None:
    node.sync("old-pod", {GHOSTS: GHOST}, None)
    state = read_json(node.root / STATE)
    state["agents"]["old-pod"]["expires"] = node.wall + 100.0  # as an agent of the previous release wrote it
    (node.root / STATE).write_text(json.dumps(state))

    node.sync("live-pod", {REG: LIVE}, 300.0)
    assert "old-pod" in node.agents()
    node.wall += 101.0
    node.sync("live-pod", {REG: LIVE}, 300.0)
    assert "old-pod" not in node.agents()


def test_once_registrations_never_expire(node: Node) -> None:
    node.sync("once", {GHOSTS: GHOST}, None)
    node.now += 10 * YEAR
    node.wall += 10 * YEAR

    node.sync("live-pod", {REG: LIVE}, 300.0)

    assert "once" in node.agents() and GHOSTS in auths(node.root)


def test_the_boot_clock_is_clock_boottime_and_the_boot_id() -> None:
    module = agent_module()
    boot, now = module.boot_clock()

    assert boot == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert abs(now - time.clock_gettime(time.CLOCK_BOOTTIME)) < 5.0


def test_a_wall_clock_step_in_another_agent_never_expires_a_live_one(root: Path, tmp_path: Path,
                                                                      agents: List[Agent]) -> None:
    live_secret = SecretVolume(tmp_path / "live")
    live_secret.publish({"auths": {REG: LIVE}})
    live = Agent(live_secret.path, root, "live-pod", tmp_path, interval=30)  # lease: 300 s
    agents.append(live)
    wait_for(live.ready_file.exists, what="the live agent's first sync")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"auths": {GHOSTS: GHOST}}))
    # Another agent whose wall clock jumped 400 days ahead (an NTP fix, `date -s`): real CLOCK_BOOTTIME.
    shifted = ("import runpy, sys, time; real = time.time; time.time = lambda: real() + 400 * 86400; "
               f"sys.argv = [{str(AGENT)!r}] + sys.argv[1:]; runpy.run_path({str(AGENT)!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", shifted, "--source", str(other), "--kubelet-root", str(root),
                             "--once", "--owner-id", "jumpy", "--ready-file", ""],
                            env=agent_env(), capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    assert "expire-owner" not in result.stderr
    assert "live-pod" in read_json(root / STATE)["agents"]
    assert auths(root) == {REG: LIVE, GHOSTS: GHOST}
    assert live.terminate() == 0
    assert auths(root) == {GHOSTS: GHOST}
