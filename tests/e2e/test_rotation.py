"""Rotation on the real engine: a renamed secretName and a new password, watched event by event.

A watch on the namespace's Secrets and ServiceAccounts records every state the API server went through during
`pulumi up`; after each one, every ServiceAccount we manage must list a pull Secret that exists.
"""

import pytest

from toolchain.controlplane import Watch

from e2e.scenario import PROD_PASSWORDS, assert_no_leak, changes, dockerconfig, pull_secrets, repo_stack, secret

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


OLD_PASSWORD = PROD_PASSWORDS["harbor"]
NEW_PASSWORD = "Next-harbor-S3cret%"
ROTATING = {
    "registries": [{"name": "harbor", "server": "harbor.example.com", "username": "robot$prod+puller",
                    "email": "platform@example.com"}],
    "namespaces": [{"name": "apps"}],
    "secretName": "harbor-pull",
}


def on(stack, today: str) -> None:
    """Run the stack's next operations as if today were `today` (the program reads REGISTRY_CREDENTIALS_TODAY)."""
    stack.stack.workspace.env_vars["REGISTRY_CREDENTIALS_TODAY"] = today


def test_a_window_adds_the_previous_secret_second_and_the_next_run_after_it_removes_it(engine, control_plane):
    """The `-previous` Secret appears, is listed second, and the first run after `until` removes it, with no other
    change in the diff; while the current Secret is replaced, every state lists a Secret that exists."""
    stack = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps"], stack_config=ROTATING)
    on(stack, "2026-12-10")
    stack.up()
    uid = secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"]

    # Rotate: the new password, the old one kept as previous until the 20th.
    stack.write_stack_config({**ROTATING, "registries": [{**ROTATING["registries"][0],
                                                           "previous": {"until": "2026-12-20"}}]})
    stack.set_config("passwords.harbor", NEW_PASSWORD, secret=True)
    stack.set_config("previousPasswords.harbor", OLD_PASSWORD, secret=True)
    with watch_apps(control_plane) as watch:
        result = stack.up()
    assert {op: n for op, n in changes(result).items() if op != "read"} == {"create": 2, "update": 1, "replace": 1}
    assert pull_secrets(control_plane, "apps") == ["harbor-pull", "harbor-pull-previous"]
    assert dockerconfig(control_plane, "apps", "harbor-pull")["auths"]["harbor.example.com"]["password"] == NEW_PASSWORD
    previous = dockerconfig(control_plane, "apps", "harbor-pull-previous")["auths"]
    assert list(previous) == ["harbor.example.com"] and previous["harbor.example.com"]["password"] == OLD_PASSWORD
    assert secret(control_plane, "apps", "harbor-pull-previous")["metadata"]["annotations"] == {
        "registry-credentials.pulumi.com/previous-until": "2026-12-20"}
    assert secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"] != uid  # replaced (delete, then create)
    assert gaps(watch) == []  # the lists named -previous, which existed, before our Secret was deleted
    on(stack, "2026-12-20")
    stack.assert_no_changes()  # the last day of the window changes nothing

    # The day after: the preview warns, and the only changes are the -previous Secret and the list.
    uid = secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"]
    on(stack, "2026-12-21")
    preview = stack.preview()
    assert {op: n for op, n in changes(preview).items() if op != "read"} == {"delete": 1, "update": 1}
    assert "the overlap window ended on 2026-12-20" in stack.project.printed()
    stack.up()
    assert secret(control_plane, "apps", "harbor-pull-previous") is None
    assert pull_secrets(control_plane, "apps") == ["harbor-pull"]
    assert secret(control_plane, "apps", "harbor-pull")["metadata"]["uid"] == uid  # untouched
    stack.assert_no_changes()
    assert_no_leak([stack.project.printed(), stack.state()],
                   [("robot$prod+puller", OLD_PASSWORD), ("robot$prod+puller", NEW_PASSWORD)])


def test_until_already_past_on_a_first_run_fails_at_preview_and_registers_nothing(engine, control_plane):
    config = {**ROTATING, "registries": [{**ROTATING["registries"][0], "previous": {"until": "2026-12-01"}}]}
    stack = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps"], stack_config=config)
    stack.set_config("previousPasswords.harbor", "Old-S3cret-before", secret=True)
    on(stack, "2026-12-10")
    with pytest.raises(Exception) as raised:
        stack.preview()
    assert ("registries[0] (harbor.example.com).previous.until: 2026-12-01 is already past (today is 2026-12-10)"
            in str(raised.value))
    assert "Traceback" not in str(raised.value)
    assert secret(control_plane, "apps", "harbor-pull") is None and pull_secrets(control_plane, "apps") == []
