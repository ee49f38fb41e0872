#!/usr/bin/env python3
"""Keep the kubelet's `{root-dir}/config.json` holding the registry credentials of a mounted `.dockerconfigjson`.

Runs on every node from a DaemonSet (Python >= 3.9, standard library only; never import the
`registry_credentials` package from here, this file is shipped alone in a ConfigMap)::

    python3 node_agent.py --source FILE --kubelet-root DIR [--once] [--interval SECONDS]
                          [--ready-file PATH] [--owner-id ID]

Files in DIR (mount the kubelet root *directory*, never the file: a bind-mounted file keeps the old
inode after the atomic rename):

* ``config.json``: merged, never replaced. Only ``auths`` keys this agent owns are touched; every other
  entry and top-level key (``HttpHeaders``, ``credsStore``, ...) is kept. Written as temp file + fsync +
  rename + directory fsync, mode 0600, so the kubelet (which caches even a failed read for 5 minutes)
  never sees a torn file. A symlink (or any non-regular file) there is refused and never written through.
* ``registry-credentials.state.json`` (0600, atomic): who owns which key. Per key: the owner ids with
  the sha256 of the entry each wants, the sha256 of the value(s) we wrote, and the entry we displaced
  (the only credential kept here: it is needed to restore it, and this root-only 0600 file sits next to
  ``config.json``, which holds the same value). Per agent: a start sequence number and a lease.
* ``.registry-credentials.lock``: ``flock`` serialising every read-modify-write by cooperating agents.
* ``config.json.corrupt-<UTC time>``: an unparsable ``config.json`` moved aside (0600) before we
  write a valid one, so nothing is lost. Likewise ``registry-credentials.state.json.corrupt-<UTC time>``
  for a state file that is not valid JSON, has an unexpected shape, is too large or cannot be read; the
  state is then rebuilt (entries with our keys are taken over as pre-existing) and a warning is logged.

Policies:

* Ownership and hand-over: every agent registers its owner id (default ``$POD_NAME``, else
  ``$POD_UID``, else ``hostname:pid``) with a sequence number taken at its first sync. When several
  agents own a key (a rolling update with maxSurge), the newest one's value is written; older agents
  do not revert it. On SIGTERM/SIGINT an agent drops its ownership; a key is removed (or its displaced
  value restored) only when its last owner leaves. Looping agents hold a lease of
  max(5 x interval, 300 s), renewed by their successful syncs; an agent whose lease ran out (killed
  with -9 and never restarted under the same id) is dropped by the next agent that takes the lock, so
  its keys do not stay forever. ``--once`` registrations never expire; without ``--owner-id`` every
  ``--once`` run is the owner ``once``, so a registry dropped from the source is removed by the next run.
* Hand edits: if an owned entry's current value is not one we wrote, someone changed it on purpose
  (e.g. a hot fix). We never silently undo that: a warning names the key, the entry is left alone and
  is no longer managed (nor removed or restored on release). Each sync reports it as skipped. To hand
  it back, delete the entry (or set it to exactly our value); the next sync manages it again. An owned
  entry that was *deleted* is re-added with a warning, since there is no edited value to respect.
* Pre-existing entries with one of our keys: taken over with a log line; the original value is kept in
  the state file and put back when the last owner releases. The state written before ``config.json``
  accepts the pre-existing value as ours, so a kill -9 at any point of a take-over leaves the key managed.
* Restore: after the last owner leaves, the state and lock files are removed; if ``config.json`` did not
  exist before us and holds nothing foreign (only an empty ``auths``), it is removed; otherwise it is
  left with the foreign content (semantically as before, formatting may differ).
* Invalid source (missing, unreadable, not JSON, no non-empty ``auths`` object, an entry with neither a
  decodable ``auth`` nor ``username`` + ``password``): the node file is left untouched. An entry with
  only ``username``/``password`` gets ``auth`` added, since skopeo and some runtimes read only ``auth``.
* Ready file: written after a successful sync, removed when a sync fails, when a looping agent starts
  (``/tmp`` is an emptyDir that outlives a container restart) and when it stops. ``--ready-file ""``
  disables it. ``--once`` writes it on success and leaves it.
* Roll the DaemonSet out with a ``maxSurge`` and ``maxUnavailable: 0``: the new agent then owns the keys
  before the old one releases them, so the node never goes without credentials (the kubelet caches a
  missing entry for up to 5 minutes).

Logs: one line per action on stderr (UTC time, level, action, key names). Never a credential. A value
with whitespace, quotes, ``=``, control or non-ASCII characters is written as a JSON string, so a key
with a newline cannot forge a log line.

Limits (so every accepted input fits the pod's 128Mi memory limit with headroom; see
``bench/node_agent_bench.py --memory``): source 1 MiB + 64 KiB and 2000 registries; ``config.json``
2 MiB; state 4 MiB; at most 100000 JSON items (``{ [ , :`` characters) per file, 200000 for the
state. A larger source is invalid (exit 1); a larger ``config.json`` is left untouched (exit 4); a larger
state is set aside and rebuilt. ``config.json`` is written indented, or compact when indenting would pass
its cap. ``--interval`` is 0.1 to 86400 seconds.

Exit codes: 0 success (``--once`` synced; loop stopped by a signal and released cleanly);
1 the source is unreadable or invalid (a FIFO, socket, device or directory as source included: refused
at once, never read); 2 usage error or DIR missing / not a directory;
3 an unsafe target (``config.json``, state or lock file is a symlink, FIFO, socket, device or directory)
was refused; 4 any other I/O error while reading or writing DIR (a looping agent logs it and retries;
its exit code is the release's).

Test-only: ``REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME=SECONDS`` sleeps before every rename so
tests can kill the agent mid-sync.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import errno
import fcntl
import hashlib
import json
import math
import os
import signal
import stat
import sys
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

CONFIG_NAME = "config.json"
STATE_NAME = "registry-credentials.state.json"
LOCK_NAME = ".registry-credentials.lock"
TMP_PREFIX = ".registry-credentials.tmp-"
STATE_VERSION = 1
DEFAULT_INTERVAL = 60.0
DEFAULT_READY_FILE = "/tmp/registry-credentials-ready"
MIN_LEASE = 300.0
LEASE_INTERVALS = 5
# Size caps keep every input the agent accepts inside the pod's memory limit (bench/node_agent_bench.py --memory
# measures the peak RSS at these caps). A Secret holds at most 1 MiB of data (MaxSecretSize, kubernetes/api
# core/v1 types.go), so the source cap is that plus slack; config.json must hold the source plus foreign entries.
MAX_SOURCE_BYTES = 1024 * 1024 + 64 * 1024
MAX_CONFIG_BYTES = 2 * 1024 * 1024
MAX_STATE_BYTES = 4 * 1024 * 1024  # per key: owners and digests, plus a displaced entry (bounded by config.json)
MAX_SOURCE_ENTRIES = 2000
# JSON nesting/item count drives memory far more than bytes ("[]," is 3 bytes but a 56-byte list): cap the
# number of structural characters (an upper bound on containers and items; those inside strings count too).
MAX_JSON_ITEMS = 100_000
MAX_STATE_ITEMS = 2 * MAX_JSON_ITEMS
MIN_INTERVAL = 0.1
MAX_INTERVAL = 86400.0
ONCE_OWNER = "once"
MAX_LOGGED_KEYS = 20
PAUSE_ENV = "REGISTRY_CREDENTIALS_AGENT_TEST_PAUSE_BEFORE_RENAME"

EXIT_OK = 0
EXIT_SOURCE = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_IO = 4

Entry = Dict[str, Any]
State = Dict[str, Any]


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


# ---------------------------------------------------------------------------------------------- source


def load_source(path: str) -> Dict[str, Entry]:
    """Read the mounted `.dockerconfigjson` afresh and return its usable `auths` entries."""
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
    document = parse_json(raw)
    if document is None:
        raise SourceError(f"source {path} is not valid JSON")
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        raise SourceError(f'source {path} has no "auths" object')
    if not auths:
        raise SourceError(f'source {path} has an empty "auths" object; refusing to remove every entry')
    if len(auths) > MAX_SOURCE_ENTRIES:
        raise SourceError(f"source {path} has {len(auths)} registries; at most {MAX_SOURCE_ENTRIES} are supported")
    return {key: _usable_entry(key, entry) for key, entry in auths.items()}


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


def parse_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON; None when it is not valid JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _usable_entry(key: str, entry: Any) -> Entry:
    if not key.strip():
        raise SourceError("source has an empty registry key")
    if not isinstance(entry, dict):
        raise SourceError(f"source entry {key!r} is not an object")
    auth = entry.get("auth")
    if auth not in (None, ""):
        if not isinstance(auth, str) or not _auth_decodes(auth):
            raise SourceError(f"source entry {key!r} has an auth value that is not base64 of user:password")
        return dict(entry)
    username, password = entry.get("username"), entry.get("password")
    if not (isinstance(username, str) and username and isinstance(password, str) and password):
        raise SourceError(f"source entry {key!r} has no usable credentials (needs auth or username+password)")
    usable = dict(entry)
    # skopeo and containerd-style readers only look at `auth`.
    usable["auth"] = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    return usable


def _auth_decodes(auth: str) -> bool:
    # The kubelet accepts padded and unpadded base64 and splits at the first ':'.
    try:
        decoded = base64.b64decode(auth + "=" * (-len(auth) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


def digest(entry: Any) -> str:
    """Return the sha256 of an entry's canonical JSON (how we recognise a value we wrote)."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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


def load_config(root: str) -> Tuple[Optional[Dict[str, Any]], bool]:
    """Return (config.json document or None if missing/corrupt, existed); a corrupt file is moved aside."""
    path = os.path.join(root, CONFIG_NAME)
    raw = read_regular(path, MAX_CONFIG_BYTES)
    if raw is None:
        return None, False
    if too_many_items(raw):
        raise AgentError(f"{path} has more than {MAX_JSON_ITEMS} JSON items; refusing to rewrite it")
    document = _parse_config(raw)
    if document is None:
        kept = move_aside(path, raw)
        log("WARNING", "config-corrupt", file=CONFIG_NAME, kept_as=os.path.basename(kept))
    return document, True


def _parse_config(raw: bytes) -> Optional[Dict[str, Any]]:
    document = parse_json(raw)
    if not isinstance(document, dict) or not isinstance(document.get("auths", {}), dict):
        return None
    return document


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
        log("WARNING", "state-corrupt", file=STATE_NAME, kept_as=os.path.basename(kept), reason=reason,
            effect="entries with our keys are treated as pre-existing")
        return None
    if raw is None:
        return None
    state = None if too_many_items(raw, MAX_STATE_ITEMS) else parse_json(raw)
    if state_is_valid(state):
        return state
    kept = move_aside(path, raw)
    log("WARNING", "state-corrupt", file=STATE_NAME, kept_as=os.path.basename(kept),
        reason="not valid JSON" if state is None else "unexpected shape",
        effect="entries with our keys are treated as pre-existing")
    return None


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


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def state_is_valid(state: Any) -> bool:
    """True when state has exactly the shape this agent writes (anything else would crash the reconciler)."""
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return False
    if not isinstance(state.get("created_config"), bool) or not _is_int(state.get("next_seq")):
        return False
    agents, keys, abandoned = state.get("agents"), state.get("keys"), state.get("abandoned")
    if not (isinstance(agents, dict) and isinstance(keys, dict) and isinstance(abandoned, dict)):
        return False
    for agent in agents.values():
        expires = agent.get("expires", 0) if isinstance(agent, dict) else None
        if not (isinstance(agent, dict) and _is_int(agent.get("seq")) and
                (expires is None or (isinstance(expires, (int, float)) and not isinstance(expires, bool)
                                     and math.isfinite(expires)))):
            return False
    for record in keys.values():
        if not isinstance(record, dict) or not isinstance(record.get("owners"), dict):
            return False
        written = record.get("written")
        if not isinstance(written, list) or not all(_is_digest(d) for d in written):
            return False
        if not all(_is_digest(d) for d in record["owners"].values()):
            return False
    return all(_is_digest(d) for d in abandoned.values())


def render_json(document: Any) -> bytes:
    """Serialise a document as written on the node."""
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def render_state(state: State) -> bytes:
    """Serialise the state compactly; refuse one the next run could not read back."""
    data = (json.dumps(state, separators=(",", ":")) + "\n").encode("utf-8")
    if len(data) > MAX_STATE_BYTES or too_many_items(data, MAX_STATE_ITEMS):
        raise AgentError(f"the state would exceed {MAX_STATE_BYTES} bytes or {MAX_STATE_ITEMS} JSON items")
    return data


# ---------------------------------------------------------------------------------------------- reconcile


class Reconciler:
    """Apply one agent's wish (a set of entries, or None to release) to a config document and state."""

    def __init__(self, state: State, auths: Dict[str, Any], owner: str) -> None:
        self.state = state
        self.auths = auths
        self.owner = owner
        self.changed: Dict[str, List[str]] = {"added": [], "updated": [], "removed": [], "restored": []}
        self.skipped: List[str] = []

    def run(self, desired: Optional[Dict[str, Entry]], lease: Optional[float], now: float) -> None:
        """Reconcile: expire dead agents, detect hand edits, update ownership, write what we win."""
        wanted = desired or {}
        self._expire_agents(now, keep=self.owner if desired is not None else None)
        if desired is not None:
            self._register(lease, now)
        self._detect_hand_edits()
        self._review_abandoned(wanted)
        self._update_ownership(wanted)
        self._drop_orphans()
        self._write_wanted(wanted)
        if desired is None:
            self.state["agents"].pop(self.owner, None)

    def _expire_agents(self, now: float, keep: Optional[str]) -> None:
        agents = self.state["agents"]
        for owner, agent in list(agents.items()):
            expires = agent.get("expires")
            if owner != keep and expires is not None and expires < now:
                del agents[owner]
                log("WARNING", "expire-owner", owner=owner, reason="lease ran out (agent gone without release)")
        for record in self.state["keys"].values():
            for owner in [o for o in record["owners"] if o not in agents and o != keep]:
                del record["owners"][owner]

    def _register(self, lease: Optional[float], now: float) -> None:
        agents = self.state["agents"]
        agent = agents.get(self.owner)
        if agent is None:
            agent = agents[self.owner] = {"seq": self.state["next_seq"], "expires": None}
            self.state["next_seq"] += 1
            log("INFO", "register-owner", owner=self.owner, seq=agent["seq"])
        if lease is None:
            agent["expires"] = None
        elif agent.get("expires") is None or agent["expires"] - now < lease / 2:
            # Refresh only when half the lease is used, so an idle loop does not rewrite the state each time.
            agent["expires"] = now + lease

    def _detect_hand_edits(self) -> None:
        for key, record in list(self.state["keys"].items()):
            current = self.auths.get(key)
            if current is None or digest(current) in record["written"]:
                continue
            del self.state["keys"][key]
            self.state["abandoned"][key] = digest(current)
            log("WARNING", "hand-edited", key=key, effect="left as edited and no longer managed; "
                "delete the entry to let the agent manage it again",
                displaced_value_dropped="yes" if "displaced" in record else "no")

    def _review_abandoned(self, wanted: Dict[str, Entry]) -> None:
        abandoned = self.state["abandoned"]
        for key in list(abandoned):
            current = self.auths.get(key)
            if current is None or (key in wanted and current == wanted[key]):
                del abandoned[key]
                if key in wanted:
                    log("INFO", "manage-again", key=key, reason="hand-edited entry was removed or reset")
            elif key in wanted:
                self.skipped.append(key)

    def _update_ownership(self, wanted: Dict[str, Entry]) -> None:
        keys = self.state["keys"]
        for key, record in keys.items():
            if key not in wanted:
                record["owners"].pop(self.owner, None)
        for key, entry in wanted.items():
            if key in self.state["abandoned"]:
                continue
            record = keys.get(key)
            if record is None:
                record = keys[key] = {"owners": {}, "written": []}
                if key in self.auths:
                    record["displaced"] = self.auths[key]
                    log("WARNING", "take-over", key=key, effect="pre-existing entry saved, restored on release")
            record["owners"][self.owner] = digest(entry)

    def _drop_orphans(self) -> None:
        for key, record in list(self.state["keys"].items()):
            if record["owners"]:
                continue
            del self.state["keys"][key]
            if "displaced" in record:
                self.auths[key] = record["displaced"]
                self.changed["restored"].append(key)
            elif self.auths.pop(key, None) is not None:
                self.changed["removed"].append(key)

    def _write_wanted(self, wanted: Dict[str, Entry]) -> None:
        for key, entry in wanted.items():
            record = self.state["keys"].get(key)
            if record is None:
                continue  # abandoned
            current = self.auths.get(key)
            if current is not None and self._winner(record) != self.owner:
                continue  # a newer agent's value stands
            if current == entry:
                continue
            if current is None and record["written"]:
                log("WARNING", "re-add", key=key, reason="entry was deleted by someone else")
            self.auths[key] = entry
            record["written"] = [digest(entry)]
            self.changed["updated" if current is not None else "added"].append(key)

    def _winner(self, record: Dict[str, Any]) -> str:
        agents = self.state["agents"]
        return max(record["owners"], key=lambda owner: agents.get(owner, {}).get("seq", 0))


def intent_state(old: Optional[State], new: State, auths: Dict[str, Any],
                 old_auths: Optional[Dict[str, Any]] = None) -> State:
    """Return the state to persist before config.json changes: it accepts both the old and new values.

    A kill -9 between the two renames then leaves a state under which either file is recognised as ours,
    so the next run neither mistakes it for a hand edit nor forgets a key it still has to remove. For a
    take-over the old value is the displaced one: accepting it means a crash before config.json is renamed
    leaves the key managed (re-written next run), not "hand-edited" forever.
    """
    intent = copy.deepcopy(new)
    old_keys = old["keys"] if old else {}
    for key, record in old_keys.items():
        if key in intent["abandoned"]:
            continue
        merged = intent["keys"].setdefault(key, copy.deepcopy(record))
        merged["written"] = sorted(set(merged["written"]) | set(record["written"]))
    for key, record in intent["keys"].items():
        accepted = {digest(values[key]) for values in (auths, old_auths or {}) if key in values}
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


def transact(root: str, owner: str, desired: Optional[Dict[str, Entry]], lease: Optional[float]) -> Outcome:
    """Under the lock: read config + state, reconcile, and commit both crash-safely."""
    check_root(root)
    with locked(root):
        clean_temp_files(root)
        old_state = load_state(root)
        if desired is None and old_state is None:
            _remove_lock(root)  # nothing was ever registered here: leave no trace
            return Outcome({}, [], 0, "unchanged")
        config, existed = load_config(root)
        state = copy.deepcopy(old_state) if old_state else new_state(created_config=not existed)
        if not existed:
            state["created_config"] = True  # we (re)create config.json: remove it again if it ends empty
        new_config = copy.deepcopy(config or {})
        auths = new_config.setdefault("auths", {})
        reconciler = Reconciler(state, auths, owner)
        reconciler.run(desired, lease, time.time())
        if not auths and "auths" not in (config or {}):
            del new_config["auths"]
        config_action = _commit(root, old_state, state, new_config, config, existed)
        owned = sum(1 for record in state["keys"].values() if owner in record["owners"])
        return Outcome(reconciler.changed, reconciler.skipped, owned, config_action)


def _commit(root: str, old_state: Optional[State], state: State, config: Dict[str, Any],
            old_config: Optional[Dict[str, Any]], existed: bool) -> str:
    config_path = os.path.join(root, CONFIG_NAME)
    state_path = os.path.join(root, STATE_NAME)
    finished = not state["agents"]
    remove_config = finished and state.get("created_config") and not config.get("auths") and set(config) <= {"auths"}
    # old_config is None when config.json is missing or was corrupt (moved aside): both need a write.
    config_changes = existed if remove_config else config != old_config
    rendered = render_json(config) if config_changes and not remove_config else b""
    if len(rendered) > MAX_CONFIG_BYTES:
        rendered = (json.dumps(config, separators=(",", ":")) + "\n").encode("utf-8")  # indenting made it too big
    if len(rendered) > MAX_CONFIG_BYTES or too_many_items(rendered):
        # Never write a file the next run would have to refuse.
        raise AgentError(f"the merged {CONFIG_NAME} would exceed {MAX_CONFIG_BYTES} bytes or {MAX_JSON_ITEMS} "
                         "JSON items; left untouched")
    if config_changes:
        old_auths = old_config.get("auths") if isinstance(old_config, dict) else None
        intent = intent_state(old_state, state, config.get("auths", {}), old_auths if isinstance(old_auths, dict)
                              else None)
        write_atomic(state_path, render_state(intent))
        if remove_config:
            remove_file(config_path)
            log("INFO", "remove-config", file=CONFIG_NAME, reason="created by the agent and holds nothing else")
        else:
            write_atomic(config_path, rendered)
    if finished:
        remove_file(state_path)
        _remove_lock(root)
    elif state != old_state or config_changes:
        write_atomic(state_path, render_state(state))
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


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="exit codes: 0 ok; 1 source unreadable or invalid (FIFO, socket, device included); 2 usage error or "
        "kubelet root missing; 3 unsafe target refused (symlink or special file as config.json, state or lock); "
        "4 other I/O error, or config.json over its size cap (left untouched)",
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
        fields["skipped_hand_edited"] = outcome.skipped
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


def sync_and_report(args: argparse.Namespace, owner: str, lease: Optional[float]) -> int:
    """Run one sync, log it, update the ready file; return an exit code."""
    try:
        outcome = sync(args.source, args.kubelet_root, owner, lease)
    except AgentError as err:
        log("ERROR", "sync-failed", owner=owner, error=str(err), node_file="left untouched")
        set_ready(args.ready_file, False)
        return err.exit_code
    except OSError as err:
        log("ERROR", "sync-failed", owner=owner, error=f"{err.strerror or err} ({err.filename})")
        set_ready(args.ready_file, False)
        return EXIT_IO
    _log_outcome("sync", owner, outcome)
    set_ready(args.ready_file, True)
    return EXIT_OK


def release_and_report(args: argparse.Namespace, owner: str) -> int:
    """Release owner's keys at shutdown, log it; return an exit code."""
    try:
        outcome = release(args.kubelet_root, owner)
    except (AgentError, OSError) as err:
        code = err.exit_code if isinstance(err, AgentError) else EXIT_IO
        log("ERROR", "release-failed", owner=owner, error=str(err))
        return code
    _log_outcome("release", owner, outcome)
    return EXIT_OK


def run_loop(args: argparse.Namespace, owner: str) -> int:
    """Sync every interval until SIGTERM/SIGINT, then release."""
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
    log("INFO", "start", owner=owner, interval=args.interval, kubelet_root=args.kubelet_root)
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
        return sync_and_report(args, owner, None)
    return run_loop(args, owner)


if __name__ == "__main__":
    sys.exit(main())
