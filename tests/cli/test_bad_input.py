"""Bad stack files, settings and flags: one message naming the key as written, exit code 2, nothing written or lost.

The CLIs run as real processes; every run is also checked for tracebacks and "Exception ignored" noise.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from registry_credentials.cli.main import build_parser
from support.cli import project, run_cli, stack_text
from support.stack import PROJECT_DIR

T = "registry-credentials"
ALIAS_BOMB = "config:\n  x:y0: &a0 [a, a, a, a, a, a, a, a, a]\n" + "".join(
    f"  x:y{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))

# (id, stack file text, message expected in the one error line)
BAD_STACK_FILES = [
    ("invalid-yaml", "config:\n  a: [1,\n", "invalid YAML at line 3"),
    ("duplicate-key", stack_text(f"{T}:namespaces: [other]"), f'found duplicate key "{T}:namespaces"'),
    ("top-level-list", "- config\n", "must be a mapping with a `config:` section"),
    ("config-not-mapping", "config: [1]\n", "`config:` must be a mapping"),
    ("key-without-namespace", stack_text("registries: []"),
     "config key 'registries' must be written <namespace>:<name>, e.g. registry-credentials:registries"),
    ("not-utf8", None, "is not UTF-8 text"),
    ("alias-bomb", ALIAS_BOMB, "expands to more than 200000 values"),
    ("deep-nesting", "config:\n  x:y: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels deep"),
    ("recursion-deep-nesting", "config:\n  x:y: " + "[" * 500 + "]" * 500 + "\n", "nested too deeply"),
    # Unknown keys, with the closest spelling as the user would write it.
    ("unknown-top-level", stack_text(f"{T}:nodebootstrap: {{enabled: true}}"),
     f"{T}:nodebootstrap: unknown setting (did you mean 'nodeBootstrap'?)"),
    ("unknown-namespace-key", stack_text(f"{T}:namespaces: [{{name: apps, defaultServiceaccount: false}}]",
                                         namespaces=False),
     "namespaces[0].defaultServiceaccount: unknown setting (did you mean 'defaultServiceAccount'?)"),
    ("unknown-registry-key", stack_text(f"{T}:registries: [{{name: h, server: r.io, username: u, cafile: x}}]",
                                        registries=False),
     "registries[0] (r.io).cafile: unknown setting (did you mean 'caFile'?)"),
    ("unknown-node-key", stack_text(f"{T}:nodeBootstrap: {{enabled: true, maxsurge: 5}}"),
     "nodeBootstrap.maxsurge: unknown setting (did you mean 'maxSurge'?)"),
    ("unknown-toleration-key", stack_text(f"{T}:nodeBootstrap: {{enabled: true, tolerations: [{{opertor: Exists}}]}}"),
     "nodeBootstrap.tolerations[0].opertor: unknown setting (did you mean 'operator'?)"),
    # On/off settings: YAML 1.2 booleans or the text true/false; `off`/`no`/`yes` are strings in YAML 1.2.
    ("enabled-off", stack_text(f"{T}:nodeBootstrap: {{enabled: off}}"),
     "nodeBootstrap.enabled: must be true or false, not 'off'"),
    ("enabled-yes", stack_text(f"{T}:nodeBootstrap: {{enabled: yes}}"),
     "nodeBootstrap.enabled: must be true or false, not 'yes'"),
    ("enabled-number", stack_text(f"{T}:nodeBootstrap: {{enabled: 1}}"),
     "nodeBootstrap.enabled: must be true or false, not 1"),
    ("create-namespace-no", stack_text(f"{T}:nodeBootstrap: {{enabled: true, createNamespace: no}}"),
     "nodeBootstrap.createNamespace: must be true or false, not 'no'"),
    ("namespace-create-string", stack_text(f"{T}:namespaces: [{{name: apps, create: 'enabled'}}]", namespaces=False),
     "namespaces[0].create: must be true or false, not 'enabled'"),
    ("registry-insecure", stack_text(f"{T}:registries: [{{name: h, server: r.io, username: u, insecure: on}}]",
                                     registries=False),
     "registries[0] (r.io).insecure: must be true or false, not 'on'"),
    ("verify-value", stack_text(f"{T}:verify: maybe"), "verify: must be one of warn, fail, off, not 'maybe'"),
    ("foreign-pull-secrets", stack_text(f"{T}:namespaces: [{{name: apps, foreignPullSecrets: drop}}]",
                                        namespaces=False),
     "namespaces[0].foreignPullSecrets: must be one of fail, keep, not 'drop'"),
    # Passwords: what only the file shows, and what the program refuses too.
    ("plaintext-next-to-secure", stack_text(f"{T}:passwords: {{harbor: {{secure: AAAAcipher}}, quay: plain-pw}}"),
     "passwords.quay: is stored in plain text next to secret ones"),
    ("passwords-key-newline", stack_text(f'{T}:passwords: {{"harbor\\n": {{secure: AAAAcipher}}}}'),
     "passwords.'harbor\\n': no registry has this name"),
    ("plaintext-passwords", stack_text(f"{T}:passwords: {{harbor: plain-pw}}"), "passwords: is stored in plain text"),
    # Names and values: full-string matches, no control characters, sane node settings.
    ("namespace-trailing-newline", stack_text(f'{T}:namespaces: ["apps\\n"]', namespaces=False),
     "namespaces[0].name: 'apps\\n' is not a valid name"),
    ("server-trailing-newline", stack_text(f'{T}:registries: [{{name: h, server: "r.io\\n", username: u}}]',
                                           registries=False),
     "registries[0].server: contains a control character"),
    ("username-control-char", stack_text(f'{T}:registries: [{{name: h, server: r.io, username: "ro\\u0007bot"}}]',
                                         registries=False),
     "registries[0] (r.io).username: contains a control character"),
    ("registry-name-newline", stack_text(f'{T}:registries: [{{name: "h\\n", server: r.io, username: u}}]',
                                         registries=False),
     "registries[0].name: set a short id"),
    ("secret-name", stack_text(f"{T}:secretName: Bad_Name"), "secretName: 'Bad_Name' is not a valid Kubernetes"),
    ("max-surge-absurd", stack_text(f"{T}:nodeBootstrap: {{enabled: true, maxSurge: 100000}}"),
     "nodeBootstrap.maxSurge: must be a count from 1 to 5000"),
    ("toleration-operator", stack_text(f"{T}:nodeBootstrap: {{enabled: true, tolerations: [{{operator: Exist}}]}}"),
     "nodeBootstrap.tolerations[0].operator: must be Exists or Equal, not 'Exist'"),
    ("toleration-effect", stack_text(f"{T}:nodeBootstrap: {{enabled: true, tolerations: [{{operator: Exists, "
                                     "effect: NoScedule}]}"),
     "nodeBootstrap.tolerations[0].effect: must be one of NoSchedule"),
    ("snake-case-in-stack-file", stack_text(f"{T}:nodeBootstrap: {{enabled: true, kubelet_root_dir: /x}}"),
     "nodeBootstrap.kubelet_root_dir: unknown setting (did you mean 'kubeletRootDir'?)"),
    ("camel-case-in-component-check", stack_text(
        f"{T}:namespaces: [{{name: apps, patchServiceAccounts: [ci], serviceAccounts: [ci]}}]", namespaces=False),
     "'ci' is in both serviceAccounts and patchServiceAccounts"),
]


@pytest.mark.parametrize("name, text, message", BAD_STACK_FILES, ids=[c[0] for c in BAD_STACK_FILES])
def test_bad_stack_file_is_one_error_and_exit_2_for_render_and_explain(tmp_path, name, text, message):
    root = project(tmp_path, text)
    stack_file = root / "stacks" / "Pulumi.t.yaml"
    if text is None:
        stack_file.write_bytes(b"config:\n  registry-credentials:namespaces: [\xff]\n")
    before = stack_file.read_bytes()
    out = tmp_path / "out"
    result = run_cli("render", "--stack", "t", "--out", str(out), cwd=root)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert stack_file.read_bytes() == before
    if "passwords" not in name:  # explain reads no passwords; everything else it refuses the same way
        explained = run_cli("explain", "--stack", "t", "nginx", cwd=root)
        assert explained.returncode == 2 and message in explained.stderr, explained.stderr


def _documents(text: str) -> list:
    return [d for d in yaml.safe_load_all(text) if d]


# (id, nodeBootstrap setting as written, whether the DaemonSet exists)
ON_OFF = [
    ("string-false", "{enabled: 'false'}", False),
    ("string-False", '{enabled: "False"}', False),
    ("string-TRUE", "{enabled: 'TRUE'}", True),
    ("yaml-true", "{enabled: true}", True),
    ("absent", "{image: python:3.13-alpine}", False),
]


@pytest.mark.parametrize("name, setting, on", ON_OFF, ids=[c[0] for c in ON_OFF])
def test_on_off_settings_never_switch_on_by_truthiness(tmp_path, name, setting, on):
    root = project(tmp_path, stack_text(f"{T}:nodeBootstrap: {setting}"))
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in _documents(result.stdout)]
    assert ("DaemonSet" in kinds) is on
    explained = run_cli("explain", "--stack", "t", "harbor.example.com/app", cwd=root)
    assert explained.returncode == 0
    assert ("node file: harbor.example.com" in explained.stdout) is on


def test_yaml_1_2_strings_and_new_settings_are_accepted(tmp_path):
    # `off` is the string "off" in YAML 1.2 (Pulumi's yaml.v3); PyYAML would have read it as false.
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")  # the program refuses a caFile it cannot read; the check itself never runs in render
    root = project(tmp_path, stack_text(
        f"{T}:verify: off",
        f"{T}:registries: [{{name: harbor, server: harbor.example.com, username: robot, verify: warn, "
        f"caFile: {ca_file}, insecure: 'FALSE'}}]",
        f"{T}:namespaces: [{{name: apps, patchServiceAccounts: [ci], foreignPullSecrets: keep}}]",
        registries=False, namespaces=False))
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 0, result.stderr
    assert {d["kind"] for d in _documents(result.stdout)} == {"Secret", "ServiceAccount"}


def test_passwords_as_one_secure_value_render_with_a_note(tmp_path):
    root = project(tmp_path, stack_text(f"{T}:passwords: {{secure: AAABcipherNeverShown}}"))
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "passwords is one secure value" in result.stderr
    assert "AAABcipherNeverShown" not in result.stdout + result.stderr
    (secret,) = [d for d in _documents(result.stdout) if d["kind"] == "Secret"]
    assert secret["data"] == {".dockerconfigjson": "[secret]"}


def test_warnings_for_uppercase_servers_and_untagged_agent_images(tmp_path):
    root = project(tmp_path, stack_text(
        f"{T}:registries: [{{name: harbor, server: Harbor.Example.com, username: robot}}]",
        f"{T}:nodeBootstrap: {{enabled: true, image: harbor.example.com:5000/python}}", registries=False))
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "the host has uppercase letters; the kubelet matches hosts case-sensitively" in result.stderr
    assert "image 'harbor.example.com:5000/python' has no tag or digest" in result.stderr


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


# (id, argv builder, message) for files, directories and flags the CLIs are given
BAD_ARGUMENTS = [
    ("node-file-missing", lambda p: ["explain", "--node-file", str(p / "nope.json"), "nginx"], "no such file"),
    ("node-file-directory", lambda p: ["explain", "--node-file", str(p), "nginx"], "is a directory, not a file"),
    ("node-file-fifo", lambda p: ["explain", "--node-file", str(_fifo(p)), "nginx"], "is not a regular file"),
    ("node-file-not-json", lambda p: ["explain", "--node-file", str(_write(p / "c.json", "{")), "nginx"],
     "is not a JSON config.json"),
    ("node-file-wrong-shape", lambda p: ["explain", "--node-file", str(_write(p / "c.json", '{"auths": []}')),
                                         "nginx"], 'expected a docker config.json, {"auths": {...}}'),
    ("project-dir-without-pulumi-yaml", lambda p: ["render", "--stack", "dev", "--project-dir", str(p)],
     "has no Pulumi.yaml"),
    ("project-dir-missing", lambda p: ["render", "--stack", "dev", "--project-dir", str(p / "x")], "does not exist"),
    ("project-dir-is-file", lambda p: ["render", "--stack", "dev", "--project-dir", str(_write(p / "f", "x"))],
     "is not a directory"),
    ("stack-file-is-fifo", lambda p: ["render", "--stack", "t", "--project-dir", str(_fifo_stack(p))],
     "is not a regular file"),
    ("stack-file-is-directory", lambda p: ["render", "--stack", "t", "--project-dir", str(_dir_stack(p))],
     "is a directory, not a file"),
    ("stack-file-unreadable", lambda p: ["render", "--stack", "t", "--project-dir", str(_unreadable_stack(p))],
     "permission denied; make it readable"),
    ("node-file-unreadable", lambda p: ["explain", "--node-file", str(_unreadable(p)), "nginx"],
     "permission denied"),
    ("stack-name-path", lambda p: ["render", "--stack", "../x"], "give a stack name such as dev"),
    ("pulumi-yaml-invalid", lambda p: ["render", "--stack", "t", "--project-dir", str(_bad_project(p))],
     "not a Pulumi project file"),
    ("no-keys", lambda p: ["explain", "nginx"], "give --stack NAME, or keys"),
    ("unknown-flag", lambda p: ["explain", "--nope", "nginx"], "unrecognized arguments: --nope"),
    ("no-command", lambda p: [], "required: COMMAND"),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _fifo_stack(tmp_path: Path) -> Path:
    root = project(tmp_path)
    os.mkfifo(root / "stacks" / "Pulumi.t.yaml")
    return root


def _dir_stack(tmp_path: Path) -> Path:
    root = project(tmp_path)
    (root / "stacks" / "Pulumi.t.yaml").mkdir()
    return root


def _unreadable(tmp_path: Path) -> Path:
    """A file this process cannot read: chmod 000, or for root (which reads those) a write-only procfs file."""
    if os.geteuid() != 0:
        path = _write(tmp_path / "unreadable", "{}")
        path.chmod(0)
        return path
    path = Path("/proc/sys/vm/compact_memory")
    assert path.exists(), "no write-only file to test with: run as non-root or on a kernel with compaction"
    return path


def _unreadable_stack(tmp_path: Path) -> Path:
    root = project(tmp_path)
    (root / "stacks" / "Pulumi.t.yaml").symlink_to(_unreadable(tmp_path))
    return root


def _bad_project(tmp_path: Path) -> Path:
    root = project(tmp_path, stack_text())
    (root / "Pulumi.yaml").write_text("- just a list\n")
    return root


@pytest.mark.parametrize("name, argv, message", BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_files_directories_and_flags_exit_2_without_traceback(tmp_path, name, argv, message):
    result = run_cli(*argv(tmp_path))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_explain_exit_codes_are_distinct():
    assert run_cli("explain", "--stack", "dev", "nginx").returncode == 0
    assert run_cli("explain", "--stack", "dev", "quay.io/x/y").returncode == 1
    invalid = run_cli("explain", "--stack", "dev", "quay.io/x/y", "Nginx:latest")
    assert invalid.returncode == 3 and "Nginx:latest: not a valid image reference" in invalid.stdout


def test_explain_json_report_for_ci():
    result = run_cli("explain", "--json", "--stack", "dev", "nginx:1.27", "quay.io/x/y", "bad image")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["exitCode"] == 3
    nginx, quay, bad = report["images"]
    assert nginx == {"image": "nginx:1.27", "valid": True, "repository": "docker.io/library/nginx", "covered": True,
                     "pod": [{"key": "https://index.docker.io/v1/", "dockerHubFallback": True,
                              "registry": "registries[1] (docker.io)", "username": "example-ci"}], "node": []}
    assert quay["covered"] is False and quay["pod"] == []
    assert bad["valid"] is False and "invalid reference format" in bad["error"]


def test_explain_never_prints_a_control_character_from_its_arguments():
    result = run_cli("explain", "--key", "r.io", "r.io/app\nforged: line")
    assert result.returncode == 3
    assert "forged: line" not in result.stdout.splitlines()
    assert all(line.isprintable() for line in result.stdout.splitlines())


def test_version_is_the_installed_distributions():
    from importlib import metadata

    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"registry-credentials {metadata.version('registry-credentials')}"


AGENT = Path(__file__).resolve().parents[2] / "components" / "registry_credentials" / "node" / "agent.py"
# (command, the exit codes its --help must list, a piece of the example for each common task)
HELP = [
    ([], [0, 1, 2, 3, 70], ["render --stack dev", "explain --stack dev", "verify --server"]),
    (["render"], [0, 2, 70], ["render --stack dev", "-o json", "--out ", "--project-dir "]),
    (["explain"], [0, 1, 2, 3, 70], ["explain --stack dev", "--json", "--node-file ", "--key "]),
    (["verify"], [0, 1, 2, 3, 70], ["--password-stdin", "--config-json -", "--json", "--ca-file "]),
    (["agent"], [0, 1, 2, 3, 4, 70], ["--interval 60", "--once"]),
]


def help_sections(text: str) -> Tuple[List[int], List[str]]:
    """The codes listed under `exit codes:` and the commands under `examples:` (continued lines joined)."""
    codes, examples, section = [], [], None
    for line in text.replace("\\\n", " ").splitlines():
        if line.rstrip(":") in ("exit codes", "examples"):
            section = line.rstrip(":")
        elif not line.strip():
            section = None
        elif section == "exit codes":
            codes.append(int(line.split()[0]))
        elif section == "examples":
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):  # a comment line introduces the example below it
                examples.append(command)
    return codes, examples


@pytest.mark.parametrize("command, codes, tasks", HELP, ids=[" ".join(h[0]) or "top" for h in HELP])
def test_every_help_lists_its_exit_codes_and_an_example_per_common_task(command, codes, tasks):
    if command == ["agent"]:
        shown = subprocess.run([sys.executable, str(AGENT), "--help"], capture_output=True, text=True, timeout=60)
    else:
        shown = run_cli(*command, "--help")
    assert shown.returncode == 0, shown.stderr
    listed, examples = help_sections(shown.stdout)
    assert listed == codes
    for task in tasks:
        assert any(task in example for example in examples), (task, examples)
    for example in examples:  # each example is a command line the parser takes
        words = shlex.split(example.split("| ")[-1])
        if command == ["agent"]:
            assert words[:2] == ["python3", "node_agent.py"], example
            continue
        assert words[0] == "registry-credentials", example
        build_parser().parse_args(words[1:])
    assert codes == sorted(set(codes))


def test_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    process = subprocess.Popen([sys.executable, "-m", "registry_credentials", "render", "--stack", "prod"],
                               cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(10)
    process.stdout.close()  # the reader goes away, like `| head -c 10`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr


def test_yaml_errors_never_echo_values(tmp_path):
    # ruamel's duplicate-key message quotes both values; one of them may be a password typed in plain text.
    root = project(tmp_path, stack_text(f"{T}:passwords: {{harbor: Plain-Pa55word}}",
                                        f"{T}:passwords: {{harbor: Other-Pa55word}}"))
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 2 and 'found duplicate key "registry-credentials:passwords"' in result.stderr
    assert "Pa55word" not in result.stderr + result.stdout


# (id, shell redirection of the CLI's output, exit code, message on stderr)
OUTPUT_TROUBLE = [
    ("stdout-full", "> /dev/full", 2, "error: cannot write the output: No space left on device"),
    ("stdout-closed", ">&-", 0, ""),
    ("both-closed", ">&- 2>&-", 0, None),
]


@pytest.mark.parametrize("name, redirect, code, message", OUTPUT_TROUBLE, ids=[c[0] for c in OUTPUT_TROUBLE])
def test_output_that_cannot_be_written_is_not_a_crash(tmp_path, name, redirect, code, message):
    import shlex
    import subprocess
    import sys

    command = f"{shlex.quote(sys.executable)} -m registry_credentials explain --key r.io r.io/app {redirect}"
    # Report the exit code through a file: the command's own stdout and stderr are what is being broken.
    rc_file = tmp_path / "rc"
    err_file = tmp_path / "err"
    redirect_err = "" if "2>" in redirect else f" 2> {shlex.quote(str(err_file))}"
    subprocess.run(["bash", "-c", f"{command}{redirect_err}; echo $? > {shlex.quote(str(rc_file))}"],
                   cwd=PROJECT_DIR, stdin=subprocess.DEVNULL, timeout=60, check=True)
    assert int(rc_file.read_text()) == code
    stderr = err_file.read_text() if err_file.exists() else ""
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    if message:
        assert message in stderr


GOOD_VALUES = {"registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot"}],
               "passwords": {"harbor": "S3cret-pw"}, "namespaces": ["apps"]}
# The same mistakes given to the program through pulumi.Config and to render through a stack file.
PARITY = [
    {"nodeBootstrap": {"enabled": "off"}},
    {"nodebootstrap": {"enabled": True}},
    {"namespaces": [{"name": "apps", "defaultServiceaccount": False}]},
    {"namespaces": [{"name": "apps", "serviceAccounts": ["ci"], "patchServiceAccounts": ["ci"]}]},
    {"registries": [{"name": "harbor", "server": "harbor.example.com", "username": "ro\u0001bot"}]},
    {"registries": [{"name": "harbor", "server": "h.io", "username": "u", "insecure": "maybe"}]},
    {"nodeBootstrap": {"enabled": True, "maxSurge": "0"}},
    {"nodeBootstrap": {"enabled": True, "tolerations": [{"operator": "Equal"}]}},
    {"secretName": "Pull"},
    {"verify": "never"},
]


@pytest.mark.parametrize("change", PARITY, ids=[json.dumps(c)[:40] for c in PARITY])
def test_render_refuses_exactly_what_the_program_refuses(tmp_path, change):
    from registry_credentials import ConfigError
    from support.stack import run_stack_program

    values = {**GOOD_VALUES, **change}
    with pytest.raises(ConfigError) as raised:
        run_stack_program(values)
    lines = [f"  {T}:{key}: {json.dumps(value)}" for key, value in values.items() if key != "passwords"]
    lines.append(f"  {T}:passwords: {{harbor: {{secure: AAAAcipher}}}}")
    root = project(tmp_path, "config:\n" + "\n".join(lines) + "\n")
    result = run_cli("render", "--stack", "t", cwd=root)
    assert result.returncode == 2
    assert f"error: {raised.value}" in result.stderr.splitlines()
