"""examples/python for real, as a new user runs it: its README's steps word for word, in a user's shell.

The README builds the package's wheel from the clone, installs it (not editable) into the example's venv, logs in to
a local backend, sets the config and runs `pulumi up`; the test then reads back what the API server holds, checks
that a second preview plans nothing, and runs the README's teardown.
"""

import json

from e2e.scenario import (
    checkout,
    dockerconfig,
    kubectl_dockerconfig,
    local_state,
    pull_secrets,
    readme_blocks,
    run_block,
    secret_forms,
    shell,
    user_shell,
)
from toolchain.engine import REPO

PASSWORD = "Shop-harbor-S3cret!"
USERNAME = "robot$shop+puller"
SECRET = "harbor-pull"


def pods(control_plane, namespace):
    return control_plane.get(f"/api/v1/namespaces/{namespace}/pods")["items"]


def test_the_python_cluster_stack_runs_as_its_readme_says(engine, control_plane, tmp_path):
    control_plane.add_nodes(2)  # the apps' Deployments must become ready (kwok runs nothing, but reports Running)
    clone = checkout(tmp_path / "clone", "examples/python")
    home = tmp_path / "home"
    env = user_shell(engine, home)
    setup, teardown = readme_blocks(REPO / "examples" / "python" / "README.md")
    printed = run_block(setup, clone, env, {"'<the robot account secret>'": PASSWORD})
    example = clone / "examples" / "python"

    # The package came from its wheel, not from the clone's sources.
    (wheel,) = (clone / "dist").glob("registry_credentials-*.whl")
    location = shell([str(example / "venv" / "bin" / "python"), "-c",
                      "import registry_credentials; print(registry_credentials.__file__)"], example, env)
    assert location.startswith(str(example / "venv" / "lib")), location

    # Both namespaces, each with the Secret exactly as kubectl renders it.
    expected = kubectl_dockerconfig([{"server": "harbor.example.com", "username": USERNAME, "password": PASSWORD}])
    for namespace in ("storefront", "payments"):
        assert dockerconfig(control_plane, namespace, SECRET) == expected
    # Method 3 in storefront, method 2 in payments, whose `default` is left alone.
    assert pull_secrets(control_plane, "storefront") == [SECRET]
    assert pull_secrets(control_plane, "payments", "payments-api") == [SECRET]
    assert pull_secrets(control_plane, "payments") == []
    # Every pod of both apps carries the Secret (the ServiceAccount admission plugin copies it in) and runs.
    for namespace, account in (("storefront", "default"), ("payments", "payments-api")):
        (pod,) = pods(control_plane, namespace)
        assert pod["spec"]["serviceAccountName"] == account
        assert pod["spec"]["imagePullSecrets"] == [{"name": SECRET}]
        assert pod["status"]["phase"] == "Running"

    outputs = json.loads(shell(["pulumi", "stack", "output", "--json"], example, env))
    assert outputs["pullSecrets"] == {"storefront": SECRET, "payments": SECRET}
    assert outputs["imagePullSecrets"]["payments"] == [{"name": SECRET}]
    assert outputs["apps"] == {"storefront": "storefront", "payments-api": "payments-api"}
    printed += shell(["pulumi", "preview", "--expect-no-changes"], example, env)

    state = local_state(home)
    printed += run_block(teardown, example, env, {})  # in the same directory, as the README's shell would be
    for namespace in ("storefront", "payments"):
        control_plane.wait_for(f"/api/v1/namespaces/{namespace}", gone=True, timeout=90)
    assert wheel.exists()
    for form in secret_forms(USERNAME, PASSWORD):
        assert form not in printed + state
