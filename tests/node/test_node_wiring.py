"""Method 1 wiring: run the agent exactly as the DaemonSet the real stack program registers would run it.

Nothing here is copied from node_bootstrap.py: the container's command, env, volume mounts, the Secret's and
ConfigMap's projected items and the hostPath all come from what `__main__.py` registered under the mocks. A temp
directory is laid out as the pod would see it (each mountPath mapped to a directory under `podfs/`, the hostPath
to a fake node's kubelet root), the command runs with paths mapped, and the readiness probe's own command decides
readiness. Any renamed path, argument or mount breaks it.
"""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from support.agent import OUTPUTS, SECRETS, SecretVolume, assert_no_secrets, wait_for
from support.records import unwrap
from support.stack import run_stack_program

KUBELET_ROOT = "/var/snap/microk8s/common/var/lib/kubelet"  # not the default: the hostPath must follow config
PASSWORD = "W1ring-node-S3cret"
POD_NAME = "registry-credentials-node-agent-x7k2p"
FOREIGN = {"foreign.example": {"auth": base64.b64encode(b"someone:foreign-Wiring-pw").decode()}}
SECRETS.update({PASSWORD, FOREIGN["foreign.example"]["auth"]})


@pytest.fixture(scope="module")
def registered() -> Dict[str, Any]:
    """The node-bootstrap objects the real stack program registers: DaemonSet, its Secret and ConfigMap."""
    run = run_stack_program({
        "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot$node"}],
        "passwords": {"harbor": PASSWORD},
        "namespaces": ["apps"],
        "nodeBootstrap": {"enabled": True, "kubeletRootDir": KUBELET_ROOT, "intervalSeconds": 30},
    })
    (daemonset,) = [unwrap(r.inputs) for r in run.of_type("kubernetes:apps/v1:DaemonSet")]
    namespace = daemonset["metadata"]["namespace"]
    secrets = [unwrap(r.inputs) for r in run.of_type("kubernetes:core/v1:Secret")]
    config_maps = [unwrap(r.inputs) for r in run.of_type("kubernetes:core/v1:ConfigMap")]
    return {
        "daemonset": daemonset,
        "secrets": {s["metadata"]["name"]: s for s in secrets if s["metadata"]["namespace"] == namespace},
        "config_maps": {c["metadata"]["name"]: c for c in config_maps if c["metadata"]["namespace"] == namespace},
    }


class Pod:
    """The container's view of the filesystem, laid out under a temp dir, with a fake node's kubelet root."""

    def __init__(self, base: Path, registered: Dict[str, Any]) -> None:
        self.podfs = base / "podfs"
        self.host = base / "node"
        spec = registered["daemonset"]["spec"]["template"]["spec"]
        (self.container,) = spec["containers"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        self.mounts: List[str] = []
        self.host_roots: Dict[str, Path] = {}
        for mount in self.container["volumeMounts"]:
            volume = volumes[mount["name"]]  # a mount of an undeclared volume is a KeyError: the pod would not start
            path = mount["mountPath"]
            assert path.startswith("/") and "subPath" not in mount, mount
            self.mounts.append(path)
            self._project(volume, path, registered)
        # Longest first, so /a/b maps before /a.
        self.mounts.sort(key=len, reverse=True)

    def local(self, pod_path: str) -> Path:
        """Where a path inside the container lives in this layout."""
        return self.podfs / pod_path.lstrip("/")

    def _project(self, volume: Dict[str, Any], mount_path: str, registered: Dict[str, Any]) -> None:
        target = self.local(mount_path)
        if "hostPath" in volume:
            host_path = volume["hostPath"]
            # type Directory: the kubelet refuses to start the pod unless it exists on the node.
            assert host_path.get("type") == "Directory", host_path
            node_dir = self.host / host_path["path"].lstrip("/")
            node_dir.mkdir(parents=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(node_dir, target_is_directory=True)  # a bind mount: same inode, both views
            self.host_roots[host_path["path"]] = node_dir
        elif "secret" in volume:
            source = volume["secret"]
            secret = registered["secrets"][source["secretName"]]  # only Secrets in the pod's namespace count
            self._project_keys(target, secret["data"], source.get("items"), decode=True)
        elif "configMap" in volume:
            source = volume["configMap"]
            config_map = registered["config_maps"][source["name"]]
            self._project_keys(target, config_map["data"], source.get("items"), decode=False)
        elif "emptyDir" in volume:
            target.mkdir(parents=True)
        else:
            raise AssertionError(f"volume kind not modelled by this test: {volume}")

    @staticmethod
    def _project_keys(target: Path, data: Dict[str, str], items: Any, decode: bool) -> None:
        # Like the kubelet: only the listed items (key -> path), else every key under its own name; a listed key
        # that is missing fails the mount. Files sit behind the `..data` symlink of an atomic-writer volume.
        projected = [(i["key"], i["path"]) for i in items] if items else [(k, k) for k in data]
        for key, path in projected:
            assert key in data, f"projected key {key!r} is not in the object (have {sorted(data)})"
            value = base64.b64decode(data[key]).decode("utf-8") if decode else data[key]
            volume = SecretVolume(target / os.path.dirname(path), key=os.path.basename(path))
            volume.publish(value)

    def mapped(self, text: str) -> str:
        """text with every container path under a mount replaced by where it lives here."""
        # One pass: a mapped path (under the real /tmp) must not be mapped again by the pod's /tmp mount.
        alternatives = "|".join(re.escape(m) for m in self.mounts)
        pattern = rf"(?<![\w./-])({alternatives})(?=/|$|['\"\s])"
        return re.sub(pattern, lambda match: str(self.local(match.group(1))), text)

    def argv(self, command: List[str]) -> List[str]:
        """A container command as run here: python3 is this interpreter, every path is mapped into the layout."""
        head, *rest = command
        assert head == "python3", f"the image's interpreter is python3, not {head!r}"
        for arg in rest:
            if arg.startswith("/"):
                # readOnlyRootFilesystem, and the image ships none of our files: every path must be in a mount.
                assert any(arg == m or arg.startswith(m + "/") for m in self.mounts), f"{arg} is in no volume mount"
        return [sys.executable, *[self.mapped(arg) for arg in rest]]

    def env(self) -> Dict[str, str]:
        """The container's environment, with the downward API resolved for one pod."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for variable in self.container.get("env", []):
            if "value" in variable:
                env[variable["name"]] = variable["value"]
            else:
                field = variable["valueFrom"]["fieldRef"]["fieldPath"]
                env[variable["name"]] = {"metadata.name": POD_NAME}[field]
        return env

    def probe(self) -> bool:
        """Run the readiness probe's exec command as the kubelet would; True when it succeeds."""
        result = subprocess.run(self.argv(self.container["readinessProbe"]["exec"]["command"]), env=self.env(),
                                capture_output=True, timeout=30)
        return result.returncode == 0


def _start(pod: Pod) -> Tuple[subprocess.Popen, Path]:
    command = pod.container["command"] + pod.container.get("args", [])
    log = pod.podfs.parent / "agent.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(pod.argv(command), env=pod.env(), stdout=handle, stderr=subprocess.STDOUT)
    return process, log


def test_the_registered_daemonset_runs_the_agent_and_becomes_ready(registered: Dict[str, Any], tmp_path: Path):
    pod = Pod(tmp_path, registered)
    assert list(pod.host_roots) == [KUBELET_ROOT]
    node_root = pod.host_roots[KUBELET_ROOT]
    (node_root / "config.json").write_text(json.dumps({"auths": FOREIGN, "HttpHeaders": {"User-Agent": "node"}}))
    (secret,) = registered["secrets"].values()
    expected = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    assert not pod.probe(), "the readiness probe passes before the agent ran: it checks the wrong file"

    process, log = _start(pod)
    try:
        wait_for(lambda: pod.probe() or process.poll() is not None or "sync-failed" in log.read_text(), timeout=20,
                 what="the readiness probe")
        assert process.poll() is None, f"the agent exited with {process.returncode}: {log.read_text()}"
        assert "sync-failed" not in log.read_text(), log.read_text()
        node_file = json.loads((node_root / "config.json").read_text())
        assert node_file["auths"] == {**FOREIGN, **expected}
        assert node_file["HttpHeaders"] == {"User-Agent": "node"}
        state = json.loads((node_root / "registry-credentials.state.json").read_text())
        assert list(state["agents"]) == [POD_NAME]  # the downward-API env reached the agent as its owner id

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=int(registered["daemonset"]["spec"]["template"]["spec"]
                                        ["terminationGracePeriodSeconds"])) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        output = log.read_text()
        OUTPUTS.append(output)
        assert_no_secrets(output)

    assert not pod.probe()
    assert json.loads((node_root / "config.json").read_text()) == {"auths": FOREIGN,
                                                                    "HttpHeaders": {"User-Agent": "node"}}


def test_the_mounts_the_agent_writes_are_writable_and_the_rest_read_only(registered: Dict[str, Any]):
    spec = registered["daemonset"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    command = container["command"] + container.get("args", [])
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    written = [command[command.index("--kubelet-root") + 1], os.path.dirname(command[command.index("--ready-file")
                                                                                        + 1])]
    for path in written:
        mount = next(m for p, m in mounts.items() if path == p or path.startswith(p + "/"))
        assert not mount.get("readOnly", False), f"{path} must be writable"
    read = [command[command.index("--source") + 1], next(a for a in command if a.endswith(".py"))]
    for path in read:
        mount = next(m for p, m in mounts.items() if path == p or path.startswith(p + "/"))
        assert mount.get("readOnly") is True, f"{path} is only read; mount it read-only"


def test_interval_setting_reaches_the_agent(registered: Dict[str, Any]):
    (container,) = registered["daemonset"]["spec"]["template"]["spec"]["containers"]
    command = container["command"] + container.get("args", [])
    assert command[command.index("--interval") + 1] == "30"
    assert "--once" not in command  # the DaemonSet keeps the node file in sync; --once would exit and restart


def test_agent_under_the_pod_command_stops_within_the_grace_period(registered: Dict[str, Any], tmp_path: Path):
    # A pod stuck in its first sync (its source missing) must still stop on SIGTERM well before SIGKILL.
    pod = Pod(tmp_path, registered)
    for path in pod.podfs.rglob(".dockerconfigjson"):
        path.unlink()
    process, log = _start(pod)
    try:
        wait_for(lambda: "sync-failed" in log.read_text(), timeout=20, what="the failed first sync")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        assert time.monotonic() - started < registered["daemonset"]["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"]
        assert code == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        OUTPUTS.append(log.read_text())
