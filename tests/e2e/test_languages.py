"""The plugin from another language, for real: examples/yaml's README steps word for word, in a user's shell.

They include `pulumi package add ../../provider` with the real CLI: it installs the plugin's dependencies into
provider/venv (InstallDependencies: `python -m venv`, then pip install of requirements.txt, which is the clone
itself), runs it for its schema (RunPlugin), and writes the `packages:` entry; the YAML host then constructs the
component through the plugin. The objects it creates are compared with those of the same configuration deployed
by the Python stack program.
"""

import base64
import json
import re

from e2e.scenario import (
    checkout,
    dockerconfig,
    local_state,
    pull_secrets,
    readme_blocks,
    repo_stack,
    run_block,
    shell,
    user_shell,
)
from toolchain.controlplane import ControlPlane
from toolchain.engine import REPO, Engine

PASSWORD = "Yaml-harbor-S3cret!"


def objects(control_plane):
    """What the deployment left in the API server that both languages must agree on."""
    # The example's Deployment is auto-named (web-<suffix>).
    deployments = control_plane.get("/apis/apps/v1/namespaces/apps/deployments")["items"]
    deployment = next((d for d in deployments if d["metadata"]["name"].startswith("web-")), None)
    return {
        "secrets": {ns: dockerconfig(control_plane, ns, "harbor-pull") for ns in ("apps", "legacy")},
        "accounts": {f"{ns}/{sa}": pull_secrets(control_plane, ns, sa)
                     for ns, sa in (("apps", "default"), ("apps", "builder"), ("legacy", "default"))},
        "web": deployment["spec"]["template"]["spec"]["imagePullSecrets"] if deployment else None,
    }


def test_yaml_program_adds_the_plugin_and_creates_what_the_python_stack_creates(engine, control_plane, tmp_path):
    control_plane.add_nodes(1)  # the example's Deployment must become ready
    clone = checkout(tmp_path / "clone", "provider", "examples/yaml")
    example = clone / "examples" / "yaml"
    manifest = example / "Pulumi.yaml"
    # Start from the program without its packages entry: `pulumi package add` must write it.
    manifest.write_text(re.sub(r"(?m)^packages:\n(  .*\n)+", "", manifest.read_text()))
    home = tmp_path / "home"
    env = user_shell(engine, home)
    setup, teardown = readme_blocks(REPO / "examples" / "yaml" / "README.md")
    printed = run_block(setup, clone, env, {"'<the registry password>'": PASSWORD})
    assert "registry-credentials: ../../provider" in manifest.read_text()
    from_yaml = objects(control_plane)
    printed += shell(["pulumi", "preview", "--expect-no-changes"], example, env)
    outputs = json.loads(shell(["pulumi", "stack", "output", "--json"], example, env))
    assert outputs["secretNames"] == {"apps": "harbor-pull", "legacy": "harbor-pull"}
    assert outputs["dockerconfigjson"] == "[secret]"  # a secret output: shown only with --show-secrets
    state = local_state(home)
    printed += run_block(teardown, example, env, {})

    # The Python stack runs on a control plane of its own: the example keeps `legacy`'s foreign entries, so its
    # patch is retained on destroy and its annotations stay owned by the YAML stack's field manager.
    other = ControlPlane(tmp_path / "python-plane", engine.bin_dir).start()
    try:
        other.add_nodes(1)
        from_python = python_objects(Engine(engine.bin_dir, tmp_path / "python", other.kubeconfig), other)
    finally:
        other.stop()
    from_python["web"] = from_yaml["web"]  # the Deployment is the YAML program's own resource
    assert from_yaml["web"] == [{"name": "harbor-pull"}]
    assert from_yaml == from_python
    assert from_yaml["secrets"]["apps"]["auths"]["harbor.example.com"]["password"] == PASSWORD
    assert PASSWORD not in printed + state
    assert base64.b64encode(f"ci-bot:{PASSWORD}".encode()).decode() not in state


def python_objects(engine, control_plane):
    """The example's configuration through the Python stack program."""
    for namespace in ("apps", "legacy"):
        control_plane.create_namespace(namespace)
    python = repo_stack(engine, control_plane, "same", {"harbor": PASSWORD}, name="python", stack_config={
        "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "ci-bot"}],
        "namespaces": [{"name": "apps", "serviceAccounts": ["builder"]},
                       {"name": "legacy", "defaultServiceAccount": True, "foreignPullSecrets": "keep"}],
        "secretName": "harbor-pull",
    })
    python.up()
    found = objects(control_plane)
    python.destroy()
    return found
