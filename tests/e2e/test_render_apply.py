"""The offline render's files are for review: `kubectl apply` of them, against the real API server that a
`pulumi up` wrote to, changes nothing, with any of kubectl's flags.

Facts found here on v1.37.2 (kubectl 1.32): a Secret whose data is the placeholder `[secret]` is refused by the
API server already (Secret.data is []byte, decoded as base64: "illegal base64 data at input byte 0"), so the
working Secret is kept; but a ServiceAccount patch rendered as a ServiceAccount object is accepted and replaces the
live imagePullSecrets list, others' entries included. A marker the API server refuses (an invalid annotation key)
is not enough either: with --force, kubectl deletes an object whose patch is refused and creates it again (a new
uid; one `default` ServiceAccount came back with no imagePullSecrets at all). So every file that is not safe to
apply carries an apiVersion no API server serves, and kubectl stops at the resource mapping, before it sends
anything.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from e2e.scenario import DEV_PASSWORDS, assert_no_leak, pull_secrets, repo_stack, secret
from registry_credentials.cli.render import RENDER_ONLY

NAMESPACES = ("apps", "basic")
USERS = {"harbor": "robot$dev+puller", "dockerhub": "example-ci"}


def live(control_plane):
    """What a wrong apply could break: each namespace's pull Secret and its default ServiceAccount's list."""
    return {ns: ((secret(control_plane, ns, "registry-credentials") or {}).get("data"), pull_secrets(control_plane, ns))
            for ns in NAMESPACES}


@pytest.mark.parametrize("flags", [[], ["--server-side", "--force-conflicts"], ["--force"], ["--validate=false"]])
def test_kubectl_apply_of_the_rendered_files_changes_nothing_pulumi_up_made(engine, control_plane, tmp_path, flags):
    dev = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=NAMESPACES)
    dev.up()
    # Someone else's pull secret beside ours: the patch keeps it; a ServiceAccount object applied would drop it.
    patch = '[{"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "theirs"}}]'
    assert control_plane.kubectl("patch", "sa", "default", "-n", "apps", "--type=json", "-p", patch).returncode == 0
    before = live(control_plane)
    assert before["apps"][1] == ["registry-credentials", "theirs"] and before["apps"][0]

    out = tmp_path / "rendered"
    render = subprocess.run(
        [sys.executable, "-m", "registry_credentials", "render", "--stack", "dev",
         "--project-dir", str(dev.project.directory), "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert render.returncode == 0, render.stderr
    files = sorted(out.glob("*.yaml"))
    # This stack renders two Secrets and two patches: none of them is safe to apply.
    assert len(files) == 4 and all(f"{RENDER_ONLY}/v1" in f.read_text() for f in files)
    assert_no_leak([f.read_text() for f in files], [(USERS[name], pw) for name, pw in DEV_PASSWORDS.items()])

    applied = control_plane.kubectl("apply", *flags, "-f", str(out))
    assert applied.returncode != 0
    assert applied.stderr.count(f'in version "{RENDER_ONLY}/v1"') == len(files), applied.stderr
    assert live(control_plane) == before
