"""The real Pulumi engine for tests: a project copy, a `file://` backend, a passphrase and a private PULUMI_HOME.

Driven through the Python Automation API (pulumi.automation), running the CLI that scripts/toolchain built. The
CLI launches the language host and providers from the toolchain's bin directory (on PATH), so nothing is ever
downloaded: PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION gates every download point (pulumi
sdk/go/common/env/env.go). Each test gets its own project directory, state backend and PULUMI_HOME.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "e2e-only-passphrase"
# What a project copy takes from its source directory: never a venv, state or node_modules.
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "stacks", "index.ts", "package.json", "tsconfig.json")


def toolchain_bin() -> Path:
    """The toolchain's bin directory: $REGCREDS_ENGINE_BIN (scripts/test sets it), else build it now."""
    given = os.environ.get("REGCREDS_ENGINE_BIN")
    if given:
        return Path(given)
    # Tests never skip for a missing binary: build (or find, in seconds) what scripts/toolchain pins.
    result = subprocess.run(["bash", str(REPO / "scripts" / "toolchain")], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError("scripts/toolchain failed (its progress lines above say where)")
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class Run:
    """What one engine operation printed (stdout and stderr of the CLI, joined) and returned."""

    output: str
    result: Any = None


@dataclass
class Project:
    """A copy of a Pulumi project, with its own backend and home, ready for stacks."""

    directory: Path
    env: Dict[str, str]
    command: auto.PulumiCommand
    outputs: List[str] = field(default_factory=list)

    def stack(self, name: str, config: Optional[Mapping[str, Any]] = None,
              secrets: Optional[Mapping[str, str]] = None) -> auto.Stack:
        """Create or select a stack; set plain `config` and secret `secrets` (both by --path key)."""
        workspace = auto.LocalWorkspace(work_dir=str(self.directory), pulumi_home=self.env["PULUMI_HOME"],
                                        env_vars=self.env, pulumi_command=self.command)
        stack = auto.Stack.create_or_select(name, workspace)
        for key, value in (config or {}).items():
            # As `pulumi config set --path` takes them: text, with true/false and numbers turned into YAML scalars.
            text = str(value).lower() if isinstance(value, bool) else str(value)
            stack.set_config(key, auto.ConfigValue(value=text), path=True)
        for key, value in (secrets or {}).items():
            stack.set_config(key, auto.ConfigValue(value=value, secret=True), path=True)
        return stack

    def record(self, text: str) -> None:
        """Keep what the engine printed, so tests can scan every line of a run for secrets."""
        self.outputs.append(text)

    def printed(self) -> str:
        """Everything the engine printed for this project so far."""
        return "".join(self.outputs)


class Engine:
    """Makes projects whose runs use the toolchain's CLI and a KUBECONFIG."""

    def __init__(self, bin_dir: Path, scratch: Path, kubeconfig: Optional[Path]) -> None:
        self.bin_dir = bin_dir
        self.scratch = scratch
        self.kubeconfig = kubeconfig
        self.command = auto.PulumiCommand(root=str(bin_dir.parent))  # runs <root>/bin/pulumi

    def environment(self, home: Path, state: Path, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """The CLI's environment: offline, non-interactive, this test's home and backend, the toolchain on PATH."""
        env = {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Registries in the sample stacks are fake hosts; tests that check credentials set verify themselves.
            "REGISTRY_CREDENTIALS_VERIFY": "off",
        }
        if self.kubeconfig:
            env["KUBECONFIG"] = str(self.kubeconfig)
        env.update(extra or {})
        return env

    def project(self, source: Path, name: str, extra_env: Optional[Mapping[str, str]] = None,
                files: Iterable[str] = PROJECT_FILES, venv: Optional[Path] = None) -> Project:
        """Copy a project directory into scratch/name, linking the test interpreter's venv as its `venv`."""
        directory = self.scratch / name
        directory.mkdir(parents=True)
        for entry in files:
            path = source / entry
            if path.is_dir():
                shutil.copytree(path, directory / entry)
            elif path.exists():
                shutil.copy2(path, directory / entry)
        # `virtualenv: venv` resolves against the project directory; the suite's venv has the package installed.
        (directory / "venv").symlink_to(venv or Path(sys.prefix))
        manifest = directory / "Pulumi.yaml"
        if manifest.exists():
            # Examples point at the repository's venv (../../venv); the copy has its own link.
            manifest.write_text(re.sub(r"(?m)^(\s+virtualenv:).*$", r"\1 venv", manifest.read_text()))
        home, state = self.scratch / f"{name}.home", self.scratch / f"{name}.state"
        home.mkdir()
        state.mkdir()
        return Project(directory, self.environment(home, state, extra_env), self.command)


def run(project: Project, operation: str, stack: auto.Stack, **kwargs: Any) -> Run:
    """preview, up, refresh or destroy, with every line the CLI printed kept on the project."""
    lines: List[str] = []

    def keep(line: str) -> None:
        lines.append(line if line.endswith("\n") else line + "\n")

    try:
        result = getattr(stack, operation)(on_output=keep, color="never", **kwargs)
    except auto.CommandError as err:
        project.record("".join(lines) + str(err))
        raise
    project.record("".join(lines))
    return Run("".join(lines), result)
