"""A credential written where it does not belong is refused, and never printed: not by the Python API, the stack
program's preview (through the offline render), `verify` or `explain`.

A server may hold one as userinfo (`user:password@host`, which the kubelet's url.Parse accepts and ignores when it
matches) or in a query string; an invalid server is therefore never quoted back, and a problem never shows a
password the configuration holds, wherever else it was also written.
"""

import subprocess
import sys

import pytest

from registry_credentials.config.checker import check_args
from registry_credentials.credentials.servers import userinfo
from registry_credentials.errors import ConfigError
from support.cli import project, run_cli, stack_text

SECRET = "Hunter2-S3cret-pw"

SERVERS = {
    "userinfo": f"bob:{SECRET}@harbor.example.com",
    "userinfo with a scheme and a path": f"https://bob:{SECRET}@harbor.example.com/team",
    "password as the only userinfo": f"{SECRET}@harbor.example.com",
    "userinfo and a newline": f"https://bob:{SECRET}@harbor.example.com\n",
    "token in a query string": f"harbor.example.com/v2/?token={SECRET}",
    "token in a fragment": f"harbor.example.com#{SECRET}",
    "token after a space": f"harbor.example.com {SECRET}",
}


def refusal(**registry) -> str:
    entry = {"server": "harbor.example.com", "username": "robot", "password": "pw-not-shown", **registry}
    with pytest.raises(ConfigError) as raised:
        check_args({"registries": [entry], "namespaces": [{"name": "apps"}], "verify": "off"}, "rc")
    return str(raised.value)


@pytest.mark.parametrize("case", list(SERVERS))
def test_the_python_api_refuses_the_server_without_quoting_it(case):
    message = refusal(server=SERVERS[case])
    assert message.startswith("registries[0].server: ") and SECRET not in message


def test_a_server_with_credentials_says_where_each_one_goes():
    message = refusal(server=SERVERS["userinfo"])
    assert "holds credentials (user:password@host)" in message and "username" in message


def test_no_problem_shows_a_password_of_the_configuration_wherever_else_it_is_written():
    # A valid server that happens to hold the password (pasted into the path): another problem of the same
    # registry names it by its server, but never shows the password.
    message = refusal(server=f"harbor.example.com/{SECRET}", username="", password=SECRET)
    assert message.startswith("registries[0] (harbor.example.com/***).username: ") and SECRET not in message


@pytest.mark.parametrize("case", list(SERVERS))
def test_verify_refuses_the_server_without_quoting_it(case):
    result = subprocess.run([sys.executable, "-m", "registry_credentials", "verify", "--server", SERVERS[case],
                             "--username", "robot", "--password-stdin"], input="pw\n", capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("error: registries[0].server: ")
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("case", ["userinfo", "userinfo with a scheme and a path", "token in a query string"])
def test_the_stack_programs_preview_refuses_the_server_without_quoting_it(tmp_path, case):
    server = SERVERS[case].replace("\\", "\\\\").replace('"', '\\"')
    text = stack_text(f'registry-credentials:registries: [{{name: h, server: "{server}", username: u}}]',
                      registries=False)
    result = run_cli("render", "--stack", "t", cwd=project(tmp_path, text))
    assert result.returncode == 2 and "error: registries[0].server: " in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("key", [
    f"https://bob:{SECRET}@harbor.example.com", f"bob:{SECRET}@harbor.example.com",
    f'https://bob:{SECRET}"\\@harbor.example.com',  # a userinfo Go refuses: the message quotes the key
])
@pytest.mark.parametrize("json_report", [False, True])
def test_explain_never_prints_the_userinfo_of_a_key(key, json_report):
    result = run_cli("explain", *(["--json"] if json_report else []), "--key", key, "harbor.example.com/app")
    assert result.returncode in (0, 1) and "***@harbor.example.com" in result.stdout
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("text, info", [
    ("harbor.example.com", ""), ("u:p@h.io", "u:p"), ("https://u:p@h.io/x@y", "u:p"), ("h.io/x@y", ""),
    ("https://a@b@h.io", "a@b"), ("h.io?q=a@b", ""), ("h.io#a@b", ""),
])
def test_userinfo_is_what_go_url_parse_reads_before_the_host(text, info):
    assert userinfo(text) == info
