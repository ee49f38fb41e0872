#!/usr/bin/env python3
"""Keep the kubelet's `{root-dir}/config.json` holding the registry credentials of a mounted `.dockerconfigjson`.

Runs on every node from a DaemonSet (Python >= 3.9, standard library only; never import the
`registry_credentials` package from here, this file is shipped alone in a ConfigMap)::

    python3 node_agent.py --source FILE --kubelet-root DIR [--once] [--interval SECONDS]
                          [--ready-file PATH] [--owner-id ID]

Files in DIR (mount the kubelet root *directory*, never the file: a bind-mounted file keeps the old
inode after the atomic rename):

* ``config.json``: read exactly as the kubelet reads it (see "The kubelet's reader" below) and edited in
  place: only the ``auths`` entries this agent owns are written; every other byte of the file (foreign
  entries, ``HttpHeaders``, other top-level keys, formatting, repeated keys) is kept as it was. Before a
  write, the new bytes are read back with the same reader and must hold exactly the entries intended, or
  nothing is written. Written as temp file + fsync + rename + directory fsync, mode 0600, so the kubelet
  (which caches even a failed read for 5 minutes) never sees a torn file. A symlink (or any non-regular
  file) there is refused and never written through.
* ``registry-credentials.state.json`` (0600, atomic): who owns which key. Per key: the owner ids with
  the sha256 of the entry each wants, the sha256 of the value(s) we wrote, and the bytes of the entry we
  displaced (``displaced_raw``, the only credential kept here: it is needed to restore it byte for byte,
  and this root-only 0600 file sits next to ``config.json``, which held the same value). Per agent: a
  start sequence number and a lease.
* ``.registry-credentials.lock``: ``flock`` serialising every read-modify-write by cooperating agents.
* ``config.json.corrupt-<UTC time>``: a ``config.json`` the kubelet itself cannot read (so it already
  ignores it) copied aside (0600) before we write a valid one, so nothing is lost. A file the kubelet
  reads is never set aside, however odd. Likewise ``registry-credentials.state.json.corrupt-<UTC time>``
  for a state file that is not valid JSON, has an unexpected shape, is too large or cannot be read; the
  state is then rebuilt (entries with our keys are taken over as pre-existing) and a warning is logged.

Policies:

* Ownership and hand-over: every agent registers its owner id (default ``$POD_NAME``, else
  ``$POD_UID``, else ``hostname:pid``) with a sequence number taken at its first sync. When several
  agents own a key (a rolling update with maxSurge), the newest one's value is written; older agents
  do not revert it. On SIGTERM/SIGINT an agent drops its ownership; a key is removed (or its displaced
  value restored) only when its last owner leaves. ``--once`` registrations never expire; without
  ``--owner-id`` every ``--once`` run is the owner ``once``, so a registry dropped from the source is
  removed by the next run.
* Leases: a looping agent holds a lease of max(5 x interval, 300 s), renewed by every sync (also by a
  sync that failed: the agent is alive). An agent whose lease ran out (killed with -9 and never restarted
  under the same id) is dropped by the next agent that takes the lock, so its keys do not stay forever.
  A lease is measured on the node's boot-time clock (``CLOCK_BOOTTIME``: one clock for every process on
  the node, never stepped by NTP or an admin), never on wall time, so a wall-clock step cannot expire a
  live agent. It is stored as ``{"boot": <boot id>, "until": <boot-clock seconds>, "seconds": <length>}``;
  the boot-time clock restarts at a reboot, so a lease taken in an earlier boot (another boot id, or an
  end further away than its length) is re-based: it runs one full length from the first sync that sees
  it, which gives a pod restarted after the reboot time to come back under its id. Agents of an older
  release stored a wall-clock ``expires``; theirs is still honoured as before, and ours is written as
  ``null`` (never expires) for them.
* Hand edits: if an owned entry's current value is not one we wrote, someone changed it on purpose
  (e.g. a hot fix). We never silently undo that: a warning names the key, the entry is left alone and
  is no longer managed (nor removed or restored on release). Each sync reports it as skipped. To hand
  it back, delete the entry (or set it to exactly our value); the next sync manages it again. An owned
  entry that was *deleted* is re-added with a warning, since there is no edited value to respect.
* Pre-existing entries with one of our keys: taken over with a log line; the original bytes are kept in
  the state file and put back in place when the last owner releases. The state written before
  ``config.json`` accepts the pre-existing value as ours, so a kill -9 at any point of a take-over leaves
  the key managed.
* Restore: after the last owner leaves, the state and lock files are removed; if ``config.json`` did not
  exist before us and holds nothing foreign (only an empty ``auths``), it is removed; otherwise it is
  left with the foreign content, byte for byte.
* Invalid source (missing, unreadable, not a ``.dockerconfigjson`` the kubelet can read, no non-empty
  ``auths``, an entry with neither a decodable ``auth`` nor ``username`` + ``password``): the node file is
  left untouched. An entry with only ``username``/``password`` gets ``auth`` added, since skopeo and some
  runtimes read only ``auth``. An entry holding other JSON than strings is copied byte for byte.
* Ready file: written after a successful sync, removed when a sync fails, when a looping agent starts
  (``/tmp`` is an emptyDir that outlives a container restart) and when it stops. ``--ready-file ""``
  disables it. ``--once`` writes it on success and leaves it.
* A looping agent never dies on its input: any failure, foreseen or not, is one log line (never a
  value) and the next sync tries again; nothing it owns is released until a signal asks it to.
* Roll the DaemonSet out with a ``maxSurge`` and ``maxUnavailable: 0``: the new agent then owns the keys
  before the old one releases them, so the node never goes without credentials (the kubelet caches a
  missing entry for up to 5 minutes).
* The kubelet reads ``{root-dir}/.dockercfg`` only when no valid ``config.json`` exists on its search path
  (config.go ``ReadDockerConfigFile``), so creating ``config.json`` shadows a ``.dockercfg`` there: the agent
  logs a warning when it does.

Logs: one line per action on stderr (UTC time, level, action, then ``name=value`` fields named in lowerCamelCase,
as Kubernetes' structured logs name theirs: kubernetes/community contributors/devel/sig-instrumentation/
migration-to-structured-logging.md). Never a credential. A value with whitespace, quotes, ``=``, control or non-ASCII
characters is written as a JSON string, so a key with a newline cannot forge a log line.

Limits: this file is the one home of the agent's limits (the ``MAX_*``/``MIN_*`` constants below); the
component's preview imports them so it refuses what the agent would refuse. They keep every accepted input
inside the pod's 128Mi memory limit with headroom (``bench/node_agent_bench.py --memory``): source
``MAX_SOURCE_BYTES`` (1 MiB + 64 KiB) and ``MAX_SOURCE_ENTRIES`` (2000) registries; ``config.json``
``MAX_CONFIG_BYTES`` (2 MiB); state ``MAX_STATE_BYTES`` (4 MiB), nested at most ``MAX_STATE_DEPTH`` (8)
deep; at most ``MAX_JSON_ITEMS`` (100000) JSON items (``{ [ , :`` characters) per file, ``MAX_STATE_ITEMS``
(200000) for the state; ``--interval`` from ``MIN_INTERVAL`` to ``MAX_INTERVAL`` (0.1 to 86400) seconds.
``MAX_NESTING_DEPTH`` (10000) is Go's, not ours: deeper files are rejected by the kubelet and so by this
reader. A larger source is invalid (exit 1); a larger ``config.json`` is left untouched (exit 4); a larger
state is set aside and rebuilt. A new ``config.json`` is written indented; our entries in an existing one
follow its layout, compact when indenting would pass its cap.

Exit codes: 0 success (``--once`` synced; loop stopped by a signal and released cleanly);
1 the source is unreadable or invalid (a FIFO, socket, device or directory as source included: refused
at once, never read); 2 usage error or DIR missing / not a directory;
3 an unsafe target (``config.json``, state or lock file is a symlink, FIFO, socket, device or directory)
was refused; 4 any other I/O error while reading or writing DIR, or a merge we would not write (over a cap,
or not read back as intended); 70 an unexpected internal error (a bug; logged as one line). A looping
agent logs each failure and retries; its exit code is the release's.

Test-only: ``REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME=SECONDS`` sleeps before every rename so
tests can kill the agent mid-sync.
"""

from __future__ import annotations

# A fresh process pays for every import (`python3 -X importtime node_agent.py --once ...`): only what every sync
# needs is imported here (json brings re, enum and functools with it). argparse, hashlib, signal, threading and
# traceback are imported where they are used, and typing only for type checkers (annotations are strings).
import binascii
import codecs
import contextlib
import errno
import fcntl
import json
import math
import os
import re
import stat
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

    Entry = Dict[str, str]
    Wanted = Union[Entry, bytes]  # one of our entries: its string fields, or (other JSON in it) the source's bytes
    State = Dict[str, Any]

CONFIG_NAME = "config.json"
DOCKERCFG_NAME = ".dockercfg"
STATE_NAME = "registry-credentials.state.json"
LOCK_NAME = ".registry-credentials.lock"
TMP_PREFIX = ".registry-credentials.tmp-"
STATE_VERSION = 1
DEFAULT_INTERVAL = 60.0
DEFAULT_READY_FILE = "/tmp/registry-credentials-ready"
MIN_LEASE = 300.0
LEASE_INTERVALS = 5
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"

# ---- limits: the one home of every limit the agent enforces (the component's preview refuses the same) ----
# Size caps keep every input the agent accepts inside the pod's memory limit (bench/node_agent_bench.py --memory
# measures the peak RSS at these caps). A Secret holds at most 1 MiB of data (MaxSecretSize, kubernetes/api
# core/v1 types.go), so the source cap is that plus slack; config.json must hold the source plus foreign entries.
MAX_SOURCE_BYTES = 1024 * 1024 + 64 * 1024
"""Largest source (`.dockerconfigjson`) read, in bytes; a larger one is invalid (exit 1)."""
MAX_CONFIG_BYTES = 2 * 1024 * 1024
"""Largest config.json read or written, in bytes; a larger one is left untouched (exit 4)."""
MAX_STATE_BYTES = 4 * 1024 * 1024
"""Largest state file, in bytes (per key: owners and digests, plus a displaced entry bounded by config.json)."""
MAX_SOURCE_ENTRIES = 2000
"""Most registries (distinct `auths` keys, as the kubelet counts them) in one source."""
# JSON nesting/item count drives memory far more than bytes ("[]," is 3 bytes but a 56-byte list): cap the
# number of structural characters (an upper bound on containers and items; those inside strings count too).
MAX_JSON_ITEMS = 100_000
"""Most `{ [ , :` characters in the source or config.json."""
MAX_STATE_ITEMS = 2 * MAX_JSON_ITEMS
"""Most `{ [ , :` characters in the state file."""
MAX_NESTING_DEPTH = 10_000
"""Go's encoding/json limit (scanner.go maxNestingDepth): the kubelet rejects a deeper file, so this reader does."""
MAX_STATE_DEPTH = 8
"""Nesting of the state file's JSON (ours is 4 deep); anything deeper is a hand edit and is set aside."""
MIN_INTERVAL = 0.1
"""Shortest --interval, in seconds."""
MAX_INTERVAL = 86400.0
"""Longest --interval, in seconds."""

ONCE_OWNER = "once"
MAX_LOGGED_KEYS = 20
PAUSE_ENV = "REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME"

EXIT_OK = 0
EXIT_SOURCE = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_IO = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE, as the project's CLI uses


class AgentError(Exception):
    """A sync or release that could not be done; carries the process exit code."""

    exit_code = EXIT_IO


class SourceError(AgentError):
    """The mounted source is missing, unreadable or not a usable `.dockerconfigjson`."""

    exit_code = EXIT_SOURCE


class RootDirError(AgentError):
    """The kubelet root directory is missing or not a directory."""

    exit_code = EXIT_USAGE


class UnsafeTargetError(AgentError):
    """A file we would write is a symlink or not a regular file."""

    exit_code = EXIT_REFUSED


# ---------------------------------------------------------------------------------------------- logging


def log(level: str, action: str, **fields: Any) -> None:
    """Write one log line to stderr; callers pass key names and counts only, never entry values."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now % 1 * 1000)
    parts = [stamp, level, action] + [f"{name}={_format_field(value)}" for name, value in fields.items()]
    sys.stderr.write(" ".join(parts) + "\n")
    sys.stderr.flush()


def _format_field(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        names = sorted(value) if isinstance(value, set) else list(value)
        shown = ",".join(_quoted(str(name), ",") for name in names[:MAX_LOGGED_KEYS])
        if len(names) > MAX_LOGGED_KEYS:
            shown += f",...(+{len(names) - MAX_LOGGED_KEYS})"
        return shown or "-"
    return _quoted(str(value), "")


def _quoted(text: str, separators: str) -> str:
    """text as is when it is plain, else as a JSON string: a key with a newline or ESC cannot forge a log line."""
    if text and all(c.isprintable() and not c.isspace() and c not in '"=' + separators for c in text):
        return text
    # ensure_ascii escapes every control and non-ASCII character (U+2028 included); DEL is ASCII, so by hand.
    return json.dumps(text).replace("\x7f", "\\u007f")


# ---------------------------------------------------------------------------------------------- the kubelet's reader
#
# The kubelet reads {root-dir}/config.json with encoding/json's Unmarshal into credentialprovider.DockerConfigJSON
# (kubernetes/kubernetes pkg/credentialprovider/config.go: ReadDockerConfigJSONFile -> ReadSpecificDockerConfigJSONFile
# -> readDockerConfigJSONFileFromBytes), and pull Secrets the same way (pkg/credentialprovider/secrets/secrets.go).
# Any error skips the whole file: the kubelet tries the next search path, then .dockercfg (ReadDockerConfigFile).
# What Go's encoding/json does (golang/go src/encoding/json, default build, i.e. without GOEXPERIMENT=jsonv2):
# * syntax (scanner.go, checkValid runs before any decoding): RFC 8259 only: no NaN/Infinity, no leading zeros
#   or '+', no BOM, whitespace is space/tab/CR/LF, no byte < 0x20 inside strings, nothing but whitespace after the
#   value, at most 10000 nested arrays/objects (maxNestingDepth). A number is converted only when its field needs
#   it, so `1e999` in a field the kubelet ignores is fine (and must never be rewritten as `Infinity`).
# * strings (decode.go unquote): invalid UTF-8 becomes U+FFFD, one per bad byte (utf8.DecodeRune); an escaped
#   surrogate that is not a high+low pair becomes U+FFFD.
# * keys to struct fields (decode.go object): the exact name, else a case-insensitive match (fold.go foldName,
#   simple Unicode folding: "Auths", "AUTHS" and "authſ" all fill Auths); unknown keys are skipped.
# * repeats: a struct field seen again decodes into the same value, so a repeated "auths" adds to one map
#   (golang/go#24415) and a later `"auths": null` empties it (literalStore sets a map to nil); a repeated map key
#   (one registry twice) is decoded afresh, the last one wins; a repeated string field: the last string wins and
#   null leaves the value as it was.
# * types: the top level is an object or null; `auths` an object or null; each entry an object or null
#   (DockerConfigEntry.UnmarshalJSON); its username/password/email/auth strings or null; HttpHeaders an object
#   of strings (or null values) or null. Anything else is an error and the whole file is rejected.
# * auth (config.go decodeDockerConfigFieldAuth): StdEncoding when it ends in "=" (after TrimSpace), else
#   RawStdEncoding, CR and LF skipped (encoding/base64); it must decode to text with a ':'. One entry with a bad
#   auth rejects the whole file, not only that entry.

_WS = re.compile(rb"[ \t\n\r]*")
_INDENT = re.compile(rb"[ \t]*")
_STRING = re.compile(rb'"(?:[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = (b"null", b"true", b"false")
_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b", ord("f"): "\f", ord("n"): "\n",
            ord("r"): "\r", ord("t"): "\t"}
# The only non-ASCII runes whose simple case-fold orbit (unicode.SimpleFold) holds an ASCII letter: ſ and the
# Kelvin sign. Every field name matched here is ASCII letters, so these two are all foldName can add.
_FOLDS_TO_ASCII = {"\u017f": "S", "\u212a": "K"}
_AUTH_PADDED = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)")
_AUTH_UNPADDED = re.compile(r"[A-Za-z0-9+/]*")
_TOP_FIELDS = ("auths", "HttpHeaders")
_ENTRY_FIELDS = ("username", "password", "email", "auth")
_GO_REPLACE = "registry-credentials-go-replace"


def _replace_per_byte(error: UnicodeError) -> Tuple[str, int]:
    # Python reports a maximal invalid subpart; Go's DecodeRune takes one byte per error, and no byte inside
    # that subpart can start a valid rune, so one U+FFFD per byte is what Go produces.
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd" * (error.end - error.start), error.end


codecs.register_error(_GO_REPLACE, _replace_per_byte)


class KubeletRejects(ValueError):
    """Bytes the kubelet's json.Unmarshal fails on, so it skips the whole file; the message never holds a value."""

    def __init__(self, reason: str, syntax: bool = True) -> None:
        super().__init__(reason)
        self.syntax = syntax  # False: valid JSON of a shape the kubelet's types refuse


class Node:
    """One JSON value of a file: its byte span, its kind, and (for objects we look into) its members."""

    __slots__ = ("start", "end", "kind", "members")

    def __init__(self, start: int, end: int, kind: str, members: Optional[List["Member"]] = None) -> None:
        self.start = start
        self.end = end
        self.kind = kind  # "{" object, "[" array, '"' string, "n" null, "t"/"f" boolean, "0" number
        self.members = members

    def strings(self, raw: bytes) -> Optional[List[Tuple[str, str, Optional[str]]]]:
        """Per member of an object looked into, in file order: (key, value kind, the string as Go decodes it or
        None); None when the value is not an object looked into."""
        if self.members is None:
            return None
        return [(m.key, m.value.kind, go_string(raw[m.value.start + 1:m.value.end - 1]) if m.value.kind == '"'
                 else None) for m in self.members]


class Member:
    """One `"key": value` of an object: the quoted key's span, the key as Go decodes it, and the value."""

    __slots__ = ("key_start", "key_end", "key", "value")

    def __init__(self, key_start: int, key_end: int, key: str, value: Node) -> None:
        self.key_start = key_start
        self.key_end = key_end
        self.key = key
        self.value = value


def _ws(raw: bytes, pos: int) -> int:
    return _WS.match(raw, pos).end()  # type: ignore[union-attr]  # `*` always matches


def _reject_at(raw: bytes, pos: int, expected: str) -> KubeletRejects:
    if pos >= len(raw):
        return KubeletRejects("unexpected end of JSON input")
    return KubeletRejects(f"invalid character at byte {pos}, expected {expected}")


def _scalar(raw: bytes, pos: int) -> Tuple[int, str]:
    """End and kind of the string, number or literal at pos."""
    head = raw[pos:pos + 1]
    if head == b'"':
        match = _STRING.match(raw, pos)
        if match is None:
            raise KubeletRejects(f"invalid string at byte {pos} (a control byte, a bad escape or no closing quote)")
        return match.end(), '"'
    for literal in _LITERALS:
        if raw.startswith(literal, pos):
            return pos + len(literal), chr(literal[0])
    match = _NUMBER.match(raw, pos)
    if match is not None and match.end() > pos:
        return match.end(), "0"
    raise _reject_at(raw, pos, "a value")


def _key(raw: bytes, pos: int) -> Tuple[int, int]:
    """(end of the quoted key at pos, start of its value)."""
    if raw[pos:pos + 1] != b'"':
        raise _reject_at(raw, pos, "a string key")
    end = _scalar(raw, pos)[0]
    colon = _ws(raw, end)
    if raw[colon:colon + 1] != b":":
        raise _reject_at(raw, colon, "':'")
    return end, _ws(raw, colon + 1)


def _skip(raw: bytes, pos: int, depth: int) -> int:
    """End of the valid JSON value at pos, keeping nothing (iterative: any depth Go allows); depth: containers around it."""
    closers: List[int] = []
    while True:
        head = raw[pos:pos + 1]
        if head in (b"{", b"["):
            if depth + len(closers) >= MAX_NESTING_DEPTH:
                raise KubeletRejects(f"nested deeper than {MAX_NESTING_DEPTH} levels")
            closers.append(ord("}") if head == b"{" else ord("]"))
            pos = _ws(raw, pos + 1)
            if pos < len(raw) and raw[pos] == closers[-1]:
                closers.pop()
                pos += 1
            else:
                if head == b"{":
                    pos = _key(raw, pos)[1]
                continue
        else:
            pos = _scalar(raw, pos)[0]
        while closers:  # after a value: close containers, or go on to the next item
            pos = _ws(raw, pos)
            byte = raw[pos] if pos < len(raw) else -1
            if byte == ord(","):
                pos = _ws(raw, pos + 1)
                if closers[-1] == ord("}"):
                    pos = _key(raw, pos)[1]
                break
            if byte != closers[-1]:
                raise _reject_at(raw, pos, f"',' or '{chr(closers[-1])}'")
            closers.pop()
            pos += 1
        else:
            return pos


def _value(raw: bytes, pos: int, depth: int, levels: int, select: Optional[Callable[[str], int]] = None) -> Node:
    """The value at pos; objects are looked into `levels` deep (select(key) picks a member's own depth)."""
    head = raw[pos:pos + 1]
    if head == b"{" and levels > 0:
        return _object(raw, pos, depth, select or (lambda _key: levels - 1))
    if head in (b"{", b"["):
        return Node(pos, _skip(raw, pos, depth), head.decode())
    end, kind = _scalar(raw, pos)
    return Node(pos, end, kind)


def _open_object(raw: bytes, pos: int, depth: int) -> int:
    """Where an object's first key (or its `}`) starts, once its depth is one the kubelet reads."""
    if depth >= MAX_NESTING_DEPTH:
        raise KubeletRejects(f"nested deeper than {MAX_NESTING_DEPTH} levels")
    return _ws(raw, pos + 1)


def _object(raw: bytes, pos: int, depth: int, levels_of: Callable[[str], int]) -> Node:
    members: List[Member] = []
    cursor = _open_object(raw, pos, depth)
    if raw[cursor:cursor + 1] == b"}":
        return Node(pos, cursor + 1, "{", members)
    while True:
        key_end, value_start = _key(raw, cursor)
        key = go_string(raw[cursor + 1:key_end - 1])
        value = _value(raw, value_start, depth + 1, levels_of(key))
        members.append(Member(cursor, key_end, key, value))
        cursor = _ws(raw, value.end)
        byte = raw[cursor:cursor + 1]
        if byte == b",":
            cursor = _ws(raw, cursor + 1)
        elif byte == b"}":
            return Node(pos, cursor + 1, "{", members)
        else:
            raise _reject_at(raw, cursor, "',' or '}'")


def parse_value(raw: bytes, levels: int, select: Optional[Callable[[str], int]] = None, depth: int = 0) -> Node:
    """Parse raw as one JSON value with Go's syntax rules; KubeletRejects when Go would not accept it."""
    pos = _ws(raw, 0)
    node = _value(raw, pos, depth, levels, select)
    end = _ws(raw, node.end)
    if end != len(raw):
        raise KubeletRejects(f"invalid character at byte {end} after the top-level value")
    return node


# ---- the fast path: the same tree from the C parser, for documents where it and Go cannot disagree
#
# Python's json scanner (json/scanner.c, strict) accepts exactly RFC 8259's grammar with the same whitespace, escapes
# and number syntax as Go's scanner, plus NaN/Infinity/-Infinity, which parse_constant refuses here. It differs
# from Go only in what it decodes: invalid UTF-8 (not in an ASCII file), lone surrogate escapes (a file with any
# `\uD8..`-`\uDF..` escape is left to the exact reader), numbers (converted here with float, which never fails) and
# depth (its recursion guard, or none; a file with at most MAX_NESTING_DEPTH `{`/`[` cannot nest deeper than Go
# allows). So for an ASCII file with neither, a value the C scanner reads from a position is one the exact reader
# reads from there too, with the same end and kind, and strings decode alike (object_pairs_hook keeps repeated
# keys, in order). fast_top walks the top-level and auths objects with the exact reader's own steps and hands every
# other value to the C scanner; an entry keeps the scanner's (key, value) pairs for Node.strings() and gets its
# member nodes from the exact reader only if something asks for them. Any failure or doubt returns None, and the
# exact reader decides (and says why it rejects). tests/node/test_node_agent_fast_json.py runs both on every
# hostile case of the tests and on random documents.

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_KEY_COLON = re.compile(rb"(" + _STRING.pattern + rb")[ \t\n\r]*:[ \t\n\r]*")  # _key's steps in one match
_NEXT = re.compile(rb"[ \t\n\r]*(?:(,)[ \t\n\r]*|\})")  # after a member: ',' and the next key, or '}'


class _Pairs(list):  # type: ignore[type-arg]
    """An object as the C scanner read it: its (key, value) pairs in file order, repeats included."""

    __slots__ = ()


_KINDS = {str: '"', type(None): "n", True: "t", False: "f", float: "0", _Pairs: "{", list: "["}


def _kind_of(value: Any) -> str:
    return _KINDS[value] if value is True or value is False else _KINDS[type(value)]


def _refuse_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


_SCAN: List[Any] = []  # [the C scanner, or None when this Python has none]


def _c_scanner() -> Optional[Callable[[str, int], Tuple[Any, int]]]:
    if not _SCAN:
        from json import scanner

        make = scanner.c_make_scanner
        _SCAN.append(None if make is None else make(json.JSONDecoder(
            object_pairs_hook=_Pairs, parse_int=float, parse_float=float, parse_constant=_refuse_constant,
            strict=True)))
    return _SCAN[0]


class _ScannedEntry(Node):
    """An object looked into one level (an auths entry) as the C scanner read it: strings() from its pairs,
    members (exactly as the exact reader makes them) only when asked for."""

    __slots__ = ("pairs", "_raw", "_depth", "_members", "_strings")

    def __init__(self, start: int, end: int, pairs: List[Tuple[str, Any]], raw: bytes, depth: int) -> None:
        self.start, self.end, self.kind = start, end, "{"
        self.pairs, self._raw, self._depth, self._members = pairs, raw, depth, None
        self._strings: Optional[List[Tuple[str, str, Optional[str]]]] = None

    @property  # type: ignore[override]
    def members(self) -> List[Member]:
        if self._members is None:
            self._members = _object(self._raw, self.start, self._depth, lambda _key: 0).members
        return self._members  # type: ignore[return-value]

    @members.setter
    def members(self, value: Optional[List[Member]]) -> None:
        self._members = value

    def strings(self, raw: bytes) -> Optional[List[Tuple[str, str, Optional[str]]]]:
        if self._strings is None:
            self._strings = [(key, '"', value) if type(value) is str else (key, _kind_of(value), None)
                             for key, value in self.pairs]
        return self._strings


def fast_top(raw: bytes, select: Callable[[str], int]) -> Optional[Node]:
    """parse_value(raw, 1, select) for a top-level object, by the C scanner where it provably agrees; else None."""
    scan = _c_scanner()
    if (scan is None or not raw.isascii() or raw.count(b"{") + raw.count(b"[") > MAX_NESTING_DEPTH
            or _SURROGATE_ESCAPE.search(raw)):
        return None
    try:
        pos = _ws(raw, 0)
        if raw[pos:pos + 1] != b"{":
            return None
        top = _fast_object(raw, raw.decode("ascii"), pos, 0, select, 0, scan)
        if _ws(raw, top.end) != len(raw):
            return None
    except Exception:  # noqa: BLE001 - any doubt: the exact reader decides
        return None
    return top


def _fast_object(raw: bytes, text: str, pos: int, depth: int, levels_of: Optional[Callable[[str], int]],
                 levels: int, scan: Callable[[str, int], Tuple[Any, int]]) -> Node:
    """_object's steps (members looked into levels_of(key), or `levels`, deep), other values by the C scanner."""
    members: List[Member] = []
    cursor = _open_object(raw, pos, depth)
    if raw[cursor:cursor + 1] == b"}":
        return Node(pos, cursor + 1, "{", members)
    while True:
        match = _KEY_COLON.match(raw, cursor)
        if match is None:
            raise _reject_at(raw, cursor, "a string key")
        value_start = match.end()
        key_end = match.end(1)
        key = text[cursor + 1:key_end - 1]  # an ASCII file: the bytes as they are, unless escaped
        if "\\" in key:
            key = go_string(raw[cursor + 1:key_end - 1])
        if levels_of is not None:
            levels = levels_of(key)
        if levels > 1 and raw[value_start:value_start + 1] == b"{":
            value = _fast_object(raw, text, value_start, depth + 1, None, levels - 1, scan)
        else:
            parsed, end = scan(text, value_start)
            if levels == 1 and type(parsed) is _Pairs:
                value = _ScannedEntry(value_start, end, parsed, raw, depth + 1)
            else:
                value = Node(value_start, end, _kind_of(parsed))
        members.append(Member(cursor, key_end, key, value))
        match = _NEXT.match(raw, value.end)
        if match is None:
            raise _reject_at(raw, value.end, "',' or '}'")
        if match.group(1) is None:
            return Node(pos, match.end(), "{", members)
        cursor = match.end()


def go_string(inner: bytes) -> str:
    """The text of a JSON string's content (quotes stripped) as Go decodes it (encoding/json decode.go unquote)."""
    if b"\\" not in inner:
        return inner.decode("utf-8", _GO_REPLACE)
    parts: List[str] = []
    pos, size = 0, len(inner)
    while pos < size:
        slash = inner.find(b"\\", pos)
        if slash < 0:
            parts.append(inner[pos:].decode("utf-8", _GO_REPLACE))
            break
        if slash > pos:
            parts.append(inner[pos:slash].decode("utf-8", _GO_REPLACE))
        escape = inner[slash + 1]
        if escape != ord("u"):
            parts.append(_ESCAPES[escape])
            pos = slash + 2
            continue
        code, pos = int(inner[slash + 2:slash + 6], 16), slash + 6
        if 0xD800 <= code < 0xE000:  # a surrogate: only a high one followed by an escaped low one makes a rune
            low = int(inner[pos + 2:pos + 6], 16) if inner[pos:pos + 2] == b"\\u" else -1
            if code < 0xDC00 and 0xDC00 <= low < 0xE000:
                code, pos = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), pos + 6
            else:
                code = 0xFFFD
        parts.append(chr(code))
    return "".join(parts)


def fills(key: str, names: Tuple[str, ...]) -> Optional[str]:
    """The struct field (of ASCII names) a JSON key fills in Go: the exact name, else a case-insensitive match."""
    if key in names:
        return key
    for name in names:
        if len(key) == len(name) and all(
                (c.upper() if c.isascii() else _FOLDS_TO_ASCII.get(c, c)) == n.upper() for c, n in zip(key, name)):
            return name
    return None


_AUTHS_SEEN: Dict[str, Optional[Tuple[str, str]]] = {}  # a sync reads each auth twice (source, config.json)


def auth_credentials(field: str) -> Optional[Tuple[str, str]]:
    """(user, password) as the kubelet splits an `auth` value (config.go decodeDockerConfigFieldAuth), None if it fails."""
    if field in _AUTHS_SEEN:
        return _AUTHS_SEEN[field]
    if len(_AUTHS_SEEN) >= 2 * MAX_SOURCE_ENTRIES:
        _AUTHS_SEEN.clear()  # a looping agent sees credentials rotate: keep only a sync's worth
    found = _AUTHS_SEEN[field] = _auth_credentials(field)
    return found


def _auth_credentials(field: str) -> Optional[Tuple[str, str]]:
    text = field.replace("\r", "").replace("\n", "")  # encoding/base64 skips CR and LF anywhere
    # Python's and Go's TrimSpace differ only on characters that neither decoder accepts, so the choice agrees.
    if field.strip().endswith("="):
        if not _AUTH_PADDED.fullmatch(text):  # StdEncoding: groups of 4, padded
            return None
        decoded = binascii.a2b_base64(text)  # = base64.b64decode: what it calls, without importing base64
    else:
        if not _AUTH_UNPADDED.fullmatch(text) or len(text) % 4 == 1:  # RawStdEncoding: no '='
            return None
        decoded = binascii.a2b_base64(text + "=" * (-len(text) % 4))
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return user.decode("utf-8", _GO_REPLACE), password.decode("utf-8", _GO_REPLACE)


def _shown_key(key: str) -> str:
    shown = json.dumps(key)
    return shown if len(shown) <= 80 else shown[:76] + '..."'


def entry_fields(raw: bytes, node: Node, key: str) -> Dict[str, str]:
    """The kubelet's view of one auths entry (DockerConfigEntry.UnmarshalJSON); KubeletRejects where it fails."""
    if node.kind == "n":
        return {}
    items = node.strings(raw) if node.kind == "{" else None
    if items is None:
        raise KubeletRejects(f"the auths entry {_shown_key(key)} is not an object", syntax=False)
    fields: Dict[str, str] = {}
    for member_key, kind, text in items:
        name = member_key if member_key in _ENTRY_FIELDS else fills(member_key, _ENTRY_FIELDS)
        if name is None or kind == "n":
            continue
        if text is None:
            raise KubeletRejects(f"the auths entry {_shown_key(key)} has a {name} that is not a string", syntax=False)
        fields[name] = text
    if fields.get("auth") and auth_credentials(fields["auth"]) is None:
        raise KubeletRejects(f"the auths entry {_shown_key(key)} has an auth that is not base64 of user:password",
                             syntax=False)
    return fields


class KubeletView:
    """What the kubelet makes of a config.json (or a legacy .dockercfg): its auths map, and where each entry is."""

    def __init__(self, raw: bytes, top: Node) -> None:
        self.raw = raw
        self.top = top  # an object, or null
        self.auths_members: List[Member] = []  # top-level members that fill Auths, in file order
        self.entries: Dict[str, Tuple[Node, int]] = {}  # key -> (auths object, member index) of the one that counts
        self.fields: Dict[str, Dict[str, str]] = {}  # key -> the kubelet's username/password/email/auth

    def value(self, key: str) -> Node:
        """The value node of key's entry that counts."""
        obj, index = self.entries[key]
        return obj.members[index].value  # type: ignore[index]

    def _add(self, obj: Node) -> None:
        for index, member in enumerate(obj.members or ()):
            self.fields[member.key] = entry_fields(self.raw, member.value, member.key)
            self.entries.pop(member.key, None)  # keep file order of the entries that count
            self.entries[member.key] = (obj, index)


def _top_levels(key: str) -> int:
    return 2 if fills(key, _TOP_FIELDS) else 0


def kubelet_view(raw: bytes, legacy: bool = False) -> KubeletView:
    """Read config.json bytes (legacy: a .dockercfg, the auths map alone) exactly as the kubelet does."""
    if legacy:
        top = parse_value(raw, 2)
    else:
        top = fast_top(raw, _top_levels) or parse_value(raw, 1, _top_levels)
    view = KubeletView(raw, top)
    if top.kind == "n":
        return view
    if top.kind != "{":
        raise KubeletRejects("the top level is not an object", syntax=False)
    if legacy:
        view._add(top)
        return view
    for member in top.members or ():
        name, value = fills(member.key, _TOP_FIELDS), member.value
        if name == "auths":
            view.auths_members.append(member)
            if value.kind == "n":
                view.entries.clear()
                view.fields.clear()
            elif value.kind == "{":
                view._add(value)
            else:
                raise KubeletRejects('"auths" is not an object', syntax=False)
        elif name == "HttpHeaders" and value.kind != "n":
            if value.kind != "{" or any(m.value.kind not in ('"', "n") for m in value.members or ()):
                raise KubeletRejects('"HttpHeaders" is not an object of strings', syntax=False)
    return view


def value_digest(data: bytes) -> str:
    """sha256 that recognises an entry's value: ours by its decoded fields, anything else by its bytes."""
    try:
        return node_digest(data, parse_value(data, 1, depth=2))
    except KubeletRejects:
        return sha256_hex(b"raw\0" + data)


def node_digest(raw: bytes, node: Node) -> str:
    """value_digest() of an entry already parsed (one level deep) from raw."""
    items = node.strings(raw) if node.kind == "{" else None
    if items is not None and all(kind == '"' for _, kind, _ in items):
        return digest({key: text for key, _, text in items})
    return sha256_hex(b"raw\0" + raw[node.start:node.end])


def wanted_digest(value: Wanted) -> str:
    """How an entry we want is recognised in config.json (the same as value_digest of its bytes there)."""
    return value_digest(value) if isinstance(value, bytes) else digest(value)


def digest(entry: Entry) -> str:
    """Return the sha256 of an entry's canonical JSON (how we recognise a value we wrote)."""
    canonical = string_object(entry, ",", ":", ascii_only=False, sort_keys=True)
    if canonical is None:
        canonical = _canonical_encoder().encode(entry)
    return sha256_hex(canonical.encode("utf-8", "surrogatepass"))


def string_object(entry: Dict[str, Any], item_separator: str, key_separator: str, ascii_only: bool = True,
                  sort_keys: bool = False, indent: Optional[str] = None) -> Optional[str]:
    """json.dumps(entry, separators=(item_separator, key_separator), ensure_ascii=ascii_only, sort_keys=sort_keys,
    indent=indent) of an object of strings, without the encoder json.dumps builds per call (a dozen µs each, for
    every entry); None when a key or value is not a str (then call json.dumps). With indent the separators are
    json.dumps's own for it (',' and ': ')."""
    quote = json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
    parts = []
    for key, value in sorted(entry.items()) if sort_keys else entry.items():
        if type(key) is not str or type(value) is not str:
            return None
        parts.append(quote(key) + key_separator + quote(value))
    if not parts:
        return "{}"
    if indent is None:
        return "{" + item_separator.join(parts) + "}"
    return "{\n" + indent + (",\n" + indent).join(parts) + "\n}"


_CANONICAL: List[json.JSONEncoder] = []


def _canonical_encoder() -> json.JSONEncoder:
    """The encoder json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds on every call."""
    if not _CANONICAL:
        _CANONICAL.append(json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return _CANONICAL[0]


_SHA256: Optional[Callable[[bytes], Any]] = None


def sha256_hex(data: bytes) -> str:
    """hashlib.sha256(data).hexdigest(), from CPython's built-in sha256 when it has one: importing hashlib loads
    OpenSSL (several ms in a fresh process) and the digests are the same."""
    global _SHA256
    if _SHA256 is None:
        try:
            from _sha2 import sha256 as found  # CPython >= 3.12
        except ImportError:
            try:
                from _sha256 import sha256 as found  # CPython <= 3.11
            except ImportError:
                from hashlib import sha256 as found
        _SHA256 = found
    return _SHA256(data).hexdigest()


def raw_text(data: bytes) -> str:
    """Bytes as a str a JSON file can hold and give back exactly (undecodable bytes as surrogate escapes)."""
    return data.decode("utf-8", "surrogateescape")


def text_bytes(text: str) -> bytes:
    """The bytes raw_text() was given."""
    return text.encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------------------------- editing config.json


class _Layout:
    """How the members of one object are laid out, copied from the file so that our lines look like theirs."""

    def __init__(self, lead: bytes, sep: bytes, trail: bytes, colon: bytes, indent: Optional[bytes],
                 unit: bytes) -> None:
        self.lead, self.sep, self.trail, self.colon = lead, sep, trail, colon
        self.indent = indent  # the members' indentation; None when they sit on one line
        self.unit = unit  # one level of indentation

    @classmethod
    def pretty(cls, base: bytes, unit: bytes, colon: bytes = b": ") -> "_Layout":
        """One member per line, indented one unit deeper than base."""
        lead = b"\n" + base + unit
        return cls(lead, b"," + lead, b"\n" + base, colon, base + unit, unit)

    @classmethod
    def compact(cls, colon: bytes = b":") -> "_Layout":
        """Every member on one line."""
        return cls(b"", b"," + (b" " if colon.endswith(b" ") else b""), b"", colon, None, b"  ")

    @classmethod
    def of(cls, raw: bytes, obj: Node, file_layout: Optional["_Layout"]) -> "_Layout":
        """The layout of an object of raw (an empty one takes the file's: file_layout, else compact)."""
        members = obj.members or []
        line = raw.rfind(b"\n", 0, obj.start) + 1
        base = _INDENT.match(raw, line).group()  # type: ignore[union-attr]
        if not members:
            if file_layout is None or file_layout.indent is None:
                return cls.compact(file_layout.colon if file_layout else b":")
            return cls.pretty(base, file_layout.unit, file_layout.colon)
        first, last = members[0], members[-1]
        lead = raw[obj.start + 1:first.key_start]
        colon = raw[first.key_end:first.value.start]
        sep = raw[first.value.end:members[1].key_start] if len(members) > 1 else b"," + lead
        indent = lead[lead.rfind(b"\n") + 1:] if b"\n" in lead else None
        unit = indent[len(base):] if indent and indent.startswith(base) and len(indent) > len(base) else b"  "
        return cls(lead, sep, raw[last.value.end:obj.end - 1], colon, indent, unit)

    def join(self, parts: List[bytes]) -> bytes:
        """A new object's inside holding parts, one member each."""
        return self.lead + self.sep.join(parts) + self.trail if parts else b""

    def rejoin(self, raw: bytes, obj: Node, parts: List[Tuple[Optional[int], bytes]]) -> bytes:
        """obj's new inside: parts are (index of the member it was, or None for a new one, bytes); the bytes
        between two members that were neighbours stay as they were, so undoing an edit gives the file back."""
        members = obj.members or []
        if not parts:
            return b"" if members else raw[obj.start + 1:obj.end - 1]
        out = [self.lead]
        for position, (origin, text) in enumerate(parts):
            if position:
                before = parts[position - 1][0]
                neighbours = before is not None and origin == before + 1
                out.append(raw[members[before].value.end:members[origin].key_start] if neighbours  # type: ignore
                           else self.sep)
            out.append(text)
        out.append(self.trail)
        return b"".join(out)

    def entry(self, entry: Entry, compact: bool) -> bytes:
        """Our entry as a value in this object."""
        if compact or self.indent is None:
            separators = (", ", ": ") if self.colon.endswith(b" ") and not compact else (",", ":")
            text = string_object(entry, *separators)
            return (json.dumps(entry, separators=separators) if text is None else text).encode("ascii")
        unit = self.unit.decode("ascii")
        text = string_object(entry, ",", ": ", indent=unit)
        if text is None:
            text = json.dumps(entry, indent=unit)
        return text.replace("\n", "\n" + self.indent.decode("ascii")).encode("ascii")


_FRESH_TOP = _Layout.pretty(b"", b"  ")
_FRESH_AUTHS = _Layout.pretty(b"  ", b"  ")


class NodeFile:
    """config.json as the kubelet reads it, plus this sync's edits: only objects that change are rewritten."""

    def __init__(self, view: Optional[KubeletView]) -> None:
        self.view = view if view is not None and view.top.kind == "{" else None  # None: write a new document
        self.raw = view.raw if view is not None else None
        self.original: Dict[str, bytes] = {}
        self._nodes: Dict[str, Node] = {}  # the parsed entries, so their digests need no second parse
        if view is not None:
            for key in view.entries:
                node = self._nodes[key] = view.value(key)
                self.original[key] = view.raw[node.start:node.end]
        self.values: Dict[str, Wanted] = dict(self.original)  # raw bytes, or one of our entries
        self._digests: Dict[str, str] = {}
        self._known: Dict[str, Tuple[Wanted, str]] = {}  # key -> (the value set_entry was given, its digest)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def digest(self, key: str) -> Optional[str]:
        """How the current value of key is recognised; None when there is none."""
        value = self.values.get(key)
        if value is None:
            return None
        known = self._known.get(key)
        if known is not None and known[0] is value:
            return known[1]
        if isinstance(value, dict):
            return digest(value)
        return self._raw_digest(key, value)

    def original_digest(self, key: str) -> Optional[str]:
        """digest() of key's value as the file had it."""
        value = self.original.get(key)
        return None if value is None else self._raw_digest(key, value)

    def _raw_digest(self, key: str, value: bytes) -> str:
        if self.original.get(key) is value and self.view is not None:
            if key not in self._digests:
                self._digests[key] = node_digest(self.view.raw, self._nodes[key])
            return self._digests[key]
        return value_digest(value)

    def share_digests(self, entries: Dict[str, Wanted], digests: Dict[str, str]) -> None:
        """Take digests[key] as the digest of key's value in the file where that value reads as entries[key]:
        node_digest() of an object of strings is digest() of its decoded fields, so equal fields need no second
        hash (a steady sync finds every entry as it wants it)."""
        if self.view is None:
            return
        for key, entry in entries.items():
            node = self._nodes.get(key)
            if node is None or key in self._digests or not isinstance(entry, dict) or node.kind != "{":
                continue
            items = node.strings(self.view.raw)
            if items is not None and all(kind == '"' for _, kind, _ in items) and \
                    {name: text for name, _, text in items} == entry:
                self._digests[key] = digests[key]

    def raw_value(self, key: str) -> bytes:
        """The bytes of key's current value."""
        value = self.values[key]
        if isinstance(value, bytes):
            return value
        text = string_object(value, ",", ":")
        return (json.dumps(value, separators=(",", ":")) if text is None else text).encode("ascii")

    def set_entry(self, key: str, entry: Wanted, known_digest: Optional[str] = None) -> None:
        """Make key hold our entry (string fields are laid out like the neighbours; bytes are written as they are);
        known_digest: wanted_digest(entry), when the caller has it."""
        self.values[key] = entry
        if known_digest is not None:
            self._known[key] = (entry, known_digest)

    def set_raw(self, key: str, data: bytes) -> None:
        """Make key hold exactly these bytes (a displaced entry put back)."""
        self.values[key] = data

    def remove(self, key: str) -> bool:
        """Drop key's entry; False when there was none."""
        return self.values.pop(key, None) is not None

    def changed(self) -> List[str]:
        """The keys whose value differs from the file's (added and removed ones included)."""
        return [key for key in {**self.original, **self.values} if self.values.get(key) != self.original.get(key)]

    def render(self, compact: bool = False) -> Tuple[bytes, Dict[str, bytes]]:
        """The bytes to write, and per key the value bytes the kubelet will find there."""
        changed = set(self.changed())
        if self.raw is not None and not changed:
            return self.raw, dict(self.original)
        if self.view is None:
            return self._render_new(compact)
        view, raw = self.view, self.view.raw
        top = view.top
        file_layout = _Layout.of(raw, top, None) if top.members else None
        texts = dict(self.original)
        added = [key for key in self.values if key not in self.original]
        last = view.auths_members[-1].value if view.auths_members else None
        target = last if last is not None and last.kind == "{" else None  # where new keys go, after every reset
        touched = {id(view.entries[key][0]): view.entries[key][0] for key in changed if key in view.entries}
        if added and target is not None:
            touched[id(target)] = target
        edits: List[Tuple[int, int, bytes]] = []
        for obj in touched.values():
            layout = _Layout.of(raw, obj, file_layout)
            parts: List[Tuple[Optional[int], bytes]] = []
            for index, member in enumerate(obj.members or ()):
                key = member.key
                counts = view.entries.get(key) == (obj, index)
                if not counts or key not in changed:
                    parts.append((index, raw[member.key_start:member.value.end]))
                    continue
                texts.pop(key, None)
                if key in self.values:
                    texts[key] = self._text(key, layout, compact)
                    parts.append((index, raw[member.key_start:member.value.start] + texts[key]))
            if obj is target:
                parts += [(None, self._member(key, layout, compact, texts)) for key in added]
            edits.append((obj.start + 1, obj.end - 1, layout.rejoin(raw, obj, parts)))
        if added and target is None:  # no auths object counts yet (none, or the last is null)
            layout = file_layout or _Layout.compact()
            inner = (_Layout.pretty(layout.indent, layout.unit, layout.colon) if layout.indent is not None
                     else _Layout.compact(layout.colon))
            entries = b"{" + inner.join([self._member(key, inner, compact, texts) for key in added]) + b"}"
            if last is not None and all(m.value.kind == "n" or not m.value.members for m in view.auths_members):
                # `"auths": null` (after nothing that it empties): the object takes its place, no key is repeated.
                edits.append((last.start, last.end, entries))
            else:
                parts = [(index, raw[m.key_start:m.value.end]) for index, m in enumerate(top.members or ())]
                parts.append((None, b'"auths"' + layout.colon + entries))
                edits.append((top.start + 1, top.end - 1, layout.rejoin(raw, top, parts)))
        return _apply(raw, edits), texts

    def _render_new(self, compact: bool) -> Tuple[bytes, Dict[str, bytes]]:
        # Laid out as json.dumps(document, indent=2) would (or compact, when that would pass the cap).
        top, auths = (_Layout.compact(), _Layout.compact()) if compact else (_FRESH_TOP, _FRESH_AUTHS)
        texts: Dict[str, bytes] = {}
        entries = auths.join([self._member(key, auths, compact, texts) for key in self.values])
        return b"{" + top.join([b'"auths"' + top.colon + b"{" + entries + b"}"]) + b"}\n", texts

    def _text(self, key: str, layout: _Layout, compact: bool) -> bytes:
        value = self.values[key]
        return value if isinstance(value, bytes) else layout.entry(value, compact)

    def _member(self, key: str, layout: _Layout, compact: bool, texts: Dict[str, bytes]) -> bytes:
        texts[key] = self._text(key, layout, compact)
        return json.dumps(key).encode("ascii") + layout.colon + texts[key]


def _apply(raw: bytes, edits: List[Tuple[int, int, bytes]]) -> bytes:
    out, pos = [], 0
    for start, end, text in sorted(edits):
        if start < pos:
            raise AgentError(f"internal error: overlapping edits of {CONFIG_NAME}; left untouched")
        out += [raw[pos:start], text]
        pos = end
    out.append(raw[pos:])
    return b"".join(out)


def _others(view: Optional[KubeletView]) -> List[bytes]:
    """The bytes of every top-level member that is not `auths` (they must survive a rewrite as they are)."""
    if view is None or view.top.kind != "{":
        return []
    return [view.raw[m.key_start:m.value.end] for m in view.top.members or () if fills(m.key, _TOP_FIELDS) != "auths"]


def holds_nothing(view: KubeletView) -> bool:
    """True when the document is null or only empty (or null) auths objects."""
    if view.top.kind == "n":
        return True
    return all(fills(m.key, _TOP_FIELDS) == "auths" and (m.value.kind == "n" or (m.value.kind == "{" and
                                                                                 not m.value.members))
               for m in view.top.members or ())


# ---------------------------------------------------------------------------------------------- source


def load_source(path: str) -> Dict[str, Wanted]:
    """Read the mounted `.dockerconfigjson` afresh and return its usable `auths` entries, as the kubelet reads them."""
    # Re-opened every time: a Secret volume updates by swapping the `..data` symlink (so symlinks are followed).
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever and deaf to SIGTERM.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        with contextlib.suppress(OSError):
            kind = _special_kind(os.stat(path).st_mode)  # a socket cannot be opened at all (ENXIO)
            if kind:
                raise SourceError(f"source {path} is {kind}, not a regular file; refusing to read it") from None
        raise SourceError(f"cannot read source {path}: {err.strerror or err}") from None
    try:
        kind = _special_kind(os.fstat(fd).st_mode)
        if kind:
            raise SourceError(f"source {path} is {kind}, not a regular file; refusing to read it")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as err:
        raise SourceError(f"cannot read source {path}: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_SOURCE_BYTES:
        raise SourceError(f"source {path} is larger than {MAX_SOURCE_BYTES} bytes (a Secret holds at most 1 MiB)")
    if too_many_items(raw):
        raise SourceError(f"source {path} has more than {MAX_JSON_ITEMS} JSON items")
    try:
        view = kubelet_view(raw)
    except KubeletRejects as err:
        what = "not valid JSON" if err.syntax else "not a .dockerconfigjson the kubelet can read"
        raise SourceError(f"source {path} is {what} ({err})") from None
    if not view.auths_members:
        raise SourceError(f'source {path} has no "auths" object')
    if not view.entries:
        raise SourceError(f'source {path} has an empty "auths" object; refusing to remove every entry')
    if len(view.entries) > MAX_SOURCE_ENTRIES:
        raise SourceError(f"source {path} has {len(view.entries)} registries; at most {MAX_SOURCE_ENTRIES} "
                          "are supported")
    return {key: _usable_entry(view, key) for key in view.entries}


def _special_kind(mode: int) -> str:
    """'' for a regular file, else what it is (for the refusal message)."""
    if stat.S_ISREG(mode):
        return ""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "a special file"


def too_many_items(raw: bytes, limit: int = MAX_JSON_ITEMS) -> bool:
    """True when raw may hold more JSON containers/items than the memory budget allows."""
    return sum(raw.count(c) for c in (b"{", b"[", b",", b":")) > limit


def _usable_entry(view: KubeletView, key: str) -> Wanted:
    if not key.strip():
        raise SourceError("source has an empty registry key")
    node = view.value(key)
    if node.kind != "{":
        raise SourceError(f"source entry {_shown_key(key)} is not an object")
    fields = view.fields[key]
    auth = None
    if not fields.get("auth"):  # else the reader checked that it decodes to user:password
        username, password = fields.get("username"), fields.get("password")
        if not (username and password):
            raise SourceError(f"source entry {_shown_key(key)} has no usable credentials (needs auth or "
                              "username+password)")
        # skopeo and containerd-style readers only look at `auth`.
        auth = binascii.b2a_base64(f"{username}:{password}".encode("utf-8", "surrogatepass"),
                                   newline=False).decode("ascii")  # = base64.b64encode
    items = node.strings(view.raw) or []
    if any(kind not in ('"', "n") for _, kind, _ in items):
        # Other JSON in the entry (the kubelet ignores it): copied byte for byte, as the kubelet read it.
        data = view.raw[node.start:node.end]
        if auth is not None:
            data = data[:-1] + (b"," if items else b"") + b'"auth":' + json.dumps(auth).encode("ascii") + b"}"
        return data
    entry: Entry = {key: text for key, kind, text in items if text is not None}  # the kubelet ignores a null field
    if auth is not None:
        entry["auth"] = auth
    return entry


# ---------------------------------------------------------------------------------------------- files


def check_root(root: str) -> None:
    """Fail with exit code 2 unless the kubelet root directory exists."""
    if not os.path.isdir(root):
        raise RootDirError(
            f"kubelet root {root} does not exist or is not a directory "
            "(mount the kubelet --root-dir as a hostPath of type Directory)"
        )


def _test_pause() -> None:
    value = os.environ.get(PAUSE_ENV)
    if value:
        with contextlib.suppress(ValueError):
            time.sleep(float(value))


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """Replace path with data via a 0600 temp file in the same directory, fsync, rename, fsync dir."""
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # umask may have dropped bits; the mode must be exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        _test_pause()
        os.rename(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(directory)


def remove_file(path: str) -> bool:
    """Unlink path (never following a symlink) and fsync its directory; False if it was absent."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    _fsync_dir(os.path.dirname(path) or ".")
    return True


def read_regular(path: str, limit: int) -> Optional[bytes]:
    """Return the bytes of a regular file, None if absent; refuse symlinks and special files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = _special_kind(info.st_mode)
    if kind:
        raise UnsafeTargetError(f"refusing to use {path}: it is {kind}" + ("" if kind == "a symlink" else
                                                                            ", not a regular file"))
    try:
        # O_NOFOLLOW closes the race with a symlink swapped in after lstat; O_NONBLOCK avoids a FIFO hang.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnsafeTargetError(f"refusing to use {path}: it is a symlink") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafeTargetError(f"refusing to use {path}: it is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise AgentError(f"{path} is larger than {limit} bytes")
    return data


@contextlib.contextmanager
def locked(root: str) -> Iterator[None]:
    """Hold an exclusive flock on DIR's lock file (robust against the last owner unlinking it)."""
    path = os.path.join(root, LOCK_NAME)
    while True:
        try:
            # O_NONBLOCK: a FIFO or device planted as the lock must not block the open.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise UnsafeTargetError(f"refusing to use {path}: it is a symlink") from None
            if err.errno in (errno.EISDIR, errno.ENXIO, errno.ENODEV, errno.EOPNOTSUPP):
                raise UnsafeTargetError(f"refusing to use {path}: it is not a regular file") from None
            raise
        try:
            kind = _special_kind(os.fstat(fd).st_mode)
            if kind:
                raise UnsafeTargetError(f"refusing to use {path}: it is {kind}, not a regular file")
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        # The previous holder removed the lock file while we waited: lock the new one instead.
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def _same_file(fd: int, path: str) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def clean_temp_files(root: str) -> None:
    """Remove temp files a killed agent left behind (safe: only lock holders create them)."""
    for name in os.listdir(root):
        if name.startswith(TMP_PREFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(root, name))
            log("INFO", "remove-leftover-temp", file=name)


def _utc_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def move_aside(path: str, raw: bytes) -> str:
    """Keep an unparsable file's bytes as `<path>.corrupt-<UTC time>` (0600) and return that name."""
    base = f"{path}.corrupt-{_utc_stamp()}"
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = f"{base}-{number}"
    write_atomic(candidate, raw)
    return candidate


# ---------------------------------------------------------------------------------------------- config + state


def load_config(root: str) -> Tuple[Optional[KubeletView], bool]:
    """Return (the kubelet's view of config.json, or None if missing or one the kubelet rejects, existed).

    A file the kubelet rejects is copied aside first: the kubelet already ignores it, so writing a valid one
    in its place loses nothing that was in use, and the copy keeps every byte.
    """
    path = os.path.join(root, CONFIG_NAME)
    raw = read_regular(path, MAX_CONFIG_BYTES)
    if raw is None:
        return None, False
    if too_many_items(raw):
        raise AgentError(f"{path} has more than {MAX_JSON_ITEMS} JSON items; refusing to rewrite it")
    try:
        return kubelet_view(raw), True
    except KubeletRejects as err:
        kept = move_aside(path, raw)
        log("WARNING", "config-corrupt", file=CONFIG_NAME, keptAs=os.path.basename(kept),
            reason=f"the kubelet cannot read it: {err}")
        return None, True


def new_state(created_config: bool) -> State:
    """Return an empty ownership state."""
    return {"version": STATE_VERSION, "created_config": created_config, "next_seq": 1,
            "agents": {}, "keys": {}, "abandoned": {}}


def load_state(root: str) -> Optional[State]:
    """Return the ownership state, None if there is none (a corrupt one is moved aside)."""
    path = os.path.join(root, STATE_NAME)
    try:
        raw = read_regular(path, MAX_STATE_BYTES)
    except UnsafeTargetError:
        raise
    except (AgentError, OSError) as err:
        # Too large or unreadable: it is only ours, so set it aside by rename (no read needed) and rebuild.
        reason = str(err) if isinstance(err, AgentError) else (err.strerror or str(err))
        kept = _rename_aside(path)
        log("WARNING", "state-corrupt", file=STATE_NAME, keptAs=os.path.basename(kept), reason=reason,
            effect="entries with our keys are treated as pre-existing")
        return None
    if raw is None:
        return None
    state = None if too_many_items(raw, MAX_STATE_ITEMS) else _parse_state(raw)
    if state is not None and state_is_valid(state):
        return state
    kept = move_aside(path, raw)
    log("WARNING", "state-corrupt", file=STATE_NAME, keptAs=os.path.basename(kept),
        reason="not valid JSON" if state is None else "unexpected shape",
        effect="entries with our keys are treated as pre-existing")
    return None


def _parse_state(raw: bytes) -> Optional[State]:
    """Parse our own state file; an older agent's displaced values (parsed JSON, maybe NaN) become displaced_raw."""
    try:
        state = json.loads(raw.decode("utf-8"))  # NaN/Infinity: an older agent wrote 1e999 back so; checked below
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    keys = state.get("keys") if isinstance(state, dict) else None
    for record in (keys.values() if isinstance(keys, dict) else ()):
        if isinstance(record, dict) and "displaced" in record and "displaced_raw" not in record:
            record["displaced_raw"] = legacy_text(record.pop("displaced"))
    return state


def legacy_text(value: Any) -> str:
    """JSON text of a value an older agent kept parsed (any depth; numbers Go can read: no NaN or Infinity)."""
    out: List[str] = []
    todo: List[Any] = [value]  # values, and text pieces wrapped in a 1-tuple
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            out.append(item[0])
        elif isinstance(item, dict):
            pieces: List[Any] = [("{",)]
            for index, (key, child) in enumerate(item.items()):
                pieces += [((", " if index else "") + json.dumps(str(key)) + ": ",), child]
            todo.extend(reversed(pieces + [("}",)]))
        elif isinstance(item, list):
            pieces = [("[",)]
            for index, child in enumerate(item):
                pieces += [(", ",), child] if index else [child]
            todo.extend(reversed(pieces + [("]",)]))
        elif isinstance(item, float) and not math.isfinite(item):
            # An older agent read `1e999` as inf (and NaN, which the kubelet never accepted): write Go-readable text.
            out.append("1e999" if item > 0 else "-1e999" if item < 0 else "null")
        else:
            out.append(json.dumps(item))
    return "".join(out)


def _rename_aside(path: str) -> str:
    base = f"{path}.corrupt-{_utc_stamp()}"
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = f"{base}-{number}"
    os.rename(path, candidate)
    _fsync_dir(os.path.dirname(path) or ".")
    return candidate


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_DIGEST = re.compile(r"[0-9a-f]{64}")


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def _plain(value: Any, depth_limit: int) -> bool:
    """True when value nests at most depth_limit deep and holds no NaN or infinity (it must render as JSON)."""
    if not isinstance(value, (dict, list)):
        return not (isinstance(value, float) and not math.isfinite(value))
    todo = [(value, 1)]  # containers only: a scalar is checked where it is found
    while todo:
        item, depth = todo.pop()
        if depth > depth_limit:
            return False
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                todo.append((child, depth + 1))
            elif isinstance(child, float) and not math.isfinite(child):
                return False
    return True


def _lease_is_valid(lease: Any) -> bool:
    return lease is None or (isinstance(lease, dict) and isinstance(lease.get("boot"), str) and
                             _is_number(lease.get("until")) and _is_number(lease.get("seconds")) and
                             lease["seconds"] > 0)


def _displaced_is_valid(text: Any) -> bool:
    """A displaced entry must be one the kubelet can read back, or restoring it would break config.json."""
    if not isinstance(text, str):
        return False
    try:
        data = text_bytes(text)
        entry_fields(data, parse_value(data, 1, depth=2), "displaced")
    except (UnicodeError, KubeletRejects):
        return False
    return True


def state_is_valid(state: Any) -> bool:
    """True when state has exactly the shape this agent writes (anything else would crash the reconciler)."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return False
    if not _plain(state, MAX_STATE_DEPTH):
        return False
    if not isinstance(state.get("created_config"), bool) or not _is_int(state.get("next_seq")):
        return False
    agents, keys, abandoned = state.get("agents"), state.get("keys"), state.get("abandoned")
    if not (isinstance(agents, dict) and isinstance(keys, dict) and isinstance(abandoned, dict)):
        return False
    for agent in agents.values():
        if not (isinstance(agent, dict) and _is_int(agent.get("seq"))):
            return False
        expires = agent.get("expires")  # an older agent's wall-clock lease (ours is always null)
        if not (expires is None or _is_number(expires)) or not _lease_is_valid(agent.get("lease")):
            return False
    for record in keys.values():
        if not isinstance(record, dict) or not isinstance(record.get("owners"), dict):
            return False
        written = record.get("written")
        if not isinstance(written, list) or not all(_is_digest(d) for d in written):
            return False
        if not all(_is_digest(d) for d in record["owners"].values()):
            return False
        if "displaced_raw" in record and not _displaced_is_valid(record["displaced_raw"]):
            return False
    return all(_is_digest(d) for d in abandoned.values())


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and immutable scalars, as the state holds): copy.deepcopy's result
    for such a tree, without its memo or the import of copy."""
    if isinstance(value, dict):
        return {key: json_copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [json_copy(child) for child in value]
    return value


def render_state(state: State) -> bytes:
    """Serialise the state compactly; refuse one the next run could not read back."""
    data = (json.dumps(state, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
    if len(data) > MAX_STATE_BYTES or too_many_items(data, MAX_STATE_ITEMS):
        raise AgentError(f"the state would exceed {MAX_STATE_BYTES} bytes or {MAX_STATE_ITEMS} JSON items")
    return data


# ---------------------------------------------------------------------------------------------- leases


def boot_clock() -> Tuple[str, float]:
    """(this boot's id, seconds on the boot-time clock): shared by every process on the node, never stepped."""
    try:
        with open(BOOT_ID_PATH, encoding="ascii", errors="replace") as handle:
            boot = handle.read(100).strip()
    except OSError:
        boot = ""  # not Linux: a reboot is still caught when a lease ends further away than its length
    # CLOCK_BOOTTIME (Linux; time module since Python 3.7) counts suspend too; monotonic() is the fallback.
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return boot, (time.clock_gettime(clock) if clock is not None else time.monotonic())


def _lease_from_another_boot(lease: Dict[str, Any], boot: str, now: float) -> bool:
    # The boot-time clock restarts at a reboot: another boot id, or an end further away than the lease is long
    # (impossible within one boot), means the lease was taken before it.
    return lease["boot"] != boot or lease["until"] - now > lease["seconds"]


def renew(agent: Dict[str, Any], lease: Optional[float], clock: Tuple[str, float]) -> None:
    """Give agent a lease of `lease` seconds from now (None: never expires), renewed once half of it is used."""
    agent["expires"] = None  # what an older agent reads: never expires (it does not know "lease")
    if lease is None:
        agent.pop("lease", None)
        return
    boot, now = clock
    held = agent.get("lease")
    # Refresh only when half the lease is used, so an idle loop does not rewrite the state each time.
    if (held is None or held["seconds"] != lease or _lease_from_another_boot(held, boot, now)
            or held["until"] - now < lease / 2):
        agent["lease"] = {"boot": boot, "until": now + lease, "seconds": lease}


# ---------------------------------------------------------------------------------------------- reconcile


class Reconciler:
    """Apply one agent's wish (a set of entries, or None to release) to config.json's entries and the state."""

    def __init__(self, state: State, node: NodeFile, owner: str) -> None:
        self.state = state
        self.node = node
        self.owner = owner
        self.changed: Dict[str, List[str]] = {"added": [], "updated": [], "removed": [], "restored": []}
        self.skipped: List[str] = []

    def run(self, desired: Optional[Dict[str, Wanted]], lease: Optional[float], clock: Tuple[str, float],
            wall: float) -> None:
        """Reconcile: expire dead agents, detect hand edits, update ownership, write what we win."""
        wanted = desired or {}
        digests = {key: wanted_digest(entry) for key, entry in wanted.items()}
        self.node.share_digests(wanted, digests)
        self._expire_agents(clock, wall, keep=self.owner if desired is not None else None)
        if desired is not None:
            self._register(lease, clock)
        self._detect_hand_edits()
        self._review_abandoned(digests)
        self._update_ownership(digests)
        self._drop_orphans()
        self._write_wanted(wanted, digests)
        if desired is None:
            self.state["agents"].pop(self.owner, None)

    def _expire_agents(self, clock: Tuple[str, float], wall: float, keep: Optional[str]) -> None:
        agents = self.state["agents"]
        boot, now = clock
        for owner, agent in list(agents.items()):
            if owner == keep:
                continue
            lease = agent.get("lease")
            if lease is None:
                expires = agent.get("expires")  # an older agent's wall-clock lease, honoured as it was
                ran_out = expires is not None and expires < wall
            elif _lease_from_another_boot(lease, boot, now):
                agent["lease"] = {"boot": boot, "until": now + lease["seconds"], "seconds": lease["seconds"]}
                log("INFO", "lease-rebased", owner=owner, reason="taken before the node restarted",
                    effect="runs one full lease from now")
                ran_out = False
            else:
                ran_out = lease["until"] < now
            if ran_out:
                del agents[owner]
                log("WARNING", "expire-owner", owner=owner, reason="lease ran out (agent gone without release)")
        for record in self.state["keys"].values():
            for owner in [o for o in record["owners"] if o not in agents and o != keep]:
                del record["owners"][owner]

    def _register(self, lease: Optional[float], clock: Tuple[str, float]) -> None:
        agents = self.state["agents"]
        agent = agents.get(self.owner)
        if agent is None:
            agent = agents[self.owner] = {"seq": self.state["next_seq"], "expires": None}
            self.state["next_seq"] += 1
            log("INFO", "register-owner", owner=self.owner, seq=agent["seq"])
        renew(agent, lease, clock)

    def _detect_hand_edits(self) -> None:
        for key, record in list(self.state["keys"].items()):
            current = self.node.digest(key)
            if current is None or current in record["written"]:
                continue
            del self.state["keys"][key]
            self.state["abandoned"][key] = current
            log("WARNING", "hand-edited", key=key, effect="left as edited and no longer managed; "
                "delete the entry to let the agent manage it again",
                displacedValueDropped="yes" if "displaced_raw" in record else "no")

    def _review_abandoned(self, wanted: Dict[str, str]) -> None:
        abandoned = self.state["abandoned"]
        for key in list(abandoned):
            current = self.node.digest(key)
            if current is None or current == wanted.get(key):
                del abandoned[key]
                if key in wanted:
                    log("INFO", "manage-again", key=key, reason="hand-edited entry was removed or reset")
            elif key in wanted:
                self.skipped.append(key)

    def _update_ownership(self, wanted: Dict[str, str]) -> None:
        keys = self.state["keys"]
        for key, record in keys.items():
            if key not in wanted:
                record["owners"].pop(self.owner, None)
        for key, want in wanted.items():
            if key in self.state["abandoned"]:
                continue
            record = keys.get(key)
            if record is None:
                record = keys[key] = {"owners": {}, "written": []}
                if key in self.node:
                    record["displaced_raw"] = raw_text(self.node.raw_value(key))
                    log("WARNING", "take-over", key=key, effect="pre-existing entry saved, restored on release")
            record["owners"][self.owner] = want

    def _drop_orphans(self) -> None:
        for key, record in list(self.state["keys"].items()):
            if record["owners"]:
                continue
            del self.state["keys"][key]
            if "displaced_raw" in record:
                self.node.set_raw(key, text_bytes(record["displaced_raw"]))
                self.changed["restored"].append(key)
            elif self.node.remove(key):
                self.changed["removed"].append(key)

    def _write_wanted(self, wanted: Dict[str, Wanted], digests: Dict[str, str]) -> None:
        for key, entry in wanted.items():
            record = self.state["keys"].get(key)
            if record is None:
                continue  # abandoned
            current = self.node.digest(key)
            if current is not None and self._winner(record) != self.owner:
                continue  # a newer agent's value stands
            if current == digests[key]:
                continue
            if current is None and record["written"]:
                log("WARNING", "re-add", key=key, reason="entry was deleted by someone else")
            self.node.set_entry(key, entry, digests[key])
            record["written"] = [digests[key]]
            self.changed["updated" if current is not None else "added"].append(key)

    def _winner(self, record: Dict[str, Any]) -> str:
        agents = self.state["agents"]
        return max(record["owners"], key=lambda owner: agents.get(owner, {}).get("seq", 0))


def intent_state(old: Optional[State], new: State, node: NodeFile) -> State:
    """Return the state to persist before config.json changes: it accepts both the old and new values.

    A kill -9 between the two renames then leaves a state under which either file is recognised as ours,
    so the next run neither mistakes it for a hand edit nor forgets a key it still has to remove. For a
    take-over the old value is the displaced one: accepting it means a crash before config.json is renamed
    leaves the key managed (re-written next run), not "hand-edited" forever.
    """
    intent = json_copy(new)
    old_keys = old["keys"] if old else {}
    for key, record in old_keys.items():
        if key in intent["abandoned"]:
            continue
        merged = intent["keys"].setdefault(key, json_copy(record))
        merged["written"] = sorted(set(merged["written"]) | set(record["written"]))
    for key, record in intent["keys"].items():
        accepted = {d for d in (node.digest(key), node.original_digest(key)) if d is not None}
        record["written"] = sorted(set(record["written"]) | accepted)
    return intent


# ---------------------------------------------------------------------------------------------- transaction


class Outcome:
    """What a sync or release did, for logging and the benchmark."""

    def __init__(self, changed: Dict[str, List[str]], skipped: List[str], owned: int, config: str) -> None:
        self.changed = changed
        self.skipped = skipped
        self.owned = owned
        self.config = config  # "written", "removed" or "unchanged"


def transact(root: str, owner: str, desired: Optional[Dict[str, Wanted]], lease: Optional[float]) -> Outcome:
    """Under the lock: read config + state, reconcile, and commit both crash-safely."""
    check_root(root)
    with locked(root):
        clean_temp_files(root)
        old_state = load_state(root)
        if desired is None and old_state is None:
            _remove_lock(root)  # nothing was ever registered here: leave no trace
            return Outcome({}, [], 0, "unchanged")
        view, existed = load_config(root)
        state = json_copy(old_state) if old_state else new_state(created_config=not existed)
        if not existed:
            state["created_config"] = True  # we (re)create config.json: remove it again if it ends empty
        node = NodeFile(view)
        reconciler = Reconciler(state, node, owner)
        reconciler.run(desired, lease, boot_clock(), time.time())
        config_action = _commit(root, old_state, state, node, view, existed)
        owned = sum(1 for record in state["keys"].values() if owner in record["owners"])
        return Outcome(reconciler.changed, reconciler.skipped, owned, config_action)


def checked_render(node: NodeFile, before: Optional[KubeletView]) -> Tuple[bytes, KubeletView]:
    """The bytes to write, once the kubelet's reader has read them back exactly as intended; AgentError if not."""
    rendered, texts = node.render()
    if len(rendered) > MAX_CONFIG_BYTES:
        rendered, texts = node.render(compact=True)  # our entries indented would pass the cap
    if len(rendered) > MAX_CONFIG_BYTES or too_many_items(rendered):
        # Never write a file the next run would have to refuse.
        raise AgentError(f"the merged {CONFIG_NAME} would exceed {MAX_CONFIG_BYTES} bytes or {MAX_JSON_ITEMS} "
                         "JSON items; left untouched")
    try:
        after = kubelet_view(rendered)
    except KubeletRejects as err:
        raise AgentError(f"internal check failed: the kubelet could not read the {CONFIG_NAME} we would write "
                         f"({err}); left untouched") from None
    found = {key: rendered[after.value(key).start:after.value(key).end] for key in after.entries}
    if found != texts or _others(after) != _others(before):
        raise AgentError(f"internal check failed: the {CONFIG_NAME} we would write does not read back as intended; "
                         "left untouched")
    return rendered, after


def _commit(root: str, old_state: Optional[State], state: State, node: NodeFile,
            view: Optional[KubeletView], existed: bool) -> str:
    config_path = os.path.join(root, CONFIG_NAME)
    state_path = os.path.join(root, STATE_NAME)
    finished = not state["agents"]
    # view is None when config.json is missing or was rejected (copied aside): both need a write.
    unchanged = view is not None and not node.changed()
    rendered, after = (view.raw, view) if unchanged and view is not None else checked_render(node, view)
    remove_config = bool(finished and state.get("created_config") and holds_nothing(after))
    config_changes = existed if remove_config else not unchanged
    intent = b""
    if config_changes:
        # The state goes first and must be on disk before config.json changes (write_atomic's directory fsync
        # orders the two renames): a config.json holding our entries under no state of ours would read them
        # as pre-existing ones, restored instead of removed on release.
        intent = render_state(intent_state(old_state, state, node))
        write_atomic(state_path, intent)
        if remove_config:
            remove_file(config_path)
            log("INFO", "remove-config", file=CONFIG_NAME, reason="created by the agent and holds nothing else")
        else:
            if not existed and os.path.lexists(os.path.join(root, DOCKERCFG_NAME)):
                log("WARNING", "dockercfg-shadowed", file=DOCKERCFG_NAME, effect="the kubelet reads it only while "
                    f"no valid {CONFIG_NAME} exists, so its entries stop being used")
            write_atomic(config_path, rendered)
    if finished:
        remove_file(state_path)
        _remove_lock(root)
    elif state != old_state or config_changes:
        final = render_state(state)
        if final != intent:  # the intent is often the final state itself (a first sync, an update): 1 write saved
            write_atomic(state_path, final)
    if not config_changes:
        return "unchanged"
    return "removed" if remove_config else "written"


def _remove_lock(root: str) -> None:
    # Safe while we hold it: waiters re-check the inode after flock and retry on a fresh file.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(root, LOCK_NAME))


def sync(source: str, root: str, owner: str, lease: Optional[float]) -> Outcome:
    """Merge the source's entries into DIR/config.json for owner; raise AgentError on failure."""
    return transact(root, owner, load_source(source), lease)


def release(root: str, owner: str) -> Outcome:
    """Drop owner's claims; remove or restore keys nobody else owns."""
    return transact(root, owner, None, None)


def keep_lease(root: str, owner: str, lease: float) -> None:
    """After a failed sync: renew a looping agent's lease (it is alive, and its entries must stay); never raises."""
    with contextlib.suppress(Exception):
        check_root(root)
        with locked(root):
            state = load_state(root)
            agent = state["agents"].get(owner) if state else None
            if state is None or agent is None:
                return
            before = json_copy(agent)
            renew(agent, lease, boot_clock())
            if agent != before:
                write_atomic(os.path.join(root, STATE_NAME), render_state(state))


# ---------------------------------------------------------------------------------------------- CLI


def default_owner_id(once: bool = False) -> str:
    """Return the owner id when --owner-id is not given (see the module docstring)."""
    if once:
        # Stable across runs (and pods): the next --once run is the same owner, so it drops what it dropped.
        return ONCE_OWNER
    for variable in ("POD_NAME", "POD_UID"):
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    return f"{os.uname().nodename}:{os.getpid()}"


class Args:
    """The parsed command line: argparse.Namespace's attributes, from quick_args() or argparse."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


_VALUE_OPTIONS = {"--source": "source", "--kubelet-root": "kubelet_root", "--interval": "interval",
                  "--ready-file": "ready_file", "--owner-id": "owner_id"}


def quick_args(argv: List[str]) -> Optional[Args]:
    """The command line as argparse reads it, for the plain forms the DaemonSet uses (`--name value`, `--once`,
    each at most once, no value starting with '-', a finite --interval in range); None for anything else, which
    argparse then parses (with its errors, --help, abbreviations and `--name=value`): importing argparse alone
    costs a fresh process several ms."""
    values: Dict[str, Any] = {}
    words = iter(argv)
    for word in words:
        if word == "--once" and "once" not in values:
            values["once"] = True
            continue
        name = _VALUE_OPTIONS.get(word)
        value = next(words, None)
        if name is None or name in values or value is None or value.startswith("-"):
            return None
        values[name] = value
    if "source" not in values or "kubelet_root" not in values:
        return None
    try:
        interval = float(values.get("interval", DEFAULT_INTERVAL))  # argparse's type=float
    except ValueError:
        return None
    if not (math.isfinite(interval) and MIN_INTERVAL <= interval <= MAX_INTERVAL):
        return None
    return Args(source=values["source"], kubelet_root=values["kubelet_root"], once=values.get("once", False),
                interval=interval, ready_file=values.get("ready_file", DEFAULT_READY_FILE),
                owner_id=values.get("owner_id"))


def parse_args(argv: Optional[List[str]]) -> Args:
    """Parse the command line."""
    quick = quick_args(sys.argv[1:] if argv is None else argv)
    if quick is not None:
        return quick
    return Args(**vars(argparse_args(argv)))


def argparse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse the command line with argparse (every form, usage errors and --help)."""
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"""\
exit codes:
  {EXIT_OK}   ok (--once synced; a loop stopped by a signal released cleanly)
  {EXIT_SOURCE}   the source is unreadable or invalid (a FIFO, socket, device or directory included)
  {EXIT_USAGE}   usage error, or the kubelet root is missing or not a directory
  {EXIT_REFUSED}   an unsafe target was refused (a symlink or special file as config.json, state or lock file)
  {EXIT_IO}   another I/O error, or a merge not written (over a cap, or not read back as intended)
  {EXIT_INTERNAL}  internal error (a bug: please report it)

examples:
  # as the DaemonSet runs it: sync every 60 s until SIGTERM, then release what it owns
  python3 node_agent.py --source /etc/registry-credentials/.dockerconfigjson --kubelet-root /host/kubelet --interval 60
  # one sync by hand on a node, with a Secret's .dockerconfigjson saved to a file
  python3 node_agent.py --source ./dockerconfig.json --kubelet-root /var/lib/kubelet --once --owner-id manual
""",
    )
    parser.add_argument("--source", required=True, help="mounted .dockerconfigjson file")
    parser.add_argument("--kubelet-root", required=True, help="kubelet --root-dir (holds config.json)")
    parser.add_argument("--once", action="store_true", help="sync once and exit (no release)")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL,
                        help=f"seconds between syncs, {MIN_INTERVAL:g} to {MAX_INTERVAL:g}")
    parser.add_argument("--ready-file", default=DEFAULT_READY_FILE, help="written after a successful sync")
    parser.add_argument("--owner-id", default=None,
                        help=f"unique id of this agent on the node (default: $POD_NAME, $POD_UID or hostname:pid; "
                        f"{ONCE_OWNER!r} with --once)")
    args = parser.parse_args(argv)
    # float() accepts nan and inf: a nan interval passes `<= 0` and an infinite one never syncs again.
    if not (math.isfinite(args.interval) and MIN_INTERVAL <= args.interval <= MAX_INTERVAL):
        parser.error(f"--interval must be a number of seconds from {MIN_INTERVAL:g} to {MAX_INTERVAL:g}")
    return args


def _log_outcome(action: str, owner: str, outcome: Outcome) -> None:
    fields: Dict[str, Any] = {"owner": owner, "owned": outcome.owned}
    fields.update({name: keys for name, keys in outcome.changed.items() if keys})
    if outcome.skipped:
        fields["skippedHandEdited"] = outcome.skipped
    fields["config"] = outcome.config
    log("INFO", action, **fields)


def set_ready(path: Optional[str], ready: bool) -> None:
    """Create or remove the readiness file; a failure is logged, not fatal."""
    if not path:
        return
    try:
        if ready:
            # O_NONBLOCK | O_NOFOLLOW: a FIFO or symlink planted there fails at once instead of blocking the loop.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{time.time():.0f}\n")
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    except OSError as err:
        log("ERROR", "ready-file", file=path, error=err.strerror or str(err))


def internal_error(err: BaseException) -> str:
    """One line for an error nobody foresaw: its type and where, never its message (it could hold a value)."""
    import traceback  # only for this rare line

    frames = [frame for frame in traceback.extract_tb(err.__traceback__) if frame.filename == __file__]
    where = f" at line {frames[-1].lineno}" if frames else ""
    return f"internal error {type(err).__name__}{where} (a bug: please report it)"


def sync_and_report(args: Args, owner: str, lease: Optional[float]) -> int:
    """Run one sync, log it, update the ready file; return an exit code (never raises)."""
    try:
        outcome = sync(args.source, args.kubelet_root, owner, lease)
    except Exception as err:  # noqa: BLE001 - a looping agent must outlive any input: one line, and go on
        if isinstance(err, AgentError):
            log("ERROR", "sync-failed", owner=owner, error=str(err), nodeFile="left untouched")
            code = err.exit_code
        elif isinstance(err, OSError):
            log("ERROR", "sync-failed", owner=owner, error=f"{err.strerror or err} ({err.filename})")
            code = EXIT_IO
        else:
            log("ERROR", "sync-failed", owner=owner, error=internal_error(err))
            code = EXIT_INTERNAL
        set_ready(args.ready_file, False)
        if lease is not None:
            keep_lease(args.kubelet_root, owner, lease)
        return code
    _log_outcome("sync", owner, outcome)
    set_ready(args.ready_file, True)
    return EXIT_OK


def release_and_report(args: Args, owner: str) -> int:
    """Release owner's keys at shutdown, log it; return an exit code (never raises)."""
    try:
        outcome = release(args.kubelet_root, owner)
    except Exception as err:  # noqa: BLE001 - one line, whatever went wrong
        if isinstance(err, AgentError):
            code, text = err.exit_code, str(err)
        elif isinstance(err, OSError):
            code, text = EXIT_IO, f"{err.strerror or err} ({err.filename})"
        else:
            code, text = EXIT_INTERNAL, internal_error(err)
        log("ERROR", "release-failed", owner=owner, error=text)
        return code
    _log_outcome("release", owner, outcome)
    return EXIT_OK


def run_loop(args: Args, owner: str) -> int:
    """Sync every interval until SIGTERM/SIGINT, then release."""
    import signal
    import threading

    stop = threading.Event()
    received: List[int] = []

    def request_stop(signum: int, _frame: Any) -> None:
        # Only flag it (logging here could re-enter stderr); a sync in progress finishes before we release.
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # /tmp is an emptyDir that survives container restarts: a stale file would claim readiness too early.
    set_ready(args.ready_file, False)
    lease = max(LEASE_INTERVALS * args.interval, MIN_LEASE)
    log("INFO", "start", owner=owner, interval=args.interval, kubeletRoot=args.kubelet_root)
    while not stop.is_set():
        sync_and_report(args, owner, lease)
        stop.wait(args.interval)
    log("INFO", "stop", owner=owner, signal=",".join(signal.Signals(n).name for n in received))
    code = release_and_report(args, owner)
    set_ready(args.ready_file, False)
    return code


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    owner = (args.owner_id or "").strip() or default_owner_id(once=args.once)
    try:
        check_root(args.kubelet_root)
    except RootDirError as err:
        log("ERROR", "start-failed", error=str(err))
        return err.exit_code
    if args.once:
        # One short sync, then exit frees everything: the collector's passes over a heap growing from nothing
        # cost a first sync of 1,000 registries about 3% of its instructions (a looping agent keeps it on).
        import gc

        gc.disable()
        return sync_and_report(args, owner, None)
    return run_loop(args, owner)


if __name__ == "__main__":
    sys.exit(main())
