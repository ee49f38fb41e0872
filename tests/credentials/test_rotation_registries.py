"""A rotation against real registries: the old account valid, then both, then only the new one.

At each step the credentials the kubelet would try, in its order (Go's, from support/kubelet_oracle.py `tried`),
come from what the component renders (the pull Secret and `-previous`, and the node file), and each is pulled with,
alone, by skopeo: one the registry accepts is always among them, and the current one is tried first from pull
Secrets. The token-auth registry's handshake is checked with the same credentials as verify does it.
"""

import base64
import datetime
import json
from pathlib import Path

from registry_credentials.checks.problems import Problems
from registry_credentials.credentials.registries import check_registries
from registry_credentials.verify.login import ACCEPTED, REJECTED, Target, check
from support import kubelet_oracle
from support.rotating_registry import rotating_registry
from support.tls_registry import running_tls_registry

OLD = ("robot$app+old", "Old:p@ss<&>é")
NEW = ("robot$app+new", "New:p@ss<&>é")
WINDOW = datetime.date(2026, 12, 10)


def rendered(host: str, now: datetime.date):
    problems = Problems()
    registries = check_registries([{"server": host, "username": NEW[0], "password": NEW[1],
                                    "previous": {"username": OLD[0], "password": OLD[1], "until": "2026-12-20"}}],
                                  problems, now=now)
    assert problems.found == []
    return registries


def pulls_with(registry, username: str, password: str, tmp_path: Path) -> bool:
    """skopeo inspect with an authfile holding this one credential (skopeo reads only `auth`)."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    authfile = tmp_path / f"auth-{username.replace('$', '_')}.json"
    authfile.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    return registry.as_user(username, password).inspect(authfile).returncode == 0


# (accounts the registry accepts, the date, what the pull Secrets make the kubelet try in order)
STEPS = [
    ("old only", [OLD], WINDOW, [NEW, OLD]),
    ("both", [OLD, NEW], WINDOW, [NEW, OLD]),
    ("new only", [NEW], WINDOW, [NEW, OLD]),
    ("new only, after the window", [NEW], datetime.date(2026, 12, 21), [NEW]),
]


def test_every_step_of_a_rotation_pulls(tmp_path: Path):
    passwords = {kubelet_oracle.digest(p): p for _, p in (OLD, NEW)}
    with rotating_registry(tmp_path / "registry") as registry:
        registry.accept(dict([OLD]))
        registry.push(*OLD)
        repository = f"{registry.host}/tiny"
        for what, accepted, today, expected in STEPS:
            registry.accept(dict(accepted))
            registries = rendered(registry.host, today)
            secrets = [registries.rendered] + ([registries.rendered_previous] if registries.rotating else [])
            (order,) = kubelet_oracle.tried(repository, secrets=secrets)
            assert [(user, passwords[digest]) for _, user, digest in order] == expected, what
            outcomes = [pulls_with(registry, user, passwords[digest], tmp_path) for _, user, digest in order]
            assert outcomes == [pair in accepted for pair in expected], what
            assert any(outcomes), f"{what}: no credential the kubelet tries from pull Secrets is accepted"
            # Method 1: the node file, in every order the kubelet may try it.
            for node_order in kubelet_oracle.tried(repository, node=registries.rendered_node):
                assert any(pulls_with(registry, user, passwords[digest], tmp_path)
                           for _, user, digest in node_order), f"{what}: node file"
        assert not pulls_with(registry, *OLD, tmp_path)  # the old account is really gone at the end


def test_a_token_rotation_with_the_same_username_keeps_one_credential_accepted(tmp_path: Path):
    """Docker Hub access tokens: one username, a new token. The token-auth registry (Bearer: the token server checks
    the credentials) old only, then both, then the new one only; verify's handshake is the runtime's login."""
    old, new = ("ci", OLD[1]), ("ci", NEW[1])
    with running_tls_registry(tmp_path / "token", *old, auth="token") as registry:
        for accepted in ([old], [old, new], [new]):
            registry.issuer.accept(*accepted)
            outcomes = [check(Target(f"registries[0] ({registry.host})", registry.host, *candidate,
                                     ca_file=str(registry.ca_file)), 10).outcome for candidate in (new, old)]
            assert outcomes == [ACCEPTED if c in accepted else REJECTED for c in (new, old)]
            assert ACCEPTED in outcomes
