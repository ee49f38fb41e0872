"""`explain --node-file` reads a node's config.json with the node agent's kubelet reader, so it answers as the
kubelet would (repeated and case-folded `auths`, null, odd bytes); a file the kubelet skips is an error that says so.
"""

import json
from pathlib import Path
from typing import List, Tuple

import pytest

from support import kubelet_oracle
from support.cli import run_cli

IMAGE = "harbor.example.com/team/app:1"
ENTRY = json.dumps({"auth": "dTpw"})

# (id, node file bytes, file name): each holds a harbor.example.com entry that the kubelet would use.
COVERED: List[Tuple[str, bytes, str]] = [
    ("auths-twice", b'{"auths": {"harbor.example.com": %s}, "auths": {"other.example": %s}}'
     % (ENTRY.encode(), ENTRY.encode()), "config.json"),
    ("Auths", b'{"Auths": {"harbor.example.com": %s}}' % ENTRY.encode(), "config.json"),
    ("null-then-auths", b'{"auths": null, "auths": {"harbor.example.com": %s}}' % ENTRY.encode(), "config.json"),
    ("numbers-and-bytes", b'{"auths": {"harbor.example.com": %s}, "x": 1e999, "y": "caf\xe9", "z": "\\ud800"}'
     % ENTRY.encode(), "config.json"),
    ("deep", b'{"auths": {"harbor.example.com": %s}, "x": %s}' % (ENTRY.encode(), b"[" * 5000 + b"]" * 5000),
     "config.json"),
    ("dockercfg", b'{"harbor.example.com": %s}' % ENTRY.encode(), ".dockercfg"),
]


@pytest.mark.parametrize("name, data, filename", COVERED, ids=[c[0] for c in COVERED])
def test_explain_sees_the_node_credentials_the_kubelet_would_use(tmp_path: Path, name: str, data: bytes,
                                                                 filename: str) -> None:
    legacy = filename == ".dockercfg"
    assert "harbor.example.com" in (kubelet_oracle.read(data, legacy=legacy) or {}).get("auths", {})
    node_file = tmp_path / filename
    node_file.write_bytes(data)

    result = run_cli("explain", "--node-file", str(node_file), IMAGE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "  node file: harbor.example.com" in result.stdout


def test_explain_says_anonymous_when_a_later_null_empties_the_entries(tmp_path: Path) -> None:
    data = b'{"auths": {"harbor.example.com": %s}, "auths": null}' % ENTRY.encode()
    assert kubelet_oracle.read(data) == {"auths": {}, "headers": {}}
    node_file = tmp_path / "config.json"
    node_file.write_bytes(data)

    result = run_cli("explain", "--node-file", str(node_file), IMAGE)

    assert result.returncode == 1
    assert "anonymous" in result.stdout


# (id, node file bytes, words): files the kubelet skips whole (so none of their entries is used).
SKIPPED = [
    ("bad-auth", b'{"auths": {"harbor.example.com": {"auth": "not base64"}}}', "is not base64 of user:password"),
    ("nan", b'{"auths": {"harbor.example.com": %s}, "x": NaN}' % ENTRY.encode(), "is not a JSON config.json"),
    ("bom", b'\xef\xbb\xbf{"auths": {}}', "is not a JSON config.json"),
    ("headers-number", b'{"auths": {}, "HttpHeaders": {"X": 1}}', "HttpHeaders"),
]


@pytest.mark.parametrize("name, data, words", SKIPPED, ids=[s[0] for s in SKIPPED])
def test_explain_refuses_a_node_file_the_kubelet_skips_and_says_why(tmp_path: Path, name: str, data: bytes,
                                                                    words: str) -> None:
    assert kubelet_oracle.read(data) is None
    node_file = tmp_path / "config.json"
    node_file.write_bytes(data)

    result = run_cli("explain", "--node-file", str(node_file), IMAGE)

    assert result.returncode == 2
    assert words in result.stderr and "the kubelet skips such a file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
