"""The node agents roll when, and only when, the credentials change: checked on the inputs the program registers.

The DaemonSet's pod annotation carries a RandomId's hex; the RandomId's `keepers` input holds a digest of the
credentials. The random provider replaces a RandomId whose keepers changed (new random bytes) and keeps it
otherwise, so the keepers input the program sends is what decides a rollout. Nothing here reads a value the mocks
make up: the keepers are compared as registered, and the provider is modelled by a mock whose hex is a function of
the keepers (same keepers -> same resource; different keepers -> replaced).
"""

import hashlib
import json
from typing import Any, Dict, Optional, Tuple

import pytest
from pulumi.runtime import rpc

from registry_credentials.cli.mockrun import RecordingMocks
from support.records import plaintext_of, unwrap
from support.stack import run_stack_program

RANDOM_ID = "random:index/randomId:RandomId"
DS = "kubernetes:apps/v1:DaemonSet"
ANNOTATION = "registry-credentials.pulumi.com/credentials-revision"
BASE = {
    "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot$node"},
                   {"name": "hub", "server": "docker.io", "username": "ci"}],
    "passwords": {"harbor": "Keeper-First-pw", "hub": "Keeper-Hub-pw"},
    "namespaces": ["apps"],
    "nodeBootstrap": {"enabled": True},
}


class KeeperModelMocks(RecordingMocks):
    """The random provider as far as replacement goes: a RandomId's hex follows its keepers."""

    def _created(self, typ: str, name: str, inputs: Dict[str, Any]) -> Tuple[str, dict]:
        resource_id, state = super()._created(typ, name, inputs)
        if typ == RANDOM_ID:
            keepers = json.dumps(unwrap(inputs.get("keepers")), sort_keys=True)
            state["hex"] = hashlib.sha256(keepers.encode()).hexdigest()[:16]
        return resource_id, state


def registered(changes: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Run the stack program with BASE plus changes; return the RandomId keepers and the pod annotation."""
    values = json.loads(json.dumps(BASE))
    for key, value in (changes or {}).items():
        values[key] = value
    run = run_stack_program(values, mocks=KeeperModelMocks())
    (rollout,) = run.of_type(RANDOM_ID)
    (daemonset,) = run.of_type(DS)
    return {
        "keepers_raw": rollout.inputs["keepers"],
        "keepers": unwrap(rollout.inputs["keepers"]),
        "annotation": unwrap(daemonset.inputs)["spec"]["template"]["metadata"]["annotations"][ANNOTATION],
        "plaintext": plaintext_of(run),
    }


def _with_password(name: str, password: str) -> Dict[str, Any]:
    return {"passwords": {**BASE["passwords"], name: password}}


def _with_registry(index: int, **fields: str) -> Dict[str, Any]:
    registries = json.loads(json.dumps(BASE["registries"]))
    registries[index].update(fields)
    return {"registries": registries}


CHANGED = {
    "harbor password": _with_password("harbor", "Keeper-Rotated-pw"),
    "second registry's password": _with_password("hub", "Keeper-Hub-Rotated-pw"),
    "username": _with_registry(0, username="robot$other"),
    "server": _with_registry(0, server="harbor2.example.com"),
}
UNCHANGED = {
    "same credentials": {},
    "interval": {"nodeBootstrap": {"enabled": True, "intervalSeconds": 120}},
    "more namespaces": {"namespaces": ["apps", "web"]},
}


@pytest.fixture(scope="module")
def baseline() -> Dict[str, Any]:
    """The registered inputs for BASE."""
    return registered()


@pytest.mark.parametrize("change", sorted(CHANGED))
def test_changed_credentials_change_the_keeper_and_roll_the_pods(baseline: Dict[str, Any], change: str):
    after = registered(CHANGED[change])
    assert after["keepers"] != baseline["keepers"]
    assert after["annotation"] != baseline["annotation"]


@pytest.mark.parametrize("change", sorted(UNCHANGED))
def test_unchanged_credentials_keep_the_keeper_and_the_pods(baseline: Dict[str, Any], change: str):
    after = registered(UNCHANGED[change])
    assert after["keepers"] == baseline["keepers"]
    assert after["annotation"] == baseline["annotation"]


def test_keeper_is_a_secret_digest_never_the_credentials(baseline: Dict[str, Any]):
    assert rpc.is_rpc_secret(baseline["keepers_raw"])  # kept encrypted in state
    assert set(baseline["keepers"]) == {"credentials"}
    text = json.dumps(baseline["keepers"])
    for password in BASE["passwords"].values():
        assert password not in text and password not in baseline["plaintext"]
    # Only the random token reaches the pod spec, in plain text (a digest of a password must not).
    assert baseline["keepers"]["credentials"] not in baseline["plaintext"]
