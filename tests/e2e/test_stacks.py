"""The repository's own stacks on the real engine: preview, up, a preview that plans nothing, destroy.

Every assertion reads what the API server holds (never what Pulumi returned), and every run's output and the
stack's state are scanned for the passwords.
"""

from e2e.scenario import (
    DEV_PASSWORDS,
    PROD_PASSWORDS,
    assert_no_leak,
    changes,
    dockerconfig,
    kubectl_dockerconfig,
    managers,
    pull_secrets,
    repo_stack,
    secret,
)

DEV_REGISTRIES = [
    {"server": "harbor.dev.example.com", "username": "robot$dev+puller", "password": DEV_PASSWORDS["harbor"]},
    {"server": "docker.io", "username": "example-ci", "password": DEV_PASSWORDS["dockerhub"]},
]
PROD_REGISTRIES = [{"server": "harbor.example.com", "username": "robot$prod+puller",
                    "password": PROD_PASSWORDS["harbor"], "email": "platform@example.com"}]


def kubectl_rendered(registries):
    """kubectl's rendering of the registries, with docker.io under the key the component writes for it."""
    expected = kubectl_dockerconfig(registries)
    if "docker.io" in expected["auths"]:
        # The kubelet matches Docker Hub images under index.docker.io/v1/ (the legacy key every client reads).
        expected["auths"]["https://index.docker.io/v1/"] = expected["auths"].pop("docker.io")
    return expected


def test_dev_stack_up_is_idempotent_and_destroy_restores_the_service_accounts(engine, control_plane):
    dev = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=["apps", "basic"])
    before = {ns: control_plane.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default") for ns in ("apps", "basic")}

    planned = changes(dev.preview())
    assert planned.get("create") == 6  # the stack, the component, 2 Secrets, 2 ServiceAccount patches
    dev.up()
    for namespace in ("apps", "basic"):
        assert pull_secrets(control_plane, namespace) == ["registry-credentials"]
        assert dockerconfig(control_plane, namespace, "registry-credentials") == kubectl_rendered(DEV_REGISTRIES)
    dev.assert_no_changes()

    dev.destroy()
    for namespace in ("apps", "basic"):
        assert secret(control_plane, namespace, "registry-credentials") is None
        after = control_plane.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
        # Relinquished: the list, our annotations and our managedFields entry are gone; the object stays.
        assert after["metadata"]["uid"] == before[namespace]["metadata"]["uid"]
        assert "imagePullSecrets" not in after
        assert not after["metadata"].get("annotations")
        assert managers(after) == []
    assert_no_leak([dev.project.printed(), dev.state()],
                   [(r["username"], r["password"]) for r in DEV_REGISTRIES])


def test_prod_stack_with_node_bootstrap_up_is_idempotent_and_destroy_removes_ours(engine, control_plane):
    prod = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps", "payments"])
    prod.up()
    node_ns = "registry-credentials-node"
    namespace = control_plane.get(f"/api/v1/namespaces/{node_ns}")
    # Pod Security admission lets the privileged agent in only because of these labels.
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    for ns in ("apps", "payments", node_ns):
        assert dockerconfig(control_plane, ns, "harbor-pull") == kubectl_rendered(PROD_REGISTRIES)
    for ns in ("apps", "payments"):
        assert pull_secrets(control_plane, ns) == ["harbor-pull"]
    daemonset = control_plane.get(f"/apis/apps/v1/namespaces/{node_ns}/daemonsets/registry-credentials-node-agent")
    assert daemonset["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "harbor-pull"}]
    assert control_plane.get(f"/api/v1/namespaces/{node_ns}/configmaps/registry-credentials-node-agent")
    prod.assert_no_changes()

    prod.destroy()
    control_plane.wait_for(f"/api/v1/namespaces/{node_ns}", gone=True, timeout=60)
    for ns in ("apps", "payments"):
        assert secret(control_plane, ns, "harbor-pull") is None
        assert pull_secrets(control_plane, ns) == []
    assert_no_leak([prod.project.printed(), prod.state()],
                   [(r["username"], r["password"]) for r in PROD_REGISTRIES])


def test_created_namespace_first_preview_and_first_up_succeed(engine, control_plane):
    stack = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=["apps"],
                       config={"namespaces[1].name": "fresh",
                               "namespaces[1].create": True})
    planned = changes(stack.preview())
    assert planned.get("create", 0) >= 6 and "delete" not in planned
    stack.up()
    assert control_plane.get("/api/v1/namespaces/fresh")["metadata"]["labels"]["app.kubernetes.io/managed-by"] \
        == "pulumi"
    assert pull_secrets(control_plane, "fresh") == ["registry-credentials"]
    assert pull_secrets(control_plane, "apps") == ["registry-credentials"]
    stack.assert_no_changes()
    stack.destroy()
    control_plane.wait_for("/api/v1/namespaces/fresh", gone=True, timeout=60)


LONG_PROGRAM = """
import pulumi
from registry_credentials import RegistryCredentials

RegistryCredentials({name!r}, {{
    "registries": [{{"server": "harbor.example.com", "username": "u",
                    "password": pulumi.Output.secret(pulumi.Config().require_secret("password"))}}],
    "namespaces": [{{"name": "apps"}}, {{"name": "fresh", "create": True}}],
}})
"""


def test_longest_project_stack_and_component_names(engine, control_plane, tmp_path):
    """Pulumi's longest project and stack names (100 characters each, pulumi sdk/go/common/tokens) and a component
    name past a label value's 63 characters: every field manager fits the API server's 128 (FieldManagerMaxLength)."""
    project, stack_name = "p" * 100, "s" * 100
    name = "registry-credentials-" + "c" * 100
    source = tmp_path / "source"
    source.mkdir()
    (source / "Pulumi.yaml").write_text(
        f"name: {project}\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (source / "__main__.py").write_text(LONG_PROGRAM.format(name=name))
    control_plane.create_namespace("apps")
    copy = engine.project(source, "long")
    stack = copy.stack(stack_name, secrets={f"{project}:password": "Long-names-S3cret"})
    from toolchain.engine import run
    run(copy, "preview", stack)
    run(copy, "up", stack)
    for namespace in ("apps", "fresh"):
        account = control_plane.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
        assert [e["name"] for e in account["imagePullSecrets"]] == [name]
        assert all(len(m) <= 128 for m in managers(account))
        body = secret(control_plane, namespace, name)
        assert len(body["metadata"]["labels"]["app.kubernetes.io/instance"]) <= 63
    (ours,) = [m for m in managers(control_plane.get("/api/v1/namespaces/apps/serviceaccounts/default"))]
    assert len(ours) == 128 and ours.startswith(f"pulumi-{project}-{stack_name}-"[:111])
    run(copy, "preview", stack, expect_no_changes=True)
    run(copy, "destroy", stack)
    assert pull_secrets(control_plane, "apps") == []
