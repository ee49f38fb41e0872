"""What the real-engine scenarios share: stacks of this repository, what the API server holds, leak scans."""

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from pulumi import automation as auto
from ruamel.yaml import YAML

from support.dist import SOURCES, WHEELHOUSE, clean_env
from toolchain.controlplane import ControlPlane
from toolchain.engine import PASSPHRASE, REPO, Engine, Project, run

SECRET_TYPE = "kubernetes.io/dockerconfigjson"
DEV_PASSWORDS = {"harbor": "Dev-harbor-S3cret!", "dockerhub": "dckr_pat_dev-t0ken"}
PROD_PASSWORDS = {"harbor": "Prod-harbor-S3cret?"}


def repo_stack(engine: Engine, control_plane: ControlPlane, stack_name: str, passwords: Mapping[str, str],
               namespaces: Iterable[str] = (), config: Optional[Mapping[str, Any]] = None,
               name: Optional[str] = None, stack_config: Optional[Mapping[str, Any]] = None) -> "StackRun":
    """A copy of this repository's project on stack `stack_name`, namespaces made first.

    The stack file is the repository's stacks/Pulumi.<stack>.yaml, or `stack_config` (project keys without the
    `registry-credentials:` prefix) written in its place; `config` is then set on top, key by --path key.
    """
    for namespace in namespaces:
        control_plane.create_namespace(namespace)
    project = engine.project(REPO, name or stack_name)
    if stack_config is not None:
        values = {f"registry-credentials:{key}": value for key, value in stack_config.items()}
        # JSON is YAML: Pulumi reads the file as YAML, and so does the offline reader.
        (project.directory / "stacks" / f"Pulumi.{stack_name}.yaml").write_text(json.dumps({"config": values}))
    secrets = {f"passwords.{registry}": password for registry, password in passwords.items()}
    return StackRun(project, project.stack(stack_name, config=config, secrets=secrets), control_plane)


class StackRun:
    """One stack of one project copy, with the operations tests call and what they printed."""

    def __init__(self, project: Project, stack: auto.Stack, control_plane: ControlPlane) -> None:
        self.project = project
        self.stack = stack
        self.cluster = control_plane

    def preview(self, **kwargs: Any) -> Any:
        """`pulumi preview`; the PreviewResult."""
        return run(self.project, "preview", self.stack, **kwargs).result

    def up(self, **kwargs: Any) -> Any:
        """`pulumi up`; the UpResult."""
        return run(self.project, "up", self.stack, **kwargs).result

    def destroy(self, **kwargs: Any) -> Any:
        """`pulumi destroy`; the DestroyResult."""
        return run(self.project, "destroy", self.stack, **kwargs).result

    def write_stack_config(self, values: Mapping[str, Any]) -> None:
        """Replace the project's keys in the stack file (without `registry-credentials:`), keeping the rest: the
        passphrase salt, secure values and other namespaces' keys."""
        path = self.project.directory / "stacks" / f"Pulumi.{self.stack.name}.yaml"
        document = (YAML(typ="safe").load(path.read_text()) or {}) if path.exists() else {}
        kept = {k: v for k, v in (document.get("config") or {}).items()
                if not k.startswith("registry-credentials:") or k == "registry-credentials:passwords"}
        document["config"] = {**kept, **{f"registry-credentials:{k}": v for k, v in values.items()}}
        path.write_text(json.dumps(document))  # JSON is YAML: Pulumi reads it, and so does the offline reader

    def set_config(self, key: str, value: Any, secret: bool = False) -> None:
        """`pulumi config set [--secret] --path key value`."""
        self.stack.set_config(key, auto.ConfigValue(value=value, secret=secret), path=True)

    def state(self) -> str:
        """The stack's checkpoint and its backups as the file backend stores them (secrets encrypted).

        Read from disk: the Automation API's export_stack() decrypts secrets (`stack export --show-secrets`).
        """
        backend = Path(self.project.env["PULUMI_BACKEND_URL"][len("file://"):]) / ".pulumi"
        files = sorted(backend.rglob("*.json*"))
        assert files, f"no state under {backend}"
        return "\n".join(f.read_text(errors="replace") for f in files if f.is_file())

    def assert_no_changes(self) -> None:
        """A preview that plans nothing but reads (the engine's own check, `--expect-no-changes`)."""
        result = self.preview(expect_no_changes=True)
        assert set(result.change_summary) <= {"same", "read"}, result.change_summary


def changes(result: Any) -> Dict[str, int]:
    """The change summary of a preview, or the resource changes of an up or destroy, without `same`."""
    summary = getattr(result, "change_summary", None)
    if summary is None:
        summary = result.summary.resource_changes or {}
    return {op: n for op, n in summary.items() if op != "same"}


def pull_secrets(cluster: ControlPlane, namespace: str, account: str = "default") -> Optional[List[str]]:
    """The names in a ServiceAccount's imagePullSecrets, or None when the ServiceAccount does not exist."""
    body = cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}")
    if body is None:
        return None
    return [entry["name"] for entry in body.get("imagePullSecrets") or []]


def secret(cluster: ControlPlane, namespace: str, name: str) -> Optional[Dict[str, Any]]:
    """A Secret as the API server holds it, or None."""
    return cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")


def dockerconfig(cluster: ControlPlane, namespace: str, name: str) -> Dict[str, Any]:
    """The decoded `.dockerconfigjson` of a pull Secret (which must exist and be of the pull-secret type)."""
    body = secret(cluster, namespace, name)
    assert body is not None, f"no Secret {namespace}/{name}"
    assert body["type"] == SECRET_TYPE
    return json.loads(base64.b64decode(body["data"][".dockerconfigjson"]))


def managers(body: Mapping[str, Any]) -> List[str]:
    """The field managers recorded on an object."""
    return [entry["manager"] for entry in body.get("metadata", {}).get("managedFields") or []]


def kubectl_dockerconfig(entries: Sequence[Mapping[str, str]]) -> Dict[str, Any]:
    """What `kubectl create secret docker-registry --dry-run=client -o json` renders, merged over registries.

    kubectl takes one registry per Secret; the component's Secret is the union of kubectl's `auths` entries.
    """
    auths: Dict[str, Any] = {}
    for entry in entries:
        args = ["kubectl", "create", "secret", "docker-registry", "oracle", "--dry-run=client", "-o", "json",
                f"--docker-server={entry['server']}", f"--docker-username={entry['username']}",
                f"--docker-password={entry['password']}"]
        if entry.get("email"):
            args.append(f"--docker-email={entry['email']}")
        result = subprocess.run(args, capture_output=True, text=True, check=True,
                                env={"PATH": "/usr/bin:/bin", "KUBECONFIG": "/nonexistent", "HOME": "/nonexistent"})
        data = json.loads(result.stdout)["data"][".dockerconfigjson"]
        auths.update(json.loads(base64.b64decode(data))["auths"])
    return {"auths": auths}


def secret_forms(username: str, password: str) -> List[str]:
    """The plaintext forms a credential could leak in: the password, and the `auth` field's base64."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return [password, auth, auth.rstrip("=")]


def assert_no_leak(texts: Iterable[str], credentials: Iterable[tuple]) -> None:
    """No plaintext form of any (username, password) appears in any text (output, state, logs)."""
    joined = "\n".join(texts)
    for username, password in credentials:
        for form in secret_forms(username, password):
            assert form not in joined, f"a credential of {username!r} appears in plaintext"


def stack_file(name: str) -> Path:
    """A stack file of this repository."""
    return REPO / "stacks" / f"Pulumi.{name}.yaml"


def checkout(destination: Path, *extra: str) -> Path:
    """A copy of this repository as a user's clone holds it, limited to what a build reads and `extra` paths."""
    destination.mkdir(parents=True)
    for name in (*SOURCES, *extra):
        source = REPO / name
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "venv"))
        else:
            shutil.copy2(source, target)
    return destination


def user_shell(engine: Engine, home: Path) -> Dict[str, str]:
    """A user's shell: the toolchain's pulumi and a python3 of the suite's version first on PATH, kubectl pointed at
    the control plane, a home of its own (`pulumi login --local` keeps state there), no prompts, nothing downloaded:
    pip installs from the wheelhouse alone, and the CLI finds its plugins on PATH."""
    tools = home / ".tools"
    tools.mkdir(parents=True)
    (tools / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    return clean_env(
        PATH=os.pathsep.join([str(engine.bin_dir), str(tools), os.environ.get("PATH", "")]),
        HOME=str(home),
        KUBECONFIG=str(engine.kubeconfig),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,  # what `pulumi stack init` would ask for
        PULUMI_SKIP_CONFIRMATIONS="true",  # `pulumi up` proceeds as a user's "yes" would (operations/up.go)
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        REGISTRY_CREDENTIALS_VERIFY="off",  # the example registries are not real hosts
    )


def readme_blocks(readme: Path) -> List[str]:
    """The bash blocks of a README, in order: the exact steps it tells a user to run."""
    return re.findall(r"```bash\n(.*?)```", readme.read_text(), re.S)


def run_block(block: str, cwd: Path, env: Mapping[str, str], placeholders: Mapping[str, str],
              timeout: float = 1200) -> str:
    """Run a README block as pasted into bash (stopping at the first failure), each `'<...>'` filled in."""
    assert set(re.findall(r"'<[^>]+>'", block)) == set(placeholders), block
    for placeholder, value in placeholders.items():
        block = block.replace(placeholder, shlex.quote(value))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=dict(env), capture_output=True,
                            text=True, timeout=timeout)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed[-4000:]
    return printed


def shell(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    """One more command in the same shell (what the test checks after a README's steps); its stdout."""
    result = subprocess.run(list(command), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def local_state(home: Path) -> str:
    """Everything `pulumi login --local` keeps under a home: checkpoints, backups, history (secrets encrypted)."""
    return "\n".join(f.read_text(errors="replace") for f in sorted((home / ".pulumi").rglob("*.json*")) if f.is_file())
