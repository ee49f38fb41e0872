"""The platform model's scenario list (support.scenarios), on the real engine and API server.

tests/test_platform_scenarios.py runs the same list on the model. Each step's outcome and what the cluster then
holds must match the scenario's expectation, except where the scenario records what the real 4.25.0 provider does
instead, and why (it predates the 4.29 the project supports).
"""

import json
from typing import Any, Dict, List

import pytest
from pulumi import automation as auto

from e2e.scenario import StackRun, repo_stack
from registry_credentials.checks.spelling import camel
from support import scenarios


class RealDriver:
    """Runs support.scenarios steps with the real CLI against one control plane, one project copy per stack."""

    def __init__(self, engine: Any, control_plane: Any, scenario: scenarios.Scenario) -> None:
        self.engine = engine
        self.cluster = control_plane
        self.options = {f"kubernetes:{camel(k)}": str(v).lower() for k, v in scenario.options.items()}
        self.stacks: Dict[str, StackRun] = {}
        for namespace in scenario.namespaces:
            control_plane.create_namespace(namespace)
        for key, names in scenario.accounts.items():
            namespace, name = key.split("/")
            if name != "default":
                self._kubectl("create", "serviceaccount", name, "-n", namespace)
            if names:
                self._set_list(namespace, name, names, applied=scenario.applied)

    def _kubectl(self, *args: str, input_text: str = None) -> None:
        result = self.cluster.kubectl(*args, input_text=input_text)
        assert result.returncode == 0, result.stderr

    def _set_list(self, namespace: str, name: str, names: List[str], applied: bool = False) -> None:
        entries = [{"name": n} for n in names]
        if applied:
            manifest = {"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": name, "namespace": namespace}, "imagePullSecrets": entries}
            self._kubectl("apply", "--server-side", "-f", "-", input_text=json.dumps(manifest))
        else:
            self._kubectl("patch", "serviceaccount", name, "-n", namespace,
                          "-p", json.dumps({"imagePullSecrets": entries}))

    def stack(self, name: str, config: Dict[str, Any]) -> StackRun:
        values = {k: v for k, v in config.items() if k != "passwords"}
        if name not in self.stacks:
            self.stacks[name] = repo_stack(self.engine, self.cluster, name, config["passwords"], name=name,
                                           stack_config=values, config=self.options)
        else:
            run = self.stacks[name]
            # A later step's config: the stack file rewritten, the password set again.
            run.write_stack_config(values)
            for registry, password in config["passwords"].items():
                run.set_config(f"passwords.{registry}", password, secret=True)
        return self.stacks[name]

    def step(self, step: tuple) -> str:
        """Run one step; its outcome ("ok" or "error")."""
        kind, *rest = step
        if kind == "kubectl-patch":
            namespace, name = rest[0].split("/")
            self._set_list(namespace, name, rest[1])
            return "ok"
        if kind == "kubectl-secret":
            self._kubectl("create", "secret", "docker-registry", rest[1], "-n", rest[0],
                          f"--docker-server={scenarios.SERVER}", f"--docker-username={scenarios.USERNAME}",
                          f"--docker-password={rest[2]}")
            return "ok"
        if kind == "kubectl-delete-secret":
            self._kubectl("delete", "secret", rest[1], "-n", rest[0])
            return "ok"
        try:
            if kind == "destroy":
                self.stacks[rest[0] if rest else "test"].destroy()
            else:
                run = self.stack(rest[1] if len(rest) > 1 else "test", rest[0])
                run.preview() if kind == "preview" else run.up()
        except auto.CommandError:
            return "error"
        finally:
            self._settle()
        return "ok"

    def _settle(self) -> None:
        """Wait for namespaces being deleted to be gone, as the model deletes them at once."""
        self.cluster.wait_until(lambda: not any(
            n["metadata"].get("deletionTimestamp") for n in self.cluster.get("/api/v1/namespaces")["items"]),
            timeout=90, what="namespace deletion")

    def observe(self, keys: List[str]) -> Dict[str, Any]:
        """What the API server holds for each key: `secret/ns[/name]` -> its password, `sa/ns/name` -> its list."""
        found = {}
        for key in keys:
            kind, namespace, *name = key.split("/")
            if kind == "secret":
                body = self.cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name[0] if name else scenarios.SECRET}")
                found[key] = scenarios.password_of(body["data"][".dockerconfigjson"]) if body else None
            else:
                body = self.cluster.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name[0]}")
                found[key] = None if body is None else [e["name"] for e in body.get("imagePullSecrets") or []]
        return found


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=[s.name for s in scenarios.SCENARIOS])
def test_model_scenarios_on_the_real_engine(engine, control_plane, scenario):
    driver = RealDriver(engine, control_plane, scenario)
    for index, step in enumerate(scenario.steps):
        outcome = driver.step(step)
        want = scenarios.expected(scenario, index, real=True)
        got = {"outcome": outcome, **driver.observe([k for k in want if k != "outcome"])}
        assert got == want, f"step {index}: {step[0]}"
