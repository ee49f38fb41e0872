"""Full program runs on the platform model: preview, up, a second preview that plans nothing, and destroy.

Each scenario runs the real `__main__.py` (or the component) under Pulumi's mock runtime, with the platform model
(support.platform_model) answering registrations and reads as the engine, pulumi-kubernetes and the API
server would. See that module for the rules and their upstream sources.
"""

import base64
import gc
import json

import pulumi
import pytest
from pulumi.runtime import rpc

from registry_credentials import RegistryCredentials, render_dockerconfigjson
from registry_credentials.checks.names import label_value
from registry_credentials.service_accounts.resources import UnsafePatchError, field_manager
from support.platform import Stack, cluster_with, kubectl_secret, live, ops, owners, state_json
from support.platform_model import MAX_MANAGER, Platform, PlatformError, ProviderOptions
from support import scenarios
from support.records import plaintext_of, unwrap

PASSWORD = "S3cret-harbor-Pw!"
NEW_PASSWORD = "R0tated-harbor-Pw?"
REGISTRY = {"name": "harbor", "server": "harbor.example.com", "username": "robot$ci+puller"}
OURS = "pulumi-registry-credentials-test-registry-credentials"
SECRET = "registry-credentials"


def values(namespaces, password=PASSWORD, **extra):
    """Stack config for one registry."""
    return {"registries": [REGISTRY], "passwords": {"harbor": password}, "namespaces": namespaces, **extra}


def stack_on(cluster, options=None, **kwargs) -> Stack:
    return Stack(Platform(cluster, options), **kwargs)


def pull_secrets(stack: Stack, namespace: str, account: str = "default"):
    body = live(stack.platform, "ServiceAccount", namespace, account)
    return [e["name"] for e in (body or {}).get("imagePullSecrets", [])]


def secret_config(stack: Stack, namespace: str, name: str = SECRET) -> dict:
    body = live(stack.platform, "Secret", namespace, name)
    return json.loads(base64.b64decode(body["data"][".dockerconfigjson"]))


def assert_nothing_leaks(stack: Stack, *passwords: str) -> None:
    run = stack.last
    for secret in run.of_type("kubernetes:core/v1:Secret"):
        assert rpc.is_rpc_secret(secret.inputs["data"])
    exposed = plaintext_of(run) + state_json(stack.platform)
    for password in passwords:
        assert password not in exposed
        assert base64.b64encode(f"{REGISTRY['username']}:{password}".encode()).decode() not in exposed


# 1. Existing namespaces with clean ServiceAccounts; destroy leaves them exactly as before (docs/namespace-defaults.md).
def test_existing_namespaces_with_clean_service_accounts():
    stack = stack_on(cluster_with(["apps", "basic"])).configure(values(["apps", "basic"]))
    first = ops(stack.preview())
    assert first["registry-credentials:apps"] == "create" and first["registry-credentials:apps/default"] == "create"
    stack.deploy()
    for namespace in ("apps", "basic"):
        assert pull_secrets(stack, namespace) == [SECRET]
        assert owners(stack.platform, "ServiceAccount", namespace, "default", "imagePullSecrets") == [OURS]
        assert secret_config(stack, namespace)["auths"]["harbor.example.com"]["password"] == PASSWORD
    assert_nothing_leaks(stack, PASSWORD)
    stack.destroy()
    for namespace in ("apps", "basic"):
        assert live(stack.platform, "Secret", namespace, SECRET) is None
        assert stack.platform.cluster.snapshot()[f"ServiceAccount/{namespace}/default"] == {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}}


# 2. `create: true`: the first preview skips the read (the namespace does not exist yet); up creates everything.
def test_created_namespaces_first_preview_up_and_destroy():
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps", {"name": "fresh", "create": True}]))
    first = ops(stack.preview())
    assert first["registry-credentials:fresh/default:ensure"] == "create"
    assert [s.op for s in stack.platform.steps if s.urn.endswith("fresh/default:live")] == ["read-skipped"]
    stack.deploy()
    assert pull_secrets(stack, "fresh") == [SECRET]
    # The ensure patch owns no field, so it neither conflicts with the main patch nor keeps anything on destroy.
    fields = live(stack.platform, "ServiceAccount", "fresh", "default")["metadata"]["managedFields"]
    assert [f["manager"] for f in fields if f["fieldsV1"]] == [OURS]
    stack.destroy()
    assert not [key for key in stack.platform.cluster.snapshot() if "/fresh" in key]
    assert stack.platform.cluster.snapshot()["ServiceAccount/apps/default"]["metadata"] == {
        "name": "default", "namespace": "apps"}


# 3. Foreign pull secrets: `fail` stops at preview with nothing applied; `keep` keeps them and retains on destroy.
def test_foreign_pull_secrets_fail_at_preview_and_nothing_is_applied():
    stack = stack_on(cluster_with(["apps"], {"apps/default": ["team-registry"]})).configure(values(["apps"]))
    before = stack.platform.cluster.snapshot()
    with pytest.raises(UnsafePatchError, match="team-registry"):
        stack.preview()
    assert stack.platform.cluster.snapshot() == before


def test_foreign_pull_secrets_kept_and_left_in_place_on_destroy():
    cluster = cluster_with(["apps"], {"apps/default": ["team-registry"]})
    stack = stack_on(cluster).configure(values([{"name": "apps", "foreignPullSecrets": "keep"}]))
    stack.deploy()
    assert pull_secrets(stack, "apps") == ["team-registry", SECRET]
    assert owners(stack.platform, "ServiceAccount", "apps", "default", "imagePullSecrets") == [OURS]
    stack.destroy()
    # docs/namespace-defaults.md: on destroy the list is left as it is, theirs kept, ours left behind.
    assert pull_secrets(stack, "apps") == ["team-registry", SECRET]
    assert live(stack.platform, "Secret", "apps", SECRET) is None


# 4. A renamed secretName: our old entry is replaced, not kept as foreign.
def test_secret_name_changed_replaces_our_old_entry():
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps"]))
    stack.deploy()
    stack.configure(values(["apps"], secretName="pull-v2"))
    planned = ops(stack.preview())
    assert planned["registry-credentials:apps"] == "replace"
    stack.deploy()
    assert pull_secrets(stack, "apps") == ["pull-v2"]
    assert live(stack.platform, "Secret", "apps", SECRET) is None
    assert live(stack.platform, "Secret", "apps", "pull-v2") is not None


# 5. Rotation, with replacement and with enableSecretMutable: patches and the DaemonSet stay consistent.
ROTATIONS = [
    (ProviderOptions(), "replace"),
    (ProviderOptions(enable_secret_mutable=True), "update"),
]


@pytest.mark.parametrize("options, secret_op", ROTATIONS, ids=["replace", "enableSecretMutable"])
def test_rotated_credentials(options, secret_op):
    config = dict(namespaces=["apps"], nodeBootstrap={"enabled": True})
    stack = stack_on(cluster_with(["apps"]), options).configure(values(**config))
    stack.deploy()
    token = _rollout_token(stack)
    stack.configure(values(password=NEW_PASSWORD, **config))
    planned = ops(stack.preview())
    assert planned["registry-credentials:apps"] == secret_op
    assert planned["registry-credentials:registry-credentials-node"] == secret_op
    assert "registry-credentials:apps/default" not in planned  # the patch names the Secret, which keeps its name
    assert planned["registry-credentials:registry-credentials-node/rollout"] == "replace"
    assert planned["registry-credentials:registry-credentials-node/registry-credentials-node-agent"] in (
        "update", "replace")
    stack.deploy()
    assert secret_config(stack, "apps")["auths"]["harbor.example.com"]["password"] == NEW_PASSWORD
    assert secret_config(stack, "registry-credentials-node")["auths"]["harbor.example.com"]["password"] == NEW_PASSWORD
    assert pull_secrets(stack, "apps") == [SECRET]
    new_token = _rollout_token(stack)
    assert new_token != token  # the pods roll
    assert_nothing_leaks(stack, PASSWORD, NEW_PASSWORD)


def _rollout_token(stack: Stack) -> str:
    daemonset = live(stack.platform, "DaemonSet", "registry-credentials-node", "registry-credentials-node-agent")
    (rollout,) = [e for e in stack.platform.state.values() if e.typ == "random:index/randomId:RandomId"]
    annotations = daemonset["spec"]["template"]["metadata"]["annotations"]
    assert rollout.outputs["hex"] in annotations.values()
    return rollout.outputs["hex"]


def test_rollout_keeper_is_secret_in_state():
    """The keeper digest is derived from the credentials: additional_secret_outputs keeps it secret (defect d)."""
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps"], nodeBootstrap={"enabled": True}))
    stack.up()
    (rollout,) = [e for e in stack.platform.state.values() if e.typ == "random:index/randomId:RandomId"]
    assert "keepers" in rollout.secret_outputs
    digest = rollout.outputs["keepers"]["credentials"]
    assert digest not in state_json(stack.platform)


# 6. Destroy with node bootstrap: nothing of ours is left.
def test_destroy_with_node_bootstrap_removes_everything_of_ours():
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps"], nodeBootstrap={"enabled": True}))
    stack.deploy()
    assert live(stack.platform, "DaemonSet", "registry-credentials-node", "registry-credentials-node-agent")
    stack.destroy()
    assert sorted(stack.platform.cluster.snapshot()) == [
        "Namespace/apps", "ServiceAccount/apps/default"]
    assert stack.platform.state == {}


# 7. A Secret of the same name already exists (made with kubectl create secret docker-registry).
def _kubectl_data(password: str) -> str:
    registry = {"server": REGISTRY["server"], "username": REGISTRY["username"], "password": password}
    return base64.b64encode(render_dockerconfigjson([registry]).encode()).decode()


def test_existing_secret_green_preview_then_already_exists_then_delete_and_up():
    cluster = cluster_with(["apps"])
    kubectl_secret(cluster, "apps", SECRET, _kubectl_data("old-password"))
    stack = stack_on(cluster).configure(values(["apps"]))
    assert ops(stack.preview())["registry-credentials:apps"] == "create"  # preview cannot tell
    with pytest.raises(PlatformError, match=f'secrets "{SECRET}" already exists'):
        stack.up()
    # The documented path: delete it, then up again.
    stack.platform.cluster.delete(("Secret", "apps", SECRET))
    stack.deploy()
    assert secret_config(stack, "apps")["auths"]["harbor.example.com"]["password"] == PASSWORD
    assert pull_secrets(stack, "apps") == [SECRET]


@pytest.mark.parametrize("kubectl_password, works", [(PASSWORD, True), ("old-password", False)],
                         ids=["same-content", "different-content"])
def test_existing_secret_adopted_with_upsert_existing_objects(kubectl_password, works):
    cluster = cluster_with(["apps"])
    kubectl_secret(cluster, "apps", SECRET, _kubectl_data(kubectl_password))
    stack = stack_on(cluster, ProviderOptions(upsert_existing_objects=True)).configure(values(["apps"]))
    if not works:
        with pytest.raises(PlatformError, match='conflict with "kubectl-create": .data..dockerconfigjson'):
            stack.up()
        return
    stack.deploy()
    assert owners(stack.platform, "Secret", "apps", SECRET, "type") == sorted(["kubectl-create", OURS_SECRET(stack)])


def OURS_SECRET(stack: Stack) -> str:  # noqa: N802 (reads like the constant it stands for)
    (entry,) = [e for e in stack.platform.state.values() if e.typ == "kubernetes:core/v1:Secret"]
    return entry.manager


# 8. Long project, stack and component names: every field manager fits the API server's 128 characters.
def test_long_project_stack_and_component_names():
    name = "registry-credentials-" + "c" * 100  # past a label value's 63 characters: the label is derived
    project, stack_name = "p" * 100, "s" * 100

    def program():
        RegistryCredentials(name, {
            "registries": [{"server": "harbor.example.com", "username": "u",
                            "password": pulumi.Output.secret(PASSWORD)}],
            "namespaces": [{"name": "apps"}, {"name": "fresh", "create": True}],
        })

    stack = stack_on(cluster_with(["apps"]), program=program, project=project, stack=stack_name)
    stack.deploy()
    managers = {f["manager"] for obj in stack.platform.cluster.objects.values()
                for f in obj.body()["metadata"]["managedFields"]}
    assert managers and all(len(m) <= MAX_MANAGER for m in managers)
    assert pull_secrets(stack, "fresh") == [name]
    (owner,) = owners(stack.platform, "ServiceAccount", "apps", "default", "imagePullSecrets")
    assert len(owner) == MAX_MANAGER and owner.startswith(f"pulumi-{project}-{stack_name}-"[:111])
    (secret,) = [o for o in stack.platform.cluster.objects.values() if o.kind == "Secret" and o.namespace == "apps"]
    instance = secret.fields[("metadata", "labels", "app.kubernetes.io/instance")]
    assert instance == label_value(name) and len(instance) <= 63


def test_field_manager_is_capped_and_unique():
    long = "p" * 200
    capped = field_manager(long)
    assert len(capped) == MAX_MANAGER and capped != field_manager(long + "q")


def test_recorded_secret_inputs_through_the_platform_are_secret():
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps"]))
    run = stack.up()
    (secret,) = run.of_type("kubernetes:core/v1:Secret")
    assert rpc.is_rpc_secret(secret.inputs["data"])
    assert unwrap(secret.inputs)["metadata"]["name"] == SECRET


# Transforms see what the engine hands them: secrets, unknowns and props with dependencies as Outputs (defect e).
def _workload_program(image: str):
    def program():
        import pulumi_kubernetes as k8s

        rc = RegistryCredentials("rc", {
            "registries": [{"server": "harbor.example.com", "username": "u", "password": pulumi.Output.secret("pw")}],
            "namespaces": [{"name": "apps"}],
        })
        namespace = rc.secret_names.apply(lambda names: "apps")  # a prop with a dependency
        k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": namespace}, spec={
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{
                "name": "c", "image": image, "env": [{"name": "TOKEN", "value": pulumi.Output.secret("tok-S3cret")}],
            }]}},
        }, opts=pulumi.ResourceOptions(transforms=[rc.image_check_transform(), rc.pull_secret_transform()]))
    return program


@pytest.mark.parametrize("image, warned", [("quay.io/team/web:1", True), ("harbor.example.com/team/web:1", False)])
def test_transforms_handle_outputs_as_the_engine_sends_them(image, warned):
    stack = stack_on(cluster_with(["apps"]), program=_workload_program(image), run_transforms=True)
    run = stack.up()
    warnings = [w for w in run.warnings if "web" in w]
    assert warnings == ([f"Deployment apps/web: image {image} matches none of the configured registry keys "
                         "(harbor.example.com); the kubelet would pull it anonymously. Add its registry, or fix the "
                         "image name."] if warned else [])
    (deployment,) = run.of_type("kubernetes:apps/v1:Deployment")
    assert unwrap(deployment.inputs)["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "rc"}]
    assert "tok-S3cret" not in plaintext_of(run)
    stack.preview()
    assert stack.platform.changes() == []


def test_named_and_patched_service_accounts():
    cluster = cluster_with(["basic"], {"basic/ci-runner": []})
    stack = stack_on(cluster).configure(values([
        {"name": "basic", "serviceAccounts": ["service1"], "patchServiceAccounts": ["ci-runner"]}]))
    stack.deploy()
    assert pull_secrets(stack, "basic", "service1") == [SECRET]
    assert pull_secrets(stack, "basic", "ci-runner") == [SECRET]
    stack.destroy()
    assert live(stack.platform, "ServiceAccount", "basic", "service1") is None
    assert pull_secrets(stack, "basic", "ci-runner") == []


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_project_stacks_deploy_from_the_readme_precondition(name):
    from registry_credentials.cli import render
    from registry_credentials.config.stack_files import load_stack
    from support.stack import PROJECT_DIR

    platform = Platform(materialize_missing=True)
    config = load_stack(PROJECT_DIR, name)
    render.run_stack(config, platform)
    render.run_stack(config, platform, preview=False)
    render.run_stack(config, platform)
    assert platform.changes() == []
    platform.destroy()
    assert not [key for key in platform.cluster.snapshot() if key.startswith("Secret/")]


def test_someone_editing_the_list_after_us_stops_the_next_preview():
    stack = stack_on(cluster_with(["apps"])).configure(values(["apps"]))
    stack.deploy()
    stack.platform.cluster.update(("ServiceAccount", "apps", "default"),
                                  {("imagePullSecrets",): [{"name": SECRET}, {"name": "team"}]})
    with pytest.raises(UnsafePatchError, match="'team'"):
        stack.preview()


@pytest.mark.parametrize("options, works", [(ProviderOptions(upsert_existing_objects=True), True),
                                            (ProviderOptions(upsert_existing_objects=True,
                                                             enable_secret_mutable=True), False)],
                         ids=["replace", "enableSecretMutable"])
def test_rotation_after_adopting_with_upsert(options, works):
    cluster = cluster_with(["apps"])
    kubectl_secret(cluster, "apps", SECRET, _kubectl_data(PASSWORD))
    stack = stack_on(cluster, options).configure(values(["apps"]))
    stack.deploy()
    stack.configure(values(["apps"], password=NEW_PASSWORD))
    if not works:
        # kubectl-create still co-owns .data: an in-place update to another value is a conflict.
        with pytest.raises(PlatformError, match='conflict with "kubectl-create"'):
            stack.up()
        return
    stack.deploy()
    assert secret_config(stack, "apps")["auths"]["harbor.example.com"]["password"] == NEW_PASSWORD


# The scenario list the real engine runs too (support.scenarios; tests/e2e/test_model_scenarios.py).
class ModelDriver:
    """Runs support.scenarios steps on the platform model: one cluster, a Platform (its own state) per stack."""

    def __init__(self, scenario: scenarios.Scenario) -> None:
        self.cluster = cluster_with(scenario.namespaces, scenario.accounts, applied=scenario.applied)
        self.options = ProviderOptions(**scenario.options)
        self.stacks = {}

    def stack(self, name: str) -> Stack:
        if name not in self.stacks:
            self.stacks[name] = Stack(Platform(self.cluster, self.options), stack=name)
        return self.stacks[name]

    def step(self, step) -> str:
        """Run one step; its outcome ("ok" or "error")."""
        kind, *rest = step
        if kind == "kubectl-patch":
            namespace, name = rest[0].split("/")
            self.cluster.update(("ServiceAccount", namespace, name),
                                {("imagePullSecrets",): [{"name": n} for n in rest[1]]}, manager="kubectl-patch")
            return "ok"
        if kind == "kubectl-secret":
            kubectl_secret(self.cluster, rest[0], rest[1], scenarios.kubectl_data(rest[2]))
            return "ok"
        if kind == "kubectl-delete-secret":
            self.cluster.delete(("Secret", rest[0], rest[1]))
            return "ok"
        if kind == "destroy":
            stack, config = self.stack(rest[0] if rest else "test"), None
        else:
            stack, config = self.stack(rest[1] if len(rest) > 1 else "test"), rest[0]
        try:
            if config is None:
                stack.destroy()
            else:
                # "up" is `pulumi up --skip-preview`, as the Automation API runs it.
                stack.configure(config).run(preview=(kind == "preview"))
        except (PlatformError, UnsafePatchError, pulumi.RunError, ValueError):
            return "error"
        finally:
            # A failed run leaves Futures whose exception nobody read; their __del__ logs it with a traceback,
            # and Python 3.11 formats tracebacks with ast.parse, which is not re-entrant there (python/cpython
            # gh-106905): collected during a later run's parse, they fail it with "AST constructor recursion
            # depth mismatch". Collect them now, between runs. (A real program run is a process of its own.)
            gc.collect()
        return "ok"

    def observe(self, keys) -> dict:
        """What the cluster holds for each key: `secret/ns[/name]` -> its password, `sa/ns/name` -> its list."""
        found = {}
        for key in keys:
            kind, namespace, *name = key.split("/")
            if kind == "secret":
                body = live_of(self.cluster, "Secret", namespace, name[0] if name else SECRET)
                found[key] = scenarios.password_of(body["data"][".dockerconfigjson"]) if body else None
            else:
                body = live_of(self.cluster, "ServiceAccount", namespace, name[0])
                found[key] = None if body is None else [e["name"] for e in body.get("imagePullSecrets", [])]
        return found


def live_of(cluster, kind, namespace, name):
    obj = cluster.get((kind, namespace, name))
    return obj.body() if obj else None


@pytest.mark.parametrize("scenario", scenarios.SCENARIOS, ids=[s.name for s in scenarios.SCENARIOS])
def test_shared_scenarios_on_the_model(scenario):
    driver = ModelDriver(scenario)
    for index, step in enumerate(scenario.steps):
        outcome = driver.step(step)
        want = scenarios.expected(scenario, index, real=False)
        got = {"outcome": outcome, **driver.observe([k for k in want if k != "outcome"])}
        assert got == want, f"step {index}: {step[0]}"
