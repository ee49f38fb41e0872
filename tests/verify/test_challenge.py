"""WWW-Authenticate parsing, case by case as distribution's authchallenge.go reads them."""

import pytest

from registry_credentials.verify.challenge import Challenge, parse_challenge, parse_challenges

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
