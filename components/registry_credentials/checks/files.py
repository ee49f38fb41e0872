"""Reading what a command is given: a regular file, or standard input, whole and within a size limit.

Every failure (missing, a directory, a FIFO, too big, closed, not UTF-8) is one ConfigError naming what was read.
"""

import os
import stat
import sys
from pathlib import Path

from ..errors import ConfigError

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Stack and project files, and `pulumi config --json` output, larger than this are refused (a config this size is
a mistake, not a config)."""


def read_file(path: Path, what: str, limit: int) -> bytes:
    """Read a regular file; anything else (missing, directory, FIFO, device, too big) is one ConfigError."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise block forever; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path}: no such file") from None
    except PermissionError:
        raise ConfigError(f"{what} {path}: permission denied; make it readable") from None
    except OSError as err:
        raise ConfigError(f"{what} {path}: cannot be opened ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{what} {path}: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{what} {path}: is not a regular file (a FIFO, socket or device); give a file")
        if info.st_size > limit:
            raise ConfigError(f"{what} {path}: is {info.st_size} bytes, more than the {limit} allowed")
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ConfigError(f"{what} {path}: is more than the {limit} bytes allowed")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise ConfigError(f"{what} {path}: cannot be read ({err.strerror})") from None
    finally:
        os.close(fd)


def read_stdin(what: str, limit: int) -> bytes:
    """Standard input, whole; closed, unreadable or more than `limit` bytes is one ConfigError."""
    stream = sys.stdin
    if stream is None:  # started with stdin closed (`<&-`)
        raise ConfigError(f"{what}: standard input is closed; pipe it in")
    try:
        buffer = getattr(stream, "buffer", None)
        data = buffer.read(limit + 1) if buffer is not None else stream.read(limit + 1).encode("utf-8")
    except (OSError, ValueError) as err:  # ValueError: a closed file object
        raise ConfigError(f"{what}: standard input cannot be read ({getattr(err, 'strerror', None) or err})") from None
    if len(data) > limit:
        raise ConfigError(f"{what}: standard input is more than the {limit} bytes allowed")
    return data


def utf8(data: bytes, what: str) -> str:
    """`data` as text; bytes that are not UTF-8 are one ConfigError that says where (never what they are)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{what}: is not UTF-8 text (byte {err.start} is not valid)") from None
