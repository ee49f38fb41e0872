"""A pull Secret of the same name made beforehand with `kubectl create secret docker-registry`.

What `up` does with it depends on the provider: 4.29 and later create client-side and fail with AlreadyExists
(pulumi-kubernetes PR #4278); the 4.25.0 provider the toolchain can build creates with a server-side apply, which
adopts an identical Secret and conflicts with kubectl's field manager on a different one
(provider/pkg/await/await.go, Creation). The documented path, delete it and run up again, works with both.
"""

import pytest
from pulumi import automation as auto

from e2e.scenario import DEV_PASSWORDS, dockerconfig, managers, repo_stack, secret


def kubectl_secret(control_plane, namespace: str, password: str) -> None:
    result = control_plane.kubectl(
        "create", "secret", "docker-registry", "registry-credentials", "-n", namespace,
        "--docker-server=harbor.dev.example.com", "--docker-username=robot$dev+puller", f"--docker-password={password}")
    assert result.returncode == 0, result.stderr


def test_a_different_kubectl_secret_stops_up_and_the_documented_delete_then_up_works(engine, control_plane):
    stack = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=["apps", "basic"])
    kubectl_secret(control_plane, "apps", "an-old-password")
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    message = str(failure.value)
    # 4.25: "Server-Side Apply field conflict detected ... manager kubectl-create"; 4.29+: "already exists".
    assert "registry-credentials" in message and ("kubectl-create" in message or "already exists" in message)
    assert "an-old-password" not in message

    result = control_plane.kubectl("delete", "secret", "registry-credentials", "-n", "apps")
    assert result.returncode == 0, result.stderr
    stack.up()
    auths = dockerconfig(control_plane, "apps", "registry-credentials")["auths"]
    assert auths["harbor.dev.example.com"]["password"] == DEV_PASSWORDS["harbor"]
    stack.assert_no_changes()
    stack.destroy()
    assert secret(control_plane, "apps", "registry-credentials") is None


def test_an_identical_kubectl_secret_is_adopted_by_the_server_side_create_of_4_25(engine, control_plane):
    """Only a single-registry stack can match kubectl's Secret; the adopted Secret keeps kubectl as a co-owner."""
    stack = repo_stack(engine, control_plane, "one", {"harbor": DEV_PASSWORDS["harbor"]}, namespaces=["apps"],
                       stack_config={"registries": [{"name": "harbor", "server": "harbor.dev.example.com",
                                                     "username": "robot$dev+puller"}],
                                     "namespaces": ["apps"]})
    kubectl_secret(control_plane, "apps", DEV_PASSWORDS["harbor"])
    before = secret(control_plane, "apps", "registry-credentials")
    stack.up()
    after = secret(control_plane, "apps", "registry-credentials")
    assert after["metadata"]["uid"] == before["metadata"]["uid"] and after["data"] == before["data"]
    assert {"kubectl-create"} < set(managers(after))
    stack.assert_no_changes()
