"""Atomic writes as a property: while the agent rewrites config.json many times, a concurrent reader only ever sees
a complete, valid document (the old one or the new one), and every rewrite is a new inode (rename, never in place).

The kubelet re-reads config.json at most every 5 minutes and caches even a failed read (kubernetes/kubernetes
pkg/credentialprovider/provider.go `CachingDockerConfigProvider`), so one torn read costs a node its credentials
for 5 minutes.
"""

import json
import os
import threading
from pathlib import Path
from typing import Any, Dict, List

from support.agent import auths, entry, run_once

REG = "registry.example.com"
ONE = entry("robot", "atomic-One-pw!")
TWO = entry("robot", "atomic-Two-pw!")
FOREIGN = {"foreign.example": entry("someone", "atomic-Foreign-pw!")}
# Padding makes each write span many pages, so an in-place rewrite has a wide window a reader can fall into.
PADDING = {f"pad{n}.example": {"auth": "cGFkOnBhZA=="} for n in range(800)}
REWRITES = 30


class Reader(threading.Thread):
    """Reads config.json as fast as it can; checks each read and that a held file never changes under it."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.problems: List[str] = []
        self.reads = 0
        self.seen: set = set()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.problems) < 5:
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                self.problems.append("config.json was missing for a moment")
                continue
            try:
                first = _pread_all(fd)
                self._check(first)
                # Holding the fd keeps this inode alive (no inode-number reuse). A rename leaves its bytes alone;
                # a truncate-and-write would change them under us.
                again = _pread_all(fd)
                if again != first:
                    self.problems.append("the file a reader had open changed in place (not replaced by rename)")
            finally:
                os.close(fd)

    def _check(self, data: bytes) -> None:
        self.reads += 1
        try:
            document = json.loads(data)
        except ValueError:
            self.problems.append(f"torn read: {len(data)} bytes that are not JSON")
            return
        value = document.get("auths", {}).get(REG)
        if value not in (ONE, TWO) or document["auths"].get("foreign.example") != FOREIGN["foreign.example"]:
            self.problems.append("a read saw a document that is neither the old nor the new one")
            return
        self.seen.add(value["password"])


def _pread_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while True:
        chunk = os.pread(fd, 1 << 16, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _write_sources(tmp_path: Path) -> Dict[str, Path]:
    sources = {}
    for name, value in (("one", ONE), ("two", TWO)):
        sources[name] = tmp_path / f"{name}.json"
        sources[name].write_text(json.dumps({"auths": {REG: value}}))
    return sources


def test_concurrent_reader_never_sees_a_torn_or_foreign_document(tmp_path: Path) -> None:
    root = tmp_path / "kubelet"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {**FOREIGN, **PADDING}}))
    sources = _write_sources(tmp_path)
    assert run_once(sources["one"], root, "pod-a").returncode == 0

    reader = Reader(root / "config.json")
    reader.start()
    try:
        for number in range(REWRITES):
            result = run_once(sources["two" if number % 2 == 0 else "one"], root, "pod-a")
            assert result.returncode == 0, result.stderr
            assert "config=written" in result.stderr
    finally:
        reader.stop.set()
        reader.join(30)

    assert reader.problems == []
    assert reader.reads > REWRITES  # the reader really ran alongside the rewrites
    assert reader.seen == {ONE["password"], TWO["password"]}
    assert auths(root)[REG] == TWO if REWRITES % 2 else ONE


def test_every_rewrite_is_a_new_inode_and_the_old_one_is_left_intact(tmp_path: Path) -> None:
    root = tmp_path / "kubelet"
    root.mkdir()
    path = root / "config.json"
    path.write_text(json.dumps({"auths": FOREIGN}))
    sources = _write_sources(tmp_path)
    held: List[Any] = []
    try:
        for number in range(6):
            before = path.read_bytes()
            handle = open(path, "rb")  # held open: its inode cannot be freed and its number reused
            held.append(handle)
            inode = os.fstat(handle.fileno()).st_ino

            result = run_once(sources["one" if number % 2 == 0 else "two"], root, "pod-a")

            assert result.returncode == 0 and "config=written" in result.stderr
            assert path.stat().st_ino != inode, "config.json was rewritten in place"
            handle.seek(0)
            assert handle.read() == before, "the previous file changed: it was written in place, not replaced"
            assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    finally:
        for handle in held:
            handle.close()
