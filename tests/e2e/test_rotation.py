"""Rotation on the real engine: a renamed secretName and a new password, watched event by event.

A watch on the namespace's Secrets and ServiceAccounts records every state the API server went through during
`pulumi up`; after each one, every ServiceAccount we manage must list a pull Secret that exists.
"""

import pytest

from toolchain.controlplane import Watch

from e2e.scenario import PROD_PASSWORDS, dockerconfig, pull_secrets, repo_stack, secret

NODE_NS = "registry-credentials-node"
DAEMONSET = f"/apis/apps/v1/namespaces/{NODE_NS}/daemonsets/registry-credentials-node-agent"


def watch_apps(control_plane) -> Watch:
    return Watch(control_plane, "apps", {"Secret": "/api/v1/namespaces/apps/secrets",
                                         "ServiceAccount": "/api/v1/namespaces/apps/serviceaccounts"})


def gaps(watch: Watch) -> list:
    """States in which the `default` ServiceAccount listed pull Secrets but none of them existed."""
    found = []
    for state in watch.states():
        account = state.get(("ServiceAccount", "default"))
        names = [e["name"] for e in (account or {}).get("imagePullSecrets") or []]
        if names and not any(("Secret", n) in state for n in names):
            found.append(names)
    return found


def test_renamed_secret_name_never_leaves_a_dangling_entry(engine, control_plane):
    stack = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps", "payments"])
    stack.up()
    generation = control_plane.get(DAEMONSET)["metadata"]["generation"]
    stack.set_config("secretName", "harbor-pull-v2")
    with watch_apps(control_plane) as watch:
        stack.up()
    assert pull_secrets(control_plane, "apps") == ["harbor-pull-v2"]
    assert secret(control_plane, "apps", "harbor-pull") is None
    assert dockerconfig(control_plane, "apps", "harbor-pull-v2")["auths"]["harbor.example.com"]["password"] == \
        PROD_PASSWORDS["harbor"]
    assert gaps(watch) == []
    daemonset = control_plane.get(DAEMONSET)
    assert daemonset["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "harbor-pull-v2"}]
    assert daemonset["metadata"]["generation"] == generation + 1  # one rollout


@pytest.mark.parametrize("mutable", [False, True], ids=["replace", "enableSecretMutable"])
def test_rotated_password_reaches_every_secret_and_rolls_the_agents_once(engine, control_plane, mutable):
    """A new password: every Secret holds it after `up`, the agents roll once.

    By default pulumi-kubernetes replaces a Secret whose data changed, and with a fixed name it deletes the old one
    first (provider.go Diff: delete-before-replace unless auto-named; diff.go forceNewProperties), so for a moment
    the ServiceAccount names a Secret that does not exist: a pull then fails and the kubelet retries it. With the
    provider's `enableSecretMutable` the Secret is updated in place and there is no such moment.
    """
    config = {"kubernetes:enableSecretMutable": "true"} if mutable else {}
    stack = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps", "payments"],
                       config=config)
    stack.up()
    uid = secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"]
    generation = control_plane.get(DAEMONSET)["metadata"]["generation"]
    stack.set_config("passwords.harbor", "Rotated-harbor-S3cret#", secret=True)
    with watch_apps(control_plane) as watch:
        stack.up()
    for namespace in ("apps", "payments", NODE_NS):
        assert dockerconfig(control_plane, namespace, "harbor-pull")["auths"]["harbor.example.com"]["password"] == \
            "Rotated-harbor-S3cret#"
    assert pull_secrets(control_plane, "apps") == ["harbor-pull"]
    replaced = secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"] != uid
    assert replaced is not mutable
    if mutable:
        assert gaps(watch) == []
    else:
        # The only gap is the delete-before-replace of our own Secret: one DELETED, then its ADDED.
        assert gaps(watch) == [["harbor-pull"]]
    assert control_plane.get(DAEMONSET)["metadata"]["generation"] == generation + 1
    stack.assert_no_changes()
