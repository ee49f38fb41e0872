"""Method 3 against someone else's pull secrets, set beforehand the way kubectl sets them (its own field manager)."""

import json

import pytest
from pulumi import automation as auto

from e2e.scenario import DEV_PASSWORDS, managers, pull_secrets, repo_stack, secret


KUBECTL_WAYS = ["patch", "apply-server-side"]


def foreign_entry(control_plane, way: str, namespace: str = "apps", name: str = "team-registry") -> None:
    """Someone else's entry, set the way kubectl sets it.

    `kubectl patch` is an Update; on a ServiceAccount that has no managedFields (the controller's `default` tracks
    no field) the API server then records no manager at all: tracking starts only with the first apply
    (k8s.io/apimachinery pkg/util/managedfields/internal/skipnonapplied.go). `kubectl apply --server-side` is an
    Apply under the manager `kubectl`, so the list has an owner.
    """
    if way == "patch":
        result = control_plane.kubectl("patch", "serviceaccount", "default", "-n", namespace,
                                       "-p", json.dumps({"imagePullSecrets": [{"name": name}]}))
    else:
        manifest = {"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": namespace}, "imagePullSecrets": [{"name": name}]}
        result = control_plane.kubectl("apply", "--server-side", "-f", "-", input_text=json.dumps(manifest))
    assert result.returncode == 0, result.stderr
    account = control_plane.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
    assert managers(account) == ([] if way == "patch" else ["kubectl"])


@pytest.mark.parametrize("way", KUBECTL_WAYS)
def test_fail_mode_stops_with_our_message_and_changes_nothing(engine, control_plane, way):
    stack = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=["apps", "basic"])
    foreign_entry(control_plane, way)
    before = control_plane.get("/api/v1/namespaces/apps/serviceaccounts/default")

    for operation in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as failure:
            operation()
        message = str(failure.value)
        assert "team-registry" in message and "foreignPullSecrets" in message
        assert "Traceback" not in message

    after = control_plane.get("/api/v1/namespaces/apps/serviceaccounts/default")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    for namespace in ("apps", "basic"):
        assert secret(control_plane, namespace, "registry-credentials") is None, "the run changed the cluster"
    assert pull_secrets(control_plane, "basic") == []


@pytest.mark.parametrize("way", KUBECTL_WAYS)
def test_keep_mode_keeps_their_entries_through_up_and_destroy(engine, control_plane, way):
    stack = repo_stack(engine, control_plane, "dev", DEV_PASSWORDS, namespaces=["apps", "basic"],
                       config={"namespaces[0].foreignPullSecrets": "keep"})
    foreign_entry(control_plane, way)
    stack.up()
    assert pull_secrets(control_plane, "apps") == ["team-registry", "registry-credentials"]
    stack.assert_no_changes()
    stack.destroy()
    # Documented: the list is left as it is on destroy, theirs kept and ours left behind (retainOnDelete).
    assert pull_secrets(control_plane, "apps") == ["team-registry", "registry-credentials"]
    assert secret(control_plane, "apps", "registry-credentials") is None
    assert pull_secrets(control_plane, "basic") == []
