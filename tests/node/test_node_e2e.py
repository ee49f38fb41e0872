"""The node file the agent writes from our Secret authenticates against a real registry; after release, 401."""

import json
from pathlib import Path

from support.agent import Agent, SecretVolume, auths, wait_for
from support.registry import Registry, unauthorized
from support.stack import rendered_secret

FOREIGN = {"other.example.com": {"auth": "b3RoZXI6cGFzcw=="}}


def test_node_file_authenticates_and_release_restores(real_registry: Registry, tmp_path: Path):
    root = tmp_path / "kubelet"
    root.mkdir()
    node_file = root / "config.json"
    node_file.write_text(json.dumps({"auths": FOREIGN, "HttpHeaders": {"User-Agent": "node"}}))
    volume = SecretVolume(tmp_path / "volume")
    volume.publish(rendered_secret(real_registry, real_registry.password))

    agent = Agent(volume.path, root, "node-agent-0", tmp_path)
    try:
        wait_for(agent.ready_file.exists, what="the agent's first sync")
        result = real_registry.inspect(node_file)
        assert result.returncode == 0, result.stderr
        assert agent.terminate() == 0
    finally:
        agent.close()

    assert auths(root) == FOREIGN
    assert json.loads(node_file.read_text())["HttpHeaders"] == {"User-Agent": "node"}
    assert unauthorized(real_registry.inspect(node_file))
