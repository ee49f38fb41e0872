"""Strings as Go has them: bytes, round-tripping through Python strings with the `surrogateescape` handler."""

import json


def to_bytes(s: str) -> bytes:
    """A Python string as the bytes of the Go string it stands for."""
    # Go strings are bytes; lone surrogates cannot come out of Go's JSON decoder (it writes U+FFFD instead).
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        fixed = "".join(
            "\ufffd" if "\ud800" <= ch <= "\udfff" and not "\udc80" <= ch <= "\udcff" else ch for ch in s
        )
        return fixed.encode("utf-8", "surrogateescape")


def to_str(b: bytes) -> str:
    """Go string bytes as a Python string (undecodable bytes kept as surrogates)."""
    return b.decode("utf-8", "surrogateescape")


def go_quote(s: str) -> str:
    """Close enough to Go's %q, for error messages."""
    return json.dumps(s, ensure_ascii=False)
