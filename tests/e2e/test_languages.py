"""The plugin from another language, for real: `pulumi package add ./provider` and `pulumi up` of examples/yaml.

The CLI installs the plugin's dependencies into provider/venv (InstallDependencies: `python -m venv`, then pip
install of requirements.txt, which is the repository itself), runs it for its schema (RunPlugin), and writes the
`packages:` entry; the YAML host then constructs the component through the plugin. The objects it creates are
compared with those of the same configuration deployed by the Python stack program.
"""

import base64
import re
import shutil
import subprocess

from e2e.scenario import dockerconfig, pull_secrets, repo_stack
from toolchain.controlplane import ControlPlane
from toolchain.engine import REPO, Engine, run

PASSWORD = "Yaml-harbor-S3cret!"
# What the package needs to install from a path: its pyproject, sources and the plugin directory.
PACKAGE_FILES = ("pyproject.toml", "README.md", "components", "provider")


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
    for namespace in ("apps", "legacy"):
        control_plane.create_namespace(namespace)
    source = tmp_path / "yaml-source"
    source.mkdir()
    checkout = source / "repo"
    checkout.mkdir()
    for entry in PACKAGE_FILES:
        (shutil.copytree if (REPO / entry).is_dir() else shutil.copy2)(REPO / entry, checkout / entry)
    for leftover in checkout.rglob("*.egg-info"):
        shutil.rmtree(leftover)
    manifest = (REPO / "examples" / "yaml" / "Pulumi.yaml").read_text()
    # Start from the program without its packages entry: `pulumi package add` must write it.
    (source / "Pulumi.yaml").write_text(re.sub(r"(?m)^packages:\n(  .*\n)+", "", manifest))
    project = engine.project(source, "yaml", files=("Pulumi.yaml", "repo"))

    added = subprocess.run(["pulumi", "package", "add", "./repo/provider"], cwd=project.directory,
                           env=project.env, capture_output=True, text=True, timeout=600)
    assert added.returncode == 0, added.stdout[-2000:] + added.stderr[-2000:]
    assert "registry-credentials: ./repo/provider" in (project.directory / "Pulumi.yaml").read_text()

    stack = project.stack("dev", secrets={"harborPassword": PASSWORD})
    run(project, "up", stack)
    from_yaml = objects(control_plane)
    run(project, "preview", stack, expect_no_changes=True)
    outputs = stack.outputs()
    assert outputs["secretNames"].value == {"apps": "harbor-pull", "legacy": "harbor-pull"}
    assert outputs["dockerconfigjson"].secret
    run(project, "destroy", stack)

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
    state = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "yaml.state").rglob("*.json"))
    assert PASSWORD not in project.printed() + state
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
