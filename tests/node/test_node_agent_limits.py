"""Every limit of the node agent, on both sides of its boundary: at the limit it is accepted, one past it refused.

node_agent.py is the one home of these limits (its MAX_*/MIN_* constants); the component's preview is to refuse
the same inputs by importing them. MAX_NESTING_DEPTH is Go's (scanner.go maxNestingDepth) and is tested, both
sides, in test_node_agent_kubelet_json.py; --interval's bounds in test_node_agent_faults.py.
"""

import json
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from support.agent import STATE, agent_module, entry, read_json, run_once

AGENT = agent_module()
REG = "registry.example.com"
OURS = entry("robot", "limits-S3cret-pw!")


def items(data: bytes) -> int:
    return sum(data.count(c) for c in (b"{", b"[", b",", b":"))


def source_with_entries(count: int) -> bytes:
    return json.dumps({"auths": {f"r{n:05d}.example": {"auth": OURS["auth"]} for n in range(count)}}).encode()


def source_with_items(count: int) -> bytes:
    base = json.dumps({"auths": {REG: {**OURS, "x": ""}}}).encode()
    return base.replace(b'"x": ""', b'"x": "' + b"," * (count - items(base)) + b'"')


def padded(document: Dict[str, Any], size: int, filler: bytes = b"p") -> bytes:
    """document compact, with a top-level "pad" string making it exactly size bytes."""
    base = json.dumps({**document, "pad": ""}, separators=(",", ":")).encode()
    return base.replace(b'"pad":""', b'"pad":"' + filler * (size - len(base)) + b'"')


def with_items(document: Dict[str, Any], count: int) -> bytes:
    base = json.dumps({**document, "pad": ""}, separators=(",", ":")).encode()
    return base.replace(b'"pad":""', b'"pad":"' + b":" * (count - items(base)) + b'"')


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src.json"
    path.write_text(json.dumps({"auths": {REG: OURS}}))
    return path


# ------------------------------------------------------------------------------------------------ source


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_source_entries(tmp_path: Path, past: int) -> None:
    path = tmp_path / "src.json"
    path.write_bytes(source_with_entries(AGENT.MAX_SOURCE_ENTRIES + past))
    if past:
        with pytest.raises(AGENT.SourceError, match=f"{AGENT.MAX_SOURCE_ENTRIES + 1} registries; at most "
                                                   f"{AGENT.MAX_SOURCE_ENTRIES}"):
            AGENT.load_source(str(path))
    else:
        assert len(AGENT.load_source(str(path))) == AGENT.MAX_SOURCE_ENTRIES


def test_registries_repeated_in_a_source_count_once(tmp_path: Path) -> None:
    # The kubelet keeps one entry per key, so the limit counts keys, not members.
    path = tmp_path / "src.json"
    one = source_with_entries(AGENT.MAX_SOURCE_ENTRIES).decode()
    path.write_text(one[:-1] + ', "auths": ' + json.dumps({"r00000.example": {"auth": OURS["auth"]}}) + "}")

    assert len(AGENT.load_source(str(path))) == AGENT.MAX_SOURCE_ENTRIES


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_json_items_of_the_source(tmp_path: Path, past: int) -> None:
    path = tmp_path / "src.json"
    path.write_bytes(source_with_items(AGENT.MAX_JSON_ITEMS + past))
    assert items(path.read_bytes()) == AGENT.MAX_JSON_ITEMS + past
    if past:
        with pytest.raises(AGENT.SourceError, match="JSON items"):
            AGENT.load_source(str(path))
    else:
        assert list(AGENT.load_source(str(path))) == [REG]


# ------------------------------------------------------------------------------------------------ config.json


# (id, how config.json is grown to a size, the limit, what the refusal says): both caps of a read config.json
CONFIG_READ_CAPS = [("bytes", padded, "MAX_CONFIG_BYTES", "larger than"),
                    ("items", with_items, "MAX_JSON_ITEMS", "JSON items")]


@pytest.mark.parametrize("past, code", [(0, 0), (1, 4)], ids=["at", "past"])
@pytest.mark.parametrize("name, grow, limit, words", CONFIG_READ_CAPS, ids=[c[0] for c in CONFIG_READ_CAPS])
def test_config_json_read_caps(root: Path, src: Path, past: int, code: int, name: str,
                               grow: Callable[[Dict[str, Any], int], bytes], limit: str, words: str) -> None:
    assert run_once(src, root, "pod-a").returncode == 0
    original = grow(read_json(root / "config.json"), getattr(AGENT, limit) + past)
    (root / "config.json").write_bytes(original)

    result = run_once(src, root, "pod-a")

    assert result.returncode == code, result.stderr
    assert (root / "config.json").read_bytes() == original
    assert (words in result.stderr) is bool(past)


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_config_bytes_written(root: Path, src: Path, past: int) -> None:
    foreign = {"auths": {"f.example": {"auth": OURS["auth"]}}}
    probe = padded(foreign, 1000)
    node = AGENT.NodeFile(AGENT.kubelet_view(probe))
    node.set_entry(REG, OURS)
    grows_by = len(node.render()[0]) - len(probe)  # what adding our entry adds to this compact file
    original = padded(foreign, AGENT.MAX_CONFIG_BYTES - grows_by + past)
    (root / "config.json").write_bytes(original)

    result = run_once(src, root, "pod-a")

    if past:
        assert result.returncode == 4 and "would exceed" in result.stderr
        assert (root / "config.json").read_bytes() == original
    else:
        assert result.returncode == 0, result.stderr
        assert (root / "config.json").stat().st_size == AGENT.MAX_CONFIG_BYTES


# ------------------------------------------------------------------------------------------------ state


def padded_state(root: Path, size: int, filler: bytes = b"p") -> bytes:
    state = read_json(root / STATE)
    base = json.dumps({**state, "pad": ""}, separators=(",", ":")).encode() + b"\n"
    return base.replace(b'"pad":""', b'"pad":"' + filler * (size - len(base)) + b'"')


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_state_bytes_read(root: Path, src: Path, past: int) -> None:
    assert run_once(src, root, "pod-a").returncode == 0
    (root / STATE).write_bytes(padded_state(root, AGENT.MAX_STATE_BYTES + past))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert ("state-corrupt" in result.stderr) is bool(past)


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_state_bytes_written(past: int) -> None:
    state = AGENT.new_state(created_config=False)
    base = len(AGENT.render_state({**state, "pad": ""}))
    big = {**state, "pad": "p" * (AGENT.MAX_STATE_BYTES - base + past)}
    if past:
        with pytest.raises(AGENT.AgentError, match="the state would exceed"):
            AGENT.render_state(big)
    else:
        assert len(AGENT.render_state(big)) == AGENT.MAX_STATE_BYTES


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_state_items_read(root: Path, src: Path, past: int) -> None:
    assert run_once(src, root, "pod-a").returncode == 0
    raw = padded_state(root, 0, b"")
    raw = padded_state(root, len(raw) + AGENT.MAX_STATE_ITEMS - items(raw) + past, b",")
    assert items(raw) == AGENT.MAX_STATE_ITEMS + past
    (root / STATE).write_bytes(raw)

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert ("state-corrupt" in result.stderr) is bool(past)


@pytest.mark.parametrize("past", [0, 1], ids=["at", "past"])
def test_max_state_depth(root: Path, src: Path, past: int) -> None:
    assert run_once(src, root, "pod-a").returncode == 0
    state = read_json(root / STATE)
    note: Any = 0
    for _ in range(AGENT.MAX_STATE_DEPTH - 1 + past):  # the state itself is level 1
        note = [note]
    (root / STATE).write_text(json.dumps({**state, "note": note}))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert ("state-corrupt" in result.stderr) is bool(past)


# ------------------------------------------------------------------------------------------------ one home

LIMITS: Dict[str, Callable[[Any], bool]] = {
    "MAX_SOURCE_BYTES": lambda v: v >= 1024 * 1024,  # a Secret may hold 1 MiB (core/v1 MaxSecretSize)
    "MAX_SOURCE_ENTRIES": lambda v: isinstance(v, int) and v > 0,
    "MAX_CONFIG_BYTES": lambda v: v >= AGENT.MAX_SOURCE_BYTES,  # config.json must hold the source and more
    "MAX_STATE_BYTES": lambda v: v >= AGENT.MAX_CONFIG_BYTES,  # displaced entries come from config.json
    "MAX_JSON_ITEMS": lambda v: isinstance(v, int) and v > 0,
    "MAX_STATE_ITEMS": lambda v: v >= AGENT.MAX_JSON_ITEMS,
    "MAX_NESTING_DEPTH": lambda v: v == 10_000,  # Go's encoding/json maxNestingDepth, not ours to choose
    "MAX_STATE_DEPTH": lambda v: isinstance(v, int) and v >= 4,  # the state's own shape is 4 deep
    "MIN_INTERVAL": lambda v: 0 < v < AGENT.MAX_INTERVAL,
    "MAX_INTERVAL": lambda v: v > 0,
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_each_limit_is_a_documented_module_constant(name: str) -> None:
    assert LIMITS[name](getattr(AGENT, name))
    assert name in AGENT.__doc__  # the module docstring lists every limit for the component to import
