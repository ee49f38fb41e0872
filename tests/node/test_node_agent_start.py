"""A fresh agent process starts light: no import a steady sync does not need, its command line read without argparse
when it is in the plain form the DaemonSet uses (and then exactly as argparse reads it), and few fsync'd writes.
"""

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

from support.agent import AGENT, agent_module

MODULE = agent_module()

# Imported lazily by the agent, only where they are needed: none of them may load during a --once sync.
LAZY = ("argparse", "hashlib", "typing", "copy", "base64", "signal", "threading", "traceback", "shutil")

PLAIN_ARGV: List[List[str]] = [
    ["--source", "s", "--kubelet-root", "r"],
    ["--source", "s", "--kubelet-root", "r", "--once"],
    ["--once", "--kubelet-root", "r", "--source", "s", "--ready-file", "", "--owner-id", "pod-a"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "0.1"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "86400"],
    ["--source", "s", "--kubelet-root", "r", "--interval", " 1_000 "],
    ["--source", "s", "--kubelet-root", "r", "--interval", "1e3", "--owner-id", "a=b c"],
    ["--source", "with space", "--kubelet-root", "r", "--ready-file", "/tmp/x"],
]
# Left to argparse (abbreviations, `=`, repeats, values like options, errors, --help): quick_args declines.
OTHER_ARGV: List[List[str]] = [
    ["--source=s", "--kubelet-root", "r"],
    ["--sou", "s", "--kubelet-root", "r"],
    ["--source", "s", "--kubelet-root", "r", "--once", "--once"],
    ["--source", "s", "--source", "t", "--kubelet-root", "r"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "-5"],
    ["--source", "s", "--kubelet-root", "r", "--owner-id", "-x"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "nan"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "inf"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "0.01"],
    ["--source", "s", "--kubelet-root", "r", "--interval", "soon"],
    ["--source", "s"],
    ["--source", "s", "--kubelet-root"],
    ["--source", "s", "--kubelet-root", "r", "stray"],
    ["--source", "s", "--kubelet-root", "r", "--"],
    ["--help"],
    [],
]


@pytest.mark.parametrize("argv", PLAIN_ARGV, ids=" ".join)
def test_quick_args_read_the_plain_form_as_argparse_does(argv: List[str]) -> None:
    quick = MODULE.quick_args(argv)
    assert quick is not None
    assert vars(quick) == vars(MODULE.argparse_args(argv))
    assert vars(MODULE.parse_args(argv)) == vars(quick)


@pytest.mark.parametrize("argv", OTHER_ARGV, ids=lambda argv: " ".join(argv) or "empty")
def test_anything_else_is_left_to_argparse(argv: List[str], capsys: pytest.CaptureFixture) -> None:
    assert MODULE.quick_args(argv) is None
    try:
        expected = vars(MODULE.argparse_args(argv))
    except SystemExit as stop:  # usage error or --help: parse_args exits the same way
        with pytest.raises(SystemExit) as caught:
            MODULE.parse_args(argv)
        assert caught.value.code == stop.code
        return
    assert vars(MODULE.parse_args(argv)) == expected


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "source.json"
    source.write_text(json.dumps({"auths": {"r.example": {"auth": "dTpw"}}}))
    return source


def test_a_once_sync_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    source = _source(tmp_path)
    # Under scripts/test coverage follows every subprocess (its .pth hook imports base64, hashlib...): the agent's
    # own imports are what this counts, so its process runs without the hook.
    without_coverage = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    for sync in ("first", "steady"):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", str(AGENT), "--source", str(source), "--kubelet-root", str(root),
             "--once", "--owner-id", "pod-a", "--ready-file", ""],
            capture_output=True, text=True, check=False, env=without_coverage)
        assert result.returncode == 0, (sync, result.stderr[-2000:])
        imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "json" in imported  # the evidence is there
        assert imported.isdisjoint(LAZY), (sync, sorted(imported & set(LAZY)))


def test_sha256_is_hashlibs() -> None:
    import hashlib

    for data in (b"", b"raw\0{}", bytes(range(256)) * 9):
        assert MODULE.sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_json_copy_is_a_deep_copy() -> None:
    state = {"a": [1, {"b": [None, True, 2.5, "x"]}], "c": {}}
    copied = MODULE.json_copy(state)
    assert copied == state
    copied["a"][1]["b"].append(1)
    copied["c"]["d"] = 1
    assert state == {"a": [1, {"b": [None, True, 2.5, "x"]}], "c": {}}


def test_auth_is_base64s() -> None:
    import base64

    for text in ("dTpw", "dTpwMQ", "dTpwMQ==", "dTp=", "dTpwOnE=", "dTr/"):
        padded = text + "=" * (-len(text) % 4)
        assert MODULE.auth_credentials(text) is not None
        assert MODULE.binascii.a2b_base64(padded) == base64.b64decode(padded)
    data = "u:p\u00e9".encode()
    assert MODULE.binascii.b2a_base64(data, newline=False) == base64.b64encode(data)


def _count_writes(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    calls: List[str] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def rename(src: str, dst: str) -> None:
        calls.append(f"rename {os.path.basename(dst)}")
        real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    return calls


def test_a_first_sync_writes_the_state_then_config_once_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {"foreign.example": {"auth": "Zm9vOmJhcg=="}}}))
    source = _source(tmp_path)
    calls = _count_writes(monkeypatch)
    MODULE.sync(str(source), str(root), "pod-a", None)
    # Each write: fsync of the temp file, rename, fsync of the directory (which orders state before config).
    assert calls == ["fsync", f"rename {MODULE.STATE_NAME}", "fsync", "fsync", "rename config.json", "fsync"]
    calls.clear()
    MODULE.sync(str(source), str(root), "pod-a", None)
    assert calls == []  # a steady sync writes nothing


def test_a_take_over_still_narrows_the_state_after_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": "Zm9vOmJhcg=="}}}))
    calls = _count_writes(monkeypatch)
    MODULE.sync(str(_source(tmp_path)), str(root), "pod-a", None)
    # The intent state accepts the displaced value too; the final one, written after config.json, does not.
    assert [call for call in calls if call.startswith("rename")] == [
        f"rename {MODULE.STATE_NAME}", "rename config.json", f"rename {MODULE.STATE_NAME}"]


TEXTS = ["", "a", "robot", 'q"\\/', "\x00\x1f\x7f", "\u00e9\u20ac", "\U0001f600", "\ud800", "\u2028", "<&>"]


def test_string_object_is_json_dumps() -> None:
    rng = random.Random(5)
    for _ in range(500):
        entry = {rng.choice(TEXTS) + rng.choice(TEXTS): rng.choice(TEXTS) + rng.choice(TEXTS)
                 for _ in range(rng.randint(0, 5))}
        for separators in ((",", ":"), (", ", ": ")):
            for ascii_only in (True, False):
                for sort_keys in (False, True):
                    assert MODULE.string_object(entry, *separators, ascii_only=ascii_only, sort_keys=sort_keys) == \
                        json.dumps(entry, separators=separators, ensure_ascii=ascii_only, sort_keys=sort_keys)
        for indent in ("  ", "\t", "    ", ""):
            assert MODULE.string_object(entry, ",", ": ", indent=indent) == json.dumps(entry, indent=indent)
    for other in ({"a": None}, {"a": 1}, {"a": {"b": "c"}}, {"a": ["b"]}, {1: "a"}):
        assert MODULE.string_object(other, ",", ":") is None


def _plain_by_the_book(value: Any, depth_limit: int) -> bool:
    """_plain as first written: every item on the stack."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            if depth > depth_limit:
                return False
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, float) and not math.isfinite(item):
            return False
    return True


def test_plain_is_the_plain_check() -> None:
    rng = random.Random(11)
    scalars = [None, True, 0, 1.5, "x", float("nan"), float("inf"), -float("inf")]

    def make(depth: int) -> Any:
        roll = rng.random()
        if depth > 10 or roll < 0.4:
            return rng.choice(scalars[:5]) if rng.random() < 0.97 else rng.choice(scalars)
        children = [make(depth + 1) for _ in range(rng.randint(0, 3))]
        return children if roll < 0.7 else {str(n): child for n, child in enumerate(children)}

    for _ in range(3000):
        value = make(0)
        for limit in (1, 3, 8):
            assert MODULE._plain(value, limit) == _plain_by_the_book(value, limit)


def test_shared_digests_are_the_digests() -> None:
    raw = json.dumps({"auths": {
        "same": {"username": "u", "password": "p", "auth": "dTpw"},
        "reordered": {"auth": "dTpw", "username": "u"},
        "other": {"username": "v"},
        "with-null": {"username": "u", "email": None},
        "nested": {"username": "u", "x": {"y": 1}},
        "escaped": {"username": "\u00e9\"", "auth": "dTpw"},
    }}).encode()
    wanted = {"same": {"username": "u", "password": "p", "auth": "dTpw"},
              "reordered": {"username": "u", "auth": "dTpw"}, "other": {"username": "w"},
              "with-null": {"username": "u"}, "nested": {"username": "u"},
              "escaped": {"username": "\u00e9\"", "auth": "dTpw"},
              "absent": {"username": "u"}}
    digests = {key: MODULE.wanted_digest(entry) for key, entry in wanted.items()}
    shared = MODULE.NodeFile(MODULE.kubelet_view(raw))
    shared.share_digests(wanted, digests)
    plain = MODULE.NodeFile(MODULE.kubelet_view(raw))
    for key in wanted:
        assert shared.digest(key) == plain.digest(key)
        assert shared.original_digest(key) == plain.original_digest(key)
    assert shared.digest("same") == digests["same"] and shared.digest("reordered") == digests["reordered"]
    assert shared.digest("other") != digests["other"]
