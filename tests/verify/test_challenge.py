"""WWW-Authenticate parsing, case by case as distribution's authchallenge.go reads them."""

import random

import pytest

from registry_credentials.verify.challenge import (
    MAX_CHALLENGE_BYTES,
    MAX_CHALLENGES,
    Challenge,
    ignored,
    parse_challenge,
    parse_challenges,
)

CASES = [
    ('Basic realm="Registry Realm"', Challenge("basic", {"realm": "Registry Realm"})),
    (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
        Challenge("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io"}),
    ),
    (
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"',
        Challenge("bearer", {"realm": "https://ghcr.io/token", "service": "ghcr.io",
                             "scope": "repository:user/image:pull"}),
    ),
    ('BEARER Realm="https://r.example/token" , Service=svc',
     Challenge("bearer", {"realm": "https://r.example/token", "service": "svc"})),
    ('Bearer realm="a\\"b\\\\c"', Challenge("bearer", {"realm": 'a"b\\c'})),
    ('Bearer realm="unterminated', Challenge("bearer", {})),
    ("Basic", Challenge("basic", {})),
    ('Bearer realm="x", bad', Challenge("bearer", {"realm": "x"})),
]


@pytest.mark.parametrize("header, expected", CASES, ids=[c[0][:30] for c in CASES])
def test_parse_challenge(header, expected):
    assert parse_challenge(header) == expected


def test_token_values_stop_at_separators():
    # An unquoted value is a token: the ":" ends it, and the rest of the line is no longer a parameter list.
    assert parse_challenge("Bearer realm=https://r.example/token") == Challenge("bearer", {"realm": "https"})


def test_one_challenge_per_header_line_and_garbage_skipped():
    assert parse_challenges(['Basic realm="r"', "", '  "quoted-first"', 'Bearer realm="t"']) == [
        Challenge("basic", {"realm": "r"}), Challenge("bearer", {"realm": "t"})]


# The literal port this parser replaced (it sliced the rest of the line at every step: quadratic), kept as the
# oracle of what distribution's authchallenge.go reads: the index-based parser must read every line the same.
def _reference(header: str):
    separators = set(" \t\"(),/:;<=>?@[]\\{}")

    def token(text):
        index = 0
        while index < len(text) and 32 < ord(text[index]) < 127 and text[index] not in separators:
            index += 1
        return text[:index], text[index:]

    def skip(text):
        return text.lstrip(" \t\r\n")

    def token_or_quoted(text):
        if not text.startswith('"'):
            return token(text)
        value, escaped = [], False
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
        return "", ""

    scheme, rest = token(header)
    if not scheme:
        return None
    params = {}
    rest = "," + skip(rest)
    while rest.startswith(","):
        key, rest = token(skip(rest[1:]))
        if not key or not rest.startswith("="):
            break
        value, rest = token_or_quoted(rest[1:])
        if not value:
            break
        params[key.lower()] = value
        rest = skip(rest)
    return Challenge(scheme.lower(), params)


def _random_headers(count: int):
    rng = random.Random(17)
    pieces = ["Bearer", "Basic", " ", "\t", ",", "=", '"', "\\", "realm", "Service", "x", "é", ":", "/", "a b",
              '\\"', "==", ",,", '""', "\r\n"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30))) for _ in range(count)]


def test_the_parser_reads_every_line_as_the_literal_port_of_distribution_does():
    headers = [*(c[0] for c in CASES), *_random_headers(2000)]
    assert [h for h in headers if parse_challenge(h) != _reference(h)] == []


@pytest.mark.parametrize("size, parsed", [(MAX_CHALLENGE_BYTES, True), (MAX_CHALLENGE_BYTES + 1, False)])
def test_a_line_longer_than_the_limit_is_ignored(size, parsed):
    header = 'Bearer realm="' + "x" * (size - len('Bearer realm=""')) + '"'
    assert len(header) == size
    assert (parse_challenge(header) is not None) is parsed


@pytest.mark.parametrize("count, parsed", [(MAX_CHALLENGES, True), (MAX_CHALLENGES + 1, False)])
def test_only_the_first_lines_are_read(count, parsed):
    lines = ["Negotiate"] * (count - 1) + ['Basic realm="r"']
    assert (Challenge("basic", {"realm": "r"}) in parse_challenges(lines)) is parsed
    assert ignored(lines) is not parsed


def test_a_hostile_line_of_many_parameters_reads_to_its_end():
    assert parse_challenge("Bearer " + "a=b," * 2000 + "realm=r") == Challenge("bearer", {"a": "b", "realm": "r"})
