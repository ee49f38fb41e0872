"""`python -m registry_credentials render`: the real program, offline, with secrets as a placeholder."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from registry_credentials.cli.render import RENDER_ONLY
from support.records import validate_strict
from support.stack import PROJECT_DIR

CIPHERTEXT = "AAABAJ7mFakeCipherTextThatMustNeverBeShown0123456789"


def render(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    return subprocess.run([sys.executable, "-m", "registry_credentials", "render", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def as_applied(document: dict) -> dict:
    """The object `pulumi up` applies: a manifest marked render-only, with its real apiVersion back."""
    group, _, version = document["apiVersion"].rpartition("/")
    assert group.endswith(RENDER_ONLY), document["apiVersion"]
    group = group[: -len(RENDER_ONLY)].rstrip(".")
    return {**document, "apiVersion": f"{group}/{version}" if group else version}


def test_dev_stack_prints_valid_manifests_with_placeholders():
    result = render("--stack", "dev")
    assert result.returncode == 0, result.stderr
    # Every manifest of this stack holds [secret] or patches an existing object: each is marked render-only.
    documents = [as_applied(d) for d in yaml.safe_load_all(result.stdout) if d]
    assert {(d["kind"], d["metadata"]["namespace"]) for d in documents} >= {("Secret", "apps"), ("Secret", "basic")}
    for document in documents:
        validate_strict(document)
    secrets = [d for d in documents if d["kind"] == "Secret"]
    assert all(d["data"] == {".dockerconfigjson": "[secret]"} for d in secrets)
    assert "passwords.harbor is not set yet" in result.stderr


@pytest.fixture
def project_with_encrypted_secrets(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.enc.yaml").write_text(f"""\
encryptionsalt: v1:FakeSalt==:v1:FakeNonce:FakeTag==
config:
  registry-credentials:registries:
    - name: harbor
      server: hub.docker.com
      username: robot$ci
  registry-credentials:passwords:
    harbor:
      secure: {CIPHERTEXT}
  registry-credentials:namespaces: [apps]
""")
    return tmp_path


def test_encrypted_values_are_never_decrypted_or_shown(project_with_encrypted_secrets: Path):
    out = project_with_encrypted_secrets / "out"
    result = render("--stack", "enc", "--out", str(out), cwd=project_with_encrypted_secrets)
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.yaml"))  # plus render's marker file, which kubectl apply -f skips
    assert [f.name for f in files] == ["00-secret-apps-registry-credentials.yaml",
                                       "01-serviceaccount-apps-default-patch.yaml"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    for f in files:
        validate_strict(as_applied(yaml.safe_load(f.read_text())))
    text = files[0].read_text()
    assert "[secret]" in text
    for shown in (text, result.stdout, result.stderr):
        assert CIPHERTEXT not in shown
    assert "hub.docker.com is Docker Hub's website" in result.stderr
    assert "not set yet" not in result.stderr


def test_bad_config_is_one_error_line_and_exit_2(tmp_path: Path):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(
        "config:\n  registry-credentials:registries:\n    - {name: h, server: 'a b', username: u}\n")
    result = render("--stack", "bad", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: registries[0].server: cannot be parsed")
    assert result.stdout == ""


def test_unknown_stack_lists_the_stacks():
    result = render("--stack", "nope")
    assert result.returncode == 2
    assert "stacks here: dev, prod" in result.stderr


def test_a_stack_that_manages_nothing_says_so_and_what_to_add(tmp_path):
    from support.cli import project, run_cli, stack_text

    result = run_cli("render", "--stack", "t", cwd=project(tmp_path, stack_text(namespaces=False)))
    assert result.returncode == 0 and result.stdout == ""
    assert "warning: nothing to manage: no namespace is listed or selected and `nodeBootstrap` is off" in result.stderr
    assert "would apply (offline render; nothing was sent to a cluster): 0 objects" in result.stderr
