"""Parse `WWW-Authenticate` challenges the way distribution's registry client does, within fixed bounds.

Ported from distribution/distribution registry/client/auth/challenge/authchallenge.go (parseAuthHeader,
parseValueAndParams): one challenge per header line, the scheme and parameter names lowercased, values either
tokens or quoted strings with backslash escapes. A malformed parameter ends that challenge's parameter list.
The port walks each line once by index, a token or quoted string at a time (slicing off the rest of the line at
every step, as a literal port of Go's `s = s[1:]` does, copies it each time: quadratic, 76 ms for one hostile
64 KiB line), and reads only the first MAX_CHALLENGES lines of at most MAX_CHALLENGE_BYTES each (http.client
accepts 100 lines of 64 KiB): bench/verify_bench.py --challenges measures the worst case.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

MAX_CHALLENGE_BYTES = 8 * 1024
"""Longest `WWW-Authenticate` line parsed; a longer one is ignored. Registries send a few hundred bytes (a realm,
a service and at most a scope)."""
MAX_CHALLENGES = 8
"""`WWW-Authenticate` lines of one response parsed; the rest are ignored."""

# A token is visible ASCII but the separators " \t\"(),/:;<=>?@[]\\{}"; a quoted string may escape any character.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
_SPACE = re.compile(r"[ \t\r\n]*")
_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Challenge:
    """One auth challenge: a lowercase scheme (`basic`, `bearer`) and its lowercase-named parameters."""

    scheme: str
    params: Dict[str, str] = field(default_factory=dict)


def _skip_space(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr] -- `*` always matches


def _token_end(text: str, index: int) -> int:
    return _TOKEN.match(text, index).end()  # type: ignore[union-attr]


def _token_or_quoted(text: str, index: int) -> Tuple[str, int]:
    """The value at `index` and the index after it; ("", len) for an unterminated quote, as Go returns ("", "")."""
    if not text.startswith('"', index):
        end = _token_end(text, index)
        return text[index:end], end
    quoted = _QUOTED.match(text, index)
    if quoted is None:
        return "", len(text)
    return _ESCAPE.sub(r"\1", quoted.group(1)), quoted.end()


def parse_challenge(header: str) -> Optional[Challenge]:
    """One header line -> its challenge, or None when it does not start with a scheme token (or is too long)."""
    if len(header) > MAX_CHALLENGE_BYTES:
        return None
    index = _token_end(header, 0)
    scheme = header[:index]
    if not scheme:
        return None
    params: Dict[str, str] = {}
    index = _skip_space(header, index)
    first = True  # Go prepends a "," to the rest of the line and loops while it starts with one
    while first or header.startswith(",", index):
        index = _skip_space(header, index + (0 if first else 1))
        first = False
        end = _token_end(header, index)
        key = header[index:end]
        if not key or not header.startswith("=", end):
            break
        value, index = _token_or_quoted(header, end + 1)
        if not value:
            break
        params[key.lower()] = value
        index = _skip_space(header, index)
    return Challenge(scheme.lower(), params)


def parse_challenges(headers: Iterable[str]) -> List[Challenge]:
    """Every challenge in the first MAX_CHALLENGES `WWW-Authenticate` lines of one response, in order."""
    lines = [line for _, line in zip(range(MAX_CHALLENGES), headers)]
    return [c for c in (parse_challenge(h) for h in lines) if c is not None]


def ignored(headers: Iterable[str]) -> bool:
    """Whether a line of these was ignored for its length or for coming after MAX_CHALLENGES others."""
    lines = list(headers)
    return len(lines) > MAX_CHALLENGES or any(len(line) > MAX_CHALLENGE_BYTES for line in lines[:MAX_CHALLENGES])
