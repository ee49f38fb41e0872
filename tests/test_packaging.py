"""The package as users install it: the sdist and the wheel build, and the wheel works in a fresh virtualenv.

The wheel is built from the sdist (as `python -m build` does), installed offline into a new virtualenv from the
base interpreter (support/dist.py), and run from outside this checkout: `registry-credentials --version`, a render
of a sample stack, and the component registering its resources under Pulumi's own mocks.
"""

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from support.dist import ROOT, Dist, build, clean_env, fresh_venv

VERSION = metadata.version("registry-credentials")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Dist:
    return build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """The bin directory of a fresh virtualenv holding the wheel and its runtime dependencies only."""
    return fresh_venv(tmp_path_factory.mktemp("fresh") / "venv", str(dist.wheel))


def test_the_version_has_one_home_and_the_changelog_names_it():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (declared,) = re.findall(r'^version = "([^"]+)"$', pyproject, re.M)
    assert declared == VERSION
    (newest,) = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)[:1]
    assert newest == VERSION
    assert json.loads((ROOT / "provider" / "schema.json").read_text())["version"] == VERSION
    # No other file spells the version: code and docs read it from the installed metadata.
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    spelled = [name for name in tracked.split()
               if name not in ("pyproject.toml", "CHANGELOG.md", "provider/schema.json")
               and (ROOT / name).is_file() and VERSION in (ROOT / name).read_text(errors="replace")]
    assert spelled == []


def test_the_license_is_apache_2_and_ships_in_both(dist):
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    meta = dist.wheel_text(f"registry_credentials-{VERSION}.dist-info/METADATA")
    assert "License-Expression: Apache-2.0" in meta.splitlines()
    assert f"registry_credentials-{VERSION}.dist-info/licenses/LICENSE" in dist.wheel_names()
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= set(dist.sdist_names())


def test_the_wheel_holds_the_package_only_with_runtime_dependencies_and_the_command(dist):
    names = dist.wheel_names()
    package = [n for n in names if not n.startswith(f"registry_credentials-{VERSION}.dist-info/")]
    assert all(n.startswith("registry_credentials/") for n in package)
    # What the package reads as data at run time: the node agent ships in a ConfigMap, py.typed marks the types.
    assert {"registry_credentials/node/agent.py", "registry_credentials/py.typed"} <= set(package)
    assert not [n for n in dist.sdist_names() if n.startswith(("tests/", "toolchain/", "venv/", "examples/"))]
    meta = dist.wheel_text(f"registry_credentials-{VERSION}.dist-info/METADATA")
    required = [line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    runtime = [r for r in required if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0] for r in runtime) == [
        "pulumi", "pulumi-kubernetes", "pulumi-random", "requests", "ruamel.yaml"]
    # pytest & co. (and the real-engine toolchain's cryptography) only on request.
    assert all('extra == "test"' in r or 'extra == "engine"' in r for r in required if r not in runtime)
    assert [r for r in required if 'extra == "engine"' in r] == ['cryptography>=42; extra == "engine"']
    entry_points = dist.wheel_text(f"registry_credentials-{VERSION}.dist-info/entry_points.txt")
    assert "registry-credentials = registry_credentials.cli.main:entry" in entry_points.splitlines()


def test_the_installed_command_reports_its_version(installed):
    result = subprocess.run([str(installed / "registry-credentials"), "--version"], capture_output=True, text=True,
                            timeout=60, env=clean_env(), cwd=installed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"registry-credentials {VERSION}"


def test_the_installed_command_renders_a_sample_stack(installed, tmp_path):
    sample = tmp_path / "sample"
    sample.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, sample / name)
    shutil.copytree(ROOT / "stacks", sample / "stacks")
    result = subprocess.run([str(installed / "registry-credentials"), "render", "--stack", "prod", "-o", "json"],
                            capture_output=True, text=True, timeout=300, env=clean_env(), cwd=sample)
    assert result.returncode == 0, result.stderr
    kinds = sorted(item["kind"] for item in json.loads(result.stdout)["items"])
    assert kinds == ["ConfigMap", "DaemonSet", "Namespace", "Secret", "Secret", "Secret", "ServiceAccount",
                     "ServiceAccount"]
    assert "pulumi up --stack prod would apply (offline render; nothing was sent to a cluster): 8 objects" in (
        result.stderr)
    assert "Traceback" not in result.stderr


PROGRAM = """
import json, sys
import pulumi

class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.types = []
    def new_resource(self, args):
        self.types.append(args.typ)
        return [f"{args.name}-id", args.inputs]
    def call(self, args):
        return {}

mocks = Mocks()
pulumi.runtime.set_mocks(mocks, project="sample", stack="dev", preview=False)
import registry_credentials
from registry_credentials import RegistryCredentials

@pulumi.runtime.test
def registered():
    rc = RegistryCredentials("rc", {
        "registries": [{"server": "harbor.example.com", "username": "robot", "verify": "off",
                        "password": pulumi.Output.secret("not-a-real-password")}],
        "namespaces": [{"name": "apps", "create": True, "default_service_account": False,
                        "service_accounts": ["builder"]}],
    })
    return rc.secret_names.apply(lambda names: found.update(secretNames=names))

found = {}
registered()  # runs the program until its outputs resolve and every registration is done
print(json.dumps({"file": registry_credentials.__file__, "path": sys.path, "types": sorted(mocks.types), **found}))
"""


def test_the_installed_component_imports_and_registers_under_mocks(installed, tmp_path):
    # -I: isolated mode, so neither the working directory nor PYTHON* variables put anything else on the path.
    result = subprocess.run([str(installed / "python"), "-I", "-c", PROGRAM], capture_output=True, text=True,
                            timeout=300, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    venv = installed.parent.resolve()
    assert Path(report["file"]).resolve().is_relative_to(venv)
    assert not [p for p in report["path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert report["types"] == ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret",
                               "kubernetes:core/v1:ServiceAccount", "registry-credentials:index:RegistryCredentials"]
    assert report["secretNames"] == {"apps": "rc"}
    assert sys.prefix not in result.stdout  # the test venv is nowhere on its path
