"""Parse `WWW-Authenticate` challenges the way distribution's registry client does."""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

# Ported from distribution/distribution registry/client/auth/challenge/authchallenge.go (parseAuthHeader,
# parseValueAndParams): one challenge per header line, the scheme and parameter names lowercased, values either
# tokens or quoted strings with backslash escapes. A malformed parameter ends that challenge's parameter list.
_SEPARATORS = set(" \t\"(),/:;<=>?@[]\\{}")
_SPACE = set(" \t\r\n")


@dataclass(frozen=True)
class Challenge:
    """One auth challenge: a lowercase scheme (`basic`, `bearer`) and its lowercase-named parameters."""

    scheme: str
    params: Dict[str, str] = field(default_factory=dict)


def _is_token_char(char: str) -> bool:
    code = ord(char)
    return 32 < code < 127 and char not in _SEPARATORS


def _skip_space(text: str) -> str:
    index = 0
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return text[index:]


def _token(text: str) -> Tuple[str, str]:
    index = 0
    while index < len(text) and _is_token_char(text[index]):
        index += 1
    return text[:index], text[index:]


def _token_or_quoted(text: str) -> Tuple[str, str]:
    if not text.startswith('"'):
        return _token(text)
    value: List[str] = []
    escaped = False
    for index, char in enumerate(text[1:], start=1):
        if escaped:
            value.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return "".join(value), text[index + 1:]
        else:
            value.append(char)
    return "", ""  # unterminated quote


def parse_challenge(header: str) -> Optional[Challenge]:
    """One header line -> its challenge, or None when it does not start with a scheme token."""
    scheme, rest = _token(header)
    if not scheme:
        return None
    params: Dict[str, str] = {}
    rest = "," + _skip_space(rest)
    while rest.startswith(","):
        key, rest = _token(_skip_space(rest[1:]))
        if not key or not rest.startswith("="):
            break
        value, rest = _token_or_quoted(rest[1:])
        if not value:
            break
        params[key.lower()] = value
        rest = _skip_space(rest)
    return Challenge(scheme.lower(), params)


def parse_challenges(headers: Iterable[str]) -> List[Challenge]:
    """Every challenge in the `WWW-Authenticate` header lines of one response, in order."""
    return [c for c in (parse_challenge(h) for h in headers) if c is not None]
