"""One scenario list for the platform model and for the real engine, with what each step must leave behind.

tests/test_platform_scenarios.py runs every scenario on the model; tests/e2e/test_model_scenarios.py runs the same
list on the real CLI, pulumi-kubernetes 4.25.0 and kube-apiserver v1.37.2. Both compare what the cluster holds
after each step with the scenario's expectation, so the model can only stay where it agrees with the real thing.
Where they cannot agree because the real provider is older than the project supports, the scenario says so
(`real`), with the reason.

A step is a tuple: ("up" | "preview", config[, stack]), ("destroy"[, stack]), ("kubectl-patch", "ns/sa", [names]),
("kubectl-secret", ns, name, password) or ("kubectl-delete-secret", ns, name). "up" is `pulumi up --skip-preview`,
what the Automation API runs. `stack` names a second stack of the same project (another field manager).
"""

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

SERVER = "harbor.example.com"
USERNAME = "robot$ci+puller"
PASSWORD = "S3cret-harbor-Pw!"
NEW_PASSWORD = "R0tated-harbor-Pw?"
OTHER_PASSWORD = "an-0ld-kubectl-pw"
SECRET = "registry-credentials"
NODE_NS = "registry-credentials-node"


def config(namespaces: Sequence[Any], password: str = PASSWORD, **extra: Any) -> Dict[str, Any]:
    """Stack config for one registry (`passwords` is the secret object)."""
    return {"registries": [{"name": "harbor", "server": SERVER, "username": USERNAME}],
            "passwords": {"harbor": password}, "namespaces": list(namespaces), **extra}


@dataclass(frozen=True)
class Scenario:
    """A cluster to start from, steps, and after each step: its outcome and what the cluster holds."""

    name: str
    namespaces: Sequence[str]
    steps: Sequence[Tuple[Any, ...]]
    expect: Sequence[Dict[str, Any]]
    accounts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """ns/sa -> pull secrets set beforehand as `kubectl patch` sets them (an SA with no names is just created)."""
    applied: bool = False
    """Set `accounts` with `kubectl apply --server-side` instead."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """pulumi-kubernetes provider options, snake_case (stack config `kubernetes:<camelCase option>`)."""
    real: Mapping[int, Tuple[Dict[str, Any], str]] = field(default_factory=dict)
    """Step index -> (what the real 4.25.0 provider leaves instead, why it differs from 4.29 and later)."""


def view(outcome: str = "ok", **objects: Any) -> Dict[str, Any]:
    """An expectation: `secret__ns` -> password in the Secret (None: no Secret), `sa__ns__name` -> pull secrets."""
    return {"outcome": outcome, **{key.replace("__", "/"): value for key, value in objects.items()}}


APPS_CLEAN = dict(secret__apps=None, sa__apps__default=[])

SCENARIOS = [
    Scenario(
        "existing namespaces with clean ServiceAccounts, destroy restores them",
        ["apps", "basic"],
        [("up", config(["apps", "basic"])), ("up", config(["apps", "basic"])), ("destroy",)],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET], secret__basic=PASSWORD, sa__basic__default=[SECRET]),
         view(secret__apps=PASSWORD, sa__apps__default=[SECRET], secret__basic=PASSWORD, sa__basic__default=[SECRET]),
         view(secret__apps=None, sa__apps__default=[], secret__basic=None, sa__basic__default=[])],
    ),
    Scenario(
        "a namespace the stack creates: preview and up succeed, destroy deletes it",
        ["apps"],
        [("preview", config(["apps", {"name": "fresh", "create": True}])),
         ("up", config(["apps", {"name": "fresh", "create": True}])), ("destroy",)],
        [view(**APPS_CLEAN, secret__fresh=None),
         view(secret__apps=PASSWORD, sa__apps__default=[SECRET], secret__fresh=PASSWORD, sa__fresh__default=[SECRET]),
         view(**APPS_CLEAN, secret__fresh=None, sa__fresh__default=None)],
    ),
    Scenario(
        "foreign pull secrets set by kubectl patch, fail mode: nothing changes",
        ["apps"],
        [("preview", config(["apps"])), ("up", config(["apps"]))],
        [view("error", secret__apps=None, sa__apps__default=["team-registry"])] * 2,
        accounts={"apps/default": ["team-registry"]},
    ),
    Scenario(
        "foreign pull secrets set by kubectl apply --server-side, fail mode: nothing changes",
        ["apps"],
        [("preview", config(["apps"])), ("up", config(["apps"]))],
        [view("error", secret__apps=None, sa__apps__default=["team-registry"])] * 2,
        accounts={"apps/default": ["team-registry"]}, applied=True,
    ),
    Scenario(
        "foreign pull secrets, keep mode: kept through up and destroy",
        ["apps"],
        [("up", config([{"name": "apps", "foreignPullSecrets": "keep"}])), ("destroy",)],
        [view(secret__apps=PASSWORD, sa__apps__default=["team-registry", SECRET]),
         view(secret__apps=None, sa__apps__default=["team-registry", SECRET])],
        accounts={"apps/default": ["team-registry"]},
    ),
    Scenario(
        "a retained patch left by a destroyed stack does not block another stack",
        ["apps"],
        [("up", config([{"name": "apps", "foreignPullSecrets": "keep"}])), ("destroy",),
         ("up", config([{"name": "apps", "foreignPullSecrets": "keep"}]), "other")],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
         view(secret__apps=None, sa__apps__default=[SECRET]),
         view(secret__apps=PASSWORD, sa__apps__default=[SECRET])],
    ),
    Scenario(
        "someone edits the list after us: the next run stops",
        ["apps"],
        [("up", config(["apps"])), ("kubectl-patch", "apps/default", [SECRET, "theirs"]), ("up", config(["apps"]))],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
         view(secret__apps=PASSWORD, sa__apps__default=[SECRET, "theirs"]),
         view("error", secret__apps=PASSWORD, sa__apps__default=[SECRET, "theirs"])],
    ),
    Scenario(
        "a renamed secretName replaces our old entry",
        ["apps"],
        [("up", config(["apps"])), ("up", config(["apps"], secretName="pull-v2"))],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
         {**view(secret__apps=None, sa__apps__default=["pull-v2"]), "secret/apps/pull-v2": PASSWORD}],
    ),
    Scenario(
        "a rotated password, replacing the Secret",
        ["apps"],
        [("up", config(["apps"])), ("up", config(["apps"], password=NEW_PASSWORD))],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
         view(secret__apps=NEW_PASSWORD, sa__apps__default=[SECRET])],
    ),
    Scenario(
        "a rotated password with enableSecretMutable",
        ["apps"],
        [("up", config(["apps"])), ("up", config(["apps"], password=NEW_PASSWORD))],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
         view(secret__apps=NEW_PASSWORD, sa__apps__default=[SECRET])],
        options={"enable_secret_mutable": True},
    ),
    Scenario(
        "named and patched ServiceAccounts",
        ["apps"],
        [("up", config([{"name": "apps", "serviceAccounts": ["builder"], "patchServiceAccounts": ["deployer"]}])),
         ("destroy",)],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET], sa__apps__builder=[SECRET],
              sa__apps__deployer=[SECRET]),
         view(secret__apps=None, sa__apps__default=[], sa__apps__builder=None, sa__apps__deployer=[])],
        accounts={"apps/deployer": []},
    ),
    Scenario(
        "node bootstrap: destroy removes everything of ours",
        ["apps"],
        [("up", config(["apps"], nodeBootstrap={"enabled": True})), ("destroy",)],
        [view(secret__apps=PASSWORD, sa__apps__default=[SECRET], **{f"secret__{NODE_NS}": PASSWORD}),
         view(**APPS_CLEAN, **{f"secret__{NODE_NS}": None})],
    ),
    Scenario(
        "a different kubectl-made Secret of the same name stops up; delete it and up works",
        ["apps"],
        [("kubectl-secret", "apps", SECRET, OTHER_PASSWORD), ("up", config(["apps"])),
         ("kubectl-delete-secret", "apps", SECRET), ("up", config(["apps"]))],
        [view(secret__apps=OTHER_PASSWORD, sa__apps__default=[]),
         view("error", secret__apps=OTHER_PASSWORD, sa__apps__default=[]),
         view(**APPS_CLEAN),
         view(secret__apps=PASSWORD, sa__apps__default=[SECRET])],
    ),
    Scenario(
        "an identical kubectl-made Secret of the same name",
        ["apps"],
        [("kubectl-secret", "apps", SECRET, PASSWORD), ("up", config(["apps"]))],
        [view(secret__apps=PASSWORD, sa__apps__default=[]),
         view("error", secret__apps=PASSWORD, sa__apps__default=[])],
        real={1: (view(secret__apps=PASSWORD, sa__apps__default=[SECRET]),
                  "4.25.0 creates with a server-side apply, which adopts an identical object; 4.29 creates "
                  "client-side and fails with AlreadyExists (pulumi-kubernetes #2926, PR #4278)")},
    ),
]


def kubectl_data(password: str) -> str:
    """`.dockerconfigjson` as `kubectl create secret docker-registry` writes it for our one registry, base64."""
    auth = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    entry = {"username": USERNAME, "password": password, "auth": auth}
    return base64.b64encode(json.dumps({"auths": {SERVER: entry}}, separators=(",", ":")).encode()).decode()


def password_of(dockerconfigjson_b64: Optional[str]) -> Optional[str]:
    """The password our registry has in a Secret's `.dockerconfigjson` (base64), or None."""
    if dockerconfigjson_b64 is None:
        return None
    auths = json.loads(base64.b64decode(dockerconfigjson_b64))["auths"]
    return (auths.get(SERVER) or {}).get("password")


def keys_of(expect: Sequence[Mapping[str, Any]]) -> List[str]:
    """Every object key an expectation list mentions, in order."""
    keys: List[str] = []
    for step in expect:
        keys += [k for k in step if k != "outcome" and k not in keys]
    return keys


def expected(scenario: Scenario, index: int, real: bool) -> Dict[str, Any]:
    """What step `index` must leave, on the model (real=False) or on the real 4.25.0 provider."""
    if real and index in scenario.real:
        return scenario.real[index][0]
    return scenario.expect[index]
