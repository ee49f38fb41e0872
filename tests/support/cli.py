"""Run `python -m registry_credentials` (the `registry-credentials` command) as a process, in a project copy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from support.stack import PROJECT_DIR

REGISTRY = "  registry-credentials:registries: [{name: harbor, server: harbor.example.com, username: robot}]\n"
NAMESPACES = "  registry-credentials:namespaces: [apps]\n"
NOISE = ("Traceback", "Exception ignored")


def run_cli(*args: str, cwd: Path = PROJECT_DIR, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    """The CLI with a clean environment (no PULUMI_* settings leak in from the caller), `stdin` as its input."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "REGISTRY_CREDENTIALS_"))}
    result = subprocess.run([sys.executable, "-m", "registry_credentials", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120,
                            **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))
    for noise in NOISE:
        assert noise not in result.stderr, result.stderr
    return result


def project(tmp_path: Path, stack_text: Optional[str] = None, stack: str = "t") -> Path:
    """A copy of the project (Pulumi.yaml, __main__.py) with one stack file holding `stack_text` verbatim."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "stacks").mkdir(exist_ok=True)
    if stack_text is not None:
        (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(stack_text)
    return tmp_path


def stack_text(*lines: str, registries: bool = True, namespaces: bool = True) -> str:
    """A stack file: `config:` then the default registries/namespaces unless overridden, then `lines`."""
    return "config:\n" + (REGISTRY if registries else "") + (NAMESPACES if namespaces else "") + "".join(
        f"  {line}\n" for line in lines)
