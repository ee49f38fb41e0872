"""`python -m registry_credentials verify` as a real process: exit codes, one line per registry, --json, --stack."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from registry_credentials.verify.login import MAX_TIMEOUT
from support.tls_registry import PASSWORD, USERNAME


def run_cli(*args, stdin=""):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-m", "registry_credentials", "verify", *args],
        input=stdin, capture_output=True, text=True, timeout=60, env=env,
    )


def assert_clean(result, *secrets):
    """No secret and no traceback in anything the process printed."""
    for stream in (result.stdout, result.stderr):
        for secret in (PASSWORD, *secrets):
            assert secret not in stream
        assert "Traceback" not in stream


def server_args(registry, *extra):
    return ["--server", registry.host, "--username", USERNAME, "--password-stdin", "--ca-file",
            str(registry.ca_file), *extra]


@pytest.mark.parametrize("fixture", ["tls_basic_registry", "tls_token_registry"])
@pytest.mark.parametrize("password, code, outcome", [(PASSWORD, 0, "accepted"), ("wrong-pass", 1, "rejected")])
def test_server_mode_exit_codes(request, fixture, password, code, outcome):
    registry = request.getfixturevalue(fixture)
    result = run_cli(*server_args(registry), stdin=password + "\n")
    assert result.returncode == code, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{outcome}: registries[0] ({registry.host}) user {USERNAME!r} at {registry.host}: ")
    assert_clean(result, password)


def test_unreachable_exits_3():
    result = run_cli("--server", "127.0.0.1:1", "--username", "u", "--password-stdin", stdin=PASSWORD)
    assert result.returncode == 3
    assert result.stdout.startswith("unreachable: registries[0] (127.0.0.1:1) user 'u' at 127.0.0.1:1: connection")
    assert_clean(result)


def test_wrong_ca_is_unreachable(tls_basic_registry):
    result = run_cli("--server", tls_basic_registry.host, "--username", USERNAME, "--password-stdin", stdin=PASSWORD)
    assert result.returncode == 3 and "TLS failed: certificate verify failed" in result.stdout


def test_json_output(tls_token_registry):
    result = run_cli(*server_args(tls_token_registry, "--json"), stdin=PASSWORD)
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["exitCode"] == 0 and "stack" not in document
    (entry,) = document["results"]
    assert {k: entry[k] for k in ("registry", "key", "username", "outcome")} == {
        "registry": f"registries[0] ({tls_token_registry.host})", "key": tls_token_registry.host,
        "username": USERNAME, "outcome": "accepted"}
    assert_clean(result, *tls_token_registry.issuer.issued)


def pulumi_config_json(*registries, passwords):
    """What `pulumi config --show-secrets --json` prints (pkg/cmd/pulumi/config: configValueJSON)."""
    return json.dumps({
        "registry-credentials:namespaces": {"value": '["apps"]', "objectValue": ["apps"], "secret": False},
        "registry-credentials:registries": {"value": json.dumps(list(registries)), "objectValue": list(registries),
                                            "secret": False},
        "registry-credentials:passwords": {"value": json.dumps(passwords), "objectValue": passwords, "secret": True},
        "registry-credentials:verify": {"value": "fail", "secret": False},
    })


def test_stack_mode_reads_pulumi_config_json_from_stdin(tls_basic_registry, tls_token_registry):
    config = pulumi_config_json(
        {"name": "basic", "server": tls_basic_registry.host, "username": USERNAME,
         "caFile": str(tls_basic_registry.ca_file)},
        {"name": "token", "server": tls_token_registry.host, "username": USERNAME,
         "caFile": str(tls_token_registry.ca_file)},
        {"name": "skipped", "server": "127.0.0.1:1", "username": "u", "verify": "off"},
        passwords={"basic": PASSWORD, "token": "wrong-pass", "skipped": "other-secret"},
    )
    result = run_cli("--stack", "dev", "--config-json", "-", stdin=config)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["accepted", "rejected", "skipped"]
    assert lines[2] == "skipped: registries[2] (127.0.0.1:1) (verify: off)"
    assert_clean(result, "wrong-pass", "other-secret")


def test_stack_mode_from_a_file_with_unreachable(tmp_path, tls_basic_registry):
    path = tmp_path / "config.json"
    path.write_text(pulumi_config_json(
        {"name": "basic", "server": tls_basic_registry.host, "username": USERNAME,
         "caFile": str(tls_basic_registry.ca_file)},
        {"name": "gone", "server": "127.0.0.1:1", "username": "u"},
        passwords={"basic": PASSWORD, "gone": "gone-secret"},
    ))
    result = run_cli("--stack", "dev", "--config-json", str(path), "--json")
    assert result.returncode == 3
    document = json.loads(result.stdout)
    assert document["stack"] == "dev"
    assert [r["outcome"] for r in document["results"]] == ["accepted", "unreachable"]
    assert_clean(result, "gone-secret")


USAGE = [
    ([], "give either --server"),
    (["--server", "r.example.com"], "--username and --password-stdin are required"),
    (["--stack", "dev"], "--config-json FILE|- is required"),
    (["--stack", "dev", "--config-json", "/nonexistent.json"], "--config-json /nonexistent.json: no such file"),
    (["--stack", "dev", "--config-json", "/"], "--config-json /: is a directory"),
    (["--server", "r.example.com", "--username", "u", "--password-stdin", "--timeout", "0"], "at most 600"),
    (["--server", "r.example.com", "--username", "u", "--password-stdin", "--ca-file", "/no/ca.pem"],
     "registries[0] (r.example.com).ca_file: /no/ca.pem is not a readable file"),
    (["--server", "hub docker", "--username", "u", "--password-stdin"], "server: cannot be parsed"),
]


SERVER = ["--server", "r.example.com", "--username", "u", "--password-stdin"]
STACK = ["--stack", "dev", "--config-json", "-"]


def config_json(registries: Any, **extra: Any) -> bytes:
    return json.dumps({"registry-credentials:registries": {"value": json.dumps(registries)}, **extra}).encode()


# Input the CLI cannot use is a usage error (exit 2) with one message, never an internal error (70).
BAD_STDIN = [
    ("stdin closed", SERVER, None, "--password-stdin: standard input is closed"),
    ("stdin closed for --config-json -", STACK, None, "--config-json: standard input is closed"),
    ("a password that is not UTF-8", SERVER, b"\xff\xfepw\n", "--password-stdin: standard input: is not UTF-8 text"),
    ("config JSON that is not UTF-8", STACK, b'{"a": "\xff"}', "--config-json -: is not UTF-8 text"),
    ("a registry name that is a list", STACK, config_json([{"name": ["h"], "server": "r.example.com",
                                                            "username": "u"}]), "registries[0].name: must be"),
    ("a registry name that is an object", STACK, config_json([{"name": {"a": 1}, "server": "r.example.com"}]),
     "registries[0].name: must be"),
    ("a registry name that is missing", STACK, config_json([{"server": "r.example.com"}]),
     "registries[0].name: must be"),
    ("a registry that is a number", STACK, config_json([3]), "registries[0]: expected an object"),
    ("a config entry that is not an object", STACK, b'{"p:registries": 5}', "p:registries: expected an object"),
    ("a config entry that is text", STACK, b'{"p:registries": "objectValue"}', "p:registries: expected an object"),
    ("every problem at once", ["--server", "u:pw-in-server@r.example.com", "--username", "u", "--password-stdin"],
     b"", "2 problems"),
]


@pytest.mark.parametrize("case, args, stdin, message", BAD_STDIN, ids=[c[0] for c in BAD_STDIN])
def test_input_it_cannot_use_is_a_usage_error_not_an_internal_one(case, args, stdin, message):
    result = subprocess.run(
        [sys.executable, "-m", "registry_credentials", "verify", *args], capture_output=True, timeout=60,
        **({"stdin": subprocess.DEVNULL, "pass_fds": ()} if stdin is None else {"input": stdin}),
        **({"preexec_fn": lambda: os.close(0)} if stdin is None else {}),
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr.startswith("error: ") and message in stderr and "Traceback" not in stderr
    assert "pw-in-server" not in stderr


@pytest.mark.parametrize("timeout, code", [(MAX_TIMEOUT, 3), (MAX_TIMEOUT + 0.001, 2), (0.001, 3), (0, 2)])
def test_the_timeout_is_taken_up_to_its_limit(timeout, code):
    result = run_cli("--server", "127.0.0.1:1", "--username", "u", "--password-stdin", "--timeout", repr(timeout),
                     stdin=PASSWORD)
    assert result.returncode == code, result.stderr


@pytest.mark.parametrize("args, message", USAGE, ids=[m[:30] for _, m in USAGE])
def test_usage_errors_exit_2_with_one_message(args, message):
    result = run_cli(*args, stdin=PASSWORD)
    assert result.returncode == 2
    assert message in result.stderr
    assert_clean(result)


def test_secret_password_missing_from_config_json_is_a_usage_error():
    config = json.loads(pulumi_config_json({"name": "h", "server": "r.example.com", "username": "u"},
                                           passwords={"h": PASSWORD}))
    config["registry-credentials:passwords"] = {"secret": True}  # printed without --show-secrets
    result = run_cli("--stack", "dev", "--config-json", "-", stdin=json.dumps(config))
    assert result.returncode == 2 and "--show-secrets" in result.stderr


def test_other_commands_accept_the_verify_settings_in_stack_files(tmp_path):
    """explain and render read stacks/Pulumi.<stack>.yaml: caFile, insecure and verify must not be 'unknown'."""
    project = Path(__file__).resolve().parents[2]
    (tmp_path / "stacks").mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((project / name).read_text())
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(
        "config:\n"
        "  registry-credentials:verify: fail\n"
        "  registry-credentials:registries:\n"
        "    - {name: h, server: 127.0.0.1:1, username: u, caFile: /etc/hostname, insecure: true, verify: fail}\n"
        "  registry-credentials:namespaces: [apps]\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_CREDENTIALS_VERIFY"}
    for command in (["explain", "--stack", "t", "127.0.0.1:1/app:1"], ["render", "--stack", "t"]):
        result = subprocess.run([sys.executable, "-m", "registry_credentials", *command, "--project-dir",
                                 str(tmp_path)], capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        assert "credentials check" not in result.stderr  # render's placeholder passwords are never checked
