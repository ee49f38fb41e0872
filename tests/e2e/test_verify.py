"""`verify: fail` on the real engine against a real registry (distribution 2.8, htpasswd, 127.0.0.1)."""

import base64
import json

import pytest
from pulumi import automation as auto

from e2e.scenario import assert_no_leak, dockerconfig, repo_stack, secret


def registry_config(registry):
    return {"registries": [{"name": "local", "server": registry.host, "username": registry.username,
                            "insecure": True}],
            "namespaces": ["apps"], "verify": "fail"}


def test_a_rejected_password_stops_the_run_before_anything_is_registered(engine, control_plane, real_registry):
    stack = repo_stack(engine, control_plane, "verify", {"local": "not-the-password"}, namespaces=["apps"],
                       stack_config=registry_config(real_registry))
    for operation in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as failure:
            operation()
        message = str(failure.value)
        assert "rejected" in message and real_registry.host in message
        assert "Traceback" not in message
    assert secret(control_plane, "apps", "registry-credentials") is None
    resources = stack.stack.export_stack().deployment.get("resources") or []
    assert [r["type"] for r in resources if r["type"] != "pulumi:pulumi:Stack"] == []
    assert_no_leak([stack.project.printed(), stack.state()], [(real_registry.username, "not-the-password")])


def test_an_accepted_password_deploys_a_secret_that_authenticates(engine, control_plane, real_registry, tmp_path):
    stack = repo_stack(engine, control_plane, "verify", {"local": real_registry.password}, namespaces=["apps"],
                       stack_config=registry_config(real_registry))
    stack.up()
    authfile = tmp_path / "config.json"
    authfile.write_text(json.dumps(dockerconfig(control_plane, "apps", "registry-credentials")))
    result = real_registry.inspect(authfile)
    assert result.returncode == 0, result.stderr
    data = secret(control_plane, "apps", "registry-credentials")["data"][".dockerconfigjson"]
    assert real_registry.host in base64.b64decode(data).decode()
    assert_no_leak([stack.project.printed(), stack.state()], [(real_registry.username, real_registry.password)])
