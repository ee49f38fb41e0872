"""render_dockerconfigjson against kubectl, the oracle, byte for byte; and the credential model's errors."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
from typing import Dict, Optional

import pytest

from registry_credentials.credentials.dockerconfig import MAX_SECRET_BYTES
from registry_credentials.credentials.registries import render_dockerconfigjson
from registry_credentials.errors import ConfigError

# (server, username, password, email): each row is run through kubectl and through our renderer.
KUBECTL_CASES = [
    ("registry.example.com", "u", "p", None),
    ("https://index.docker.io/v1/", "test-user", "test-password", None),
    ("my-registry.example:5000", "tiger", "pass1234", "tiger@acme.example"),
    ("localhost:5000", "robot$ci+puller", "p:a:s:s", None),
    ("harbor.example.com", "user", "p<&>é\u2028\u2029", "a<b>&c@example.com"),
    ("harbor.example.com", "us\"er", "back\\slash\"quote'single", None),
    ("harbor.example.com", "用户", "пароль-密码-😀", "ünï@cødé.example"),
    ("harbor.example.com", "ctl", "tab\tnl\ncr\rbs\bff\fesc\x1bdel\x7f", None),
    ("10.0.0.1:443/team", "u", "trailing space ", None),
    ("harbor.example.com", "u", "=" * 3 + "+/base64ish==", ""),
]


def kubectl_dockerconfigjson(server: str, username: str, password: str, email: Optional[str]) -> str:
    """What `kubectl create secret docker-registry --dry-run=client` stores, decoded."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is the oracle for these tests; install it (it ships with this machine image)"
    args = [kubectl, "create", "secret", "docker-registry", "oracle", f"--docker-server={server}",
            f"--docker-username={username}", f"--docker-password={password}", "--dry-run=client", "-o", "json"]
    if email:
        args.append(f"--docker-email={email}")
    env = {"PATH": os.environ.get("PATH", ""), "KUBECONFIG": "/nonexistent", "HOME": "/nonexistent"}
    result = subprocess.run(args, capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, "kubectl failed (its stderr is not shown: it may echo the password)"
    secret = json.loads(result.stdout)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    return base64.b64decode(secret["data"][".dockerconfigjson"]).decode("utf-8")


def registry(server: str, username: str, password: str, email: Optional[str] = None) -> Dict[str, str]:
    """A registry mapping as render_dockerconfigjson takes it."""
    entry = {"server": server, "username": username, "password": password}
    if email is not None:
        entry["email"] = email
    return entry


def same_bytes(ours: str, theirs: str) -> bool:
    """Compare without letting pytest print either side: both hold a (test) password."""
    return hashlib.sha256(ours.encode()).digest() == hashlib.sha256(theirs.encode()).digest()


@pytest.mark.parametrize("case", KUBECTL_CASES, ids=[f"kubectl-{i}" for i in range(len(KUBECTL_CASES))])
def test_one_registry_is_byte_identical_to_kubectl(case):
    ours, expected = render_dockerconfigjson([registry(*case)]), kubectl_dockerconfigjson(*case)
    first_difference = next((i for i, (a, b) in enumerate(zip(ours, expected)) if a != b), min(len(ours), len(expected)))
    assert same_bytes(ours, expected), f"differs from kubectl at character {first_difference}"


def test_several_registries_are_sorted_like_a_go_map_and_always_carry_auth():
    text = render_dockerconfigjson([
        registry("zeta.example.com", "z", "pz"),
        registry("Alpha.example.com", "a", "pa"),
        registry("alpha.example.com", "b", "pb"),
        registry("docker.io", "d", "pd"),
    ])
    auths = json.loads(text)["auths"]
    assert list(auths) == sorted(auths, key=lambda k: k.encode("utf-8"))
    assert list(auths) == ["Alpha.example.com", "alpha.example.com", "https://index.docker.io/v1/", "zeta.example.com"]
    for key, entry in auths.items():
        user, password = base64.b64decode(entry["auth"]).decode().split(":", 1)
        assert (user, password) == (entry["username"], entry["password"])
    assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("server", ["docker.io", "index.docker.io", "https://index.docker.io/v1/",
                                    "registry-1.docker.io", "hub.docker.com", "https://hub.docker.com/",
                                    "https://registry-1.docker.io/v2/", "http://docker.io"])
def test_every_docker_hub_spelling_becomes_the_kubectl_default_key(server):
    auths = json.loads(render_dockerconfigjson([registry(server, "u", "p")]))["auths"]
    assert list(auths) == ["https://index.docker.io/v1/"]


SECRET = "Sup3r-S3cret-pw"

# (registries, text the error must contain): each must raise ConfigError naming the registry and field.
BAD_INPUT = [
    ([], "at least one registry"),
    ([registry("", "u", SECRET)], "registries[0].server"),
    ([registry("   ", "u", SECRET)], "registries[0].server"),
    ([registry("r.example.com", "", SECRET)], "registries[0] (r.example.com).username"),
    ([registry("r.example.com", "a:b", SECRET)], "must not contain ':'"),
    ([registry("r.example.com", "u", "")], "registries[0] (r.example.com).password"),
    ([registry("r.exa mple.com", "u", SECRET)], "registries[0].server: cannot be parsed"),
    ([registry("ftp://r.example.com", "u", SECRET)], "scheme"),
    ([registry("r.example.com:99999", "u", SECRET)], "out of range"),
    ([registry("r.example.com/?x=1", "u", SECRET)], "cannot be parsed"),
    ([registry("r.example.com", "u", SECRET), registry("https://r.example.com/", "v", SECRET)],
     "registries[1] (https://r.example.com/): server is the same registry as registries[0]"),
    ([registry("docker.io", "u", SECRET), registry("hub.docker.com", "v", SECRET)], "same registry"),
    ([{"server": "myacr.azurecr.io", "identitytoken": SECRET}], "00000000-0000-0000-0000-000000000000"),
    ([{"server": "gcr.io", "registrytoken": SECRET}], "oauth2accesstoken"),
    ([{"server": "r.example.com", "username": "u", "pasword": SECRET}], "pasword: unknown setting (did you mean 'password'?)"),
    ([registry("r.example.com", "u", "x" * MAX_SECRET_BYTES)], "over the Secret limit"),
]


@pytest.mark.parametrize("registries, message", BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_is_rejected_with_a_message_naming_the_field(registries, message):
    with pytest.raises(ConfigError) as raised:
        render_dockerconfigjson(registries)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value)
    assert "x" * 100 not in str(raised.value)


def test_identity_token_error_explains_the_kubelet_ignores_it_and_shows_every_username_form():
    with pytest.raises(ConfigError) as raised:
        render_dockerconfigjson([{"server": "123.dkr.ecr.eu-west-1.amazonaws.com", "identitytoken": SECRET}])
    text = str(raised.value)
    assert "kubelet silently ignores" in text
    for username in ("00000000-0000-0000-0000-000000000000", "oauth2accesstoken", "username AWS"):
        assert username in text


def test_the_limit_is_exactly_one_mebibyte_of_rendered_text():
    overhead = len(render_dockerconfigjson([registry("r.example.com", "u", "x")]))
    # The password appears twice: once plain, once inside base64(user:password), i.e. ~7/3 bytes per byte.
    password_len = (MAX_SECRET_BYTES - overhead) * 3 // 7
    text = render_dockerconfigjson([registry("r.example.com", "u", "x" * password_len)])
    assert MAX_SECRET_BYTES - 16 < len(text.encode()) <= MAX_SECRET_BYTES
    with pytest.raises(ConfigError):
        render_dockerconfigjson([registry("r.example.com", "u", "x" * (password_len + 3))])
