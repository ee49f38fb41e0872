"""The `verify` setting in a program run: warnings per registry, `fail` stops before anything is registered."""

import re

import pulumi
import pytest

from registry_credentials import ConfigError, RegistryCredentials, VerifyMode
from registry_credentials.cli.mockrun import RecordingMocks, run_program
from registry_credentials.config.stack_files import PLACEHOLDER
from registry_credentials.verify.settings import DEFAULT_ENV
from support.records import plaintext_of
from support.stack import run_stack_program
from support.tls_registry import PASSWORD, USERNAME

SECRET = "kubernetes:core/v1:Secret"


def stack_values(registry, password=PASSWORD, **settings):
    """Stack config with one TLS test registry (trusting its CA) and one namespace."""
    top = {k: settings.pop(k) for k in list(settings) if k == "verify"}
    return {
        "registries": [{"name": "local", "server": registry.host, "username": USERNAME,
                        "caFile": str(registry.ca_file), **settings}],
        "passwords": {"local": password},
        "namespaces": ["apps"],
        **top,
    }


def output_text(run):
    return "\n".join(m for _, m in run.logs) + plaintext_of(run)


def test_warn_gives_one_warning_naming_registry_and_outcome(tls_basic_registry):
    run = run_stack_program(stack_values(tls_basic_registry, "wrong-password", verify="warn"))
    warnings = [w for w in run.warnings if "credentials check" in w]
    assert len(warnings) == 1
    assert f"registries[0] ({tls_basic_registry.host}): rejected for user {USERNAME!r}" in warnings[0]
    assert run.of_type(SECRET), "warn deploys anyway"
    assert "wrong-password" not in output_text(run)


def test_accepted_credentials_give_no_warning(tls_token_registry):
    run = run_stack_program(stack_values(tls_token_registry, verify="fail"))
    assert not [w for w in run.warnings if "credentials check" in w]
    assert PASSWORD not in output_text(run)


def test_warn_is_the_default(tls_basic_registry, monkeypatch):
    monkeypatch.delenv(DEFAULT_ENV)
    run = run_stack_program(stack_values(tls_basic_registry, "wrong-password"))
    assert [w for w in run.warnings if "rejected for user" in w]


def test_fail_stops_the_run_before_anything_is_registered(tls_token_registry):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack_program(stack_values(tls_token_registry, "wrong-password", verify="fail"), mocks=mocks)
    assert f"registries[0] ({tls_token_registry.host}): rejected for user {USERNAME!r}" in str(raised.value)
    assert "Nothing was changed" in str(raised.value)
    assert "wrong-password" not in str(raised.value)
    assert mocks.records == []


def test_per_registry_override_beats_the_stack_setting(tls_basic_registry):
    off = run_stack_program(stack_values(tls_basic_registry, "wrong-password", verify="off"))
    assert not [w for w in off.warnings if "credentials check" in w]
    # Now `fail` on the registry under a stack-wide `off`, then the other way round.
    values = stack_values(tls_basic_registry, "wrong-password")
    values["verify"] = "off"
    values["registries"][0]["verify"] = "fail"
    with pytest.raises(ConfigError, match="rejected"):
        run_stack_program(values, mocks=RecordingMocks())
    values["registries"][0]["verify"] = "off"
    values["verify"] = "fail"
    assert run_stack_program(values).of_type(SECRET)


def test_unreachable_stays_a_warning_under_fail():
    values = {
        "registries": [{"name": "gone", "server": "127.0.0.1:1", "username": USERNAME}],
        "passwords": {"gone": PASSWORD}, "namespaces": ["apps"], "verify": "fail",
    }
    run = run_stack_program(values)
    (warning,) = [w for w in run.warnings if "credentials check" in w]
    assert "unreachable" in warning and "may not reach a registry that the cluster's nodes reach" in warning
    assert run.of_type(SECRET)


def test_insecure_registry_is_warned(real_registry):
    values = {
        "registries": [{"name": "plain", "server": real_registry.host, "username": real_registry.username,
                        "insecure": True}],
        "passwords": {"plain": real_registry.password}, "namespaces": ["apps"], "verify": "fail",
    }
    run = run_stack_program(values)
    assert [w for w in run.warnings if "insecure: true" in w]
    assert not [w for w in run.warnings if "credentials check" in w]


BAD_SETTINGS = [
    ({"verify": "maybe"}, "verify: must be one of warn, fail, off"),
    ({"registries": {"verify": "strict"}}, "registries[0] (harbor.example.com).verify: must be one of warn, fail, off"),
    ({"registries": {"insecure": "yes"}}, "registries[0] (harbor.example.com).insecure: must be true or false"),
    ({"verify": "warn", "registries": {"caFile": "/nonexistent/ca.pem"}},
     "registries[0] (harbor.example.com).caFile: /nonexistent/ca.pem is not a readable"),
]


@pytest.mark.parametrize("change, message", BAD_SETTINGS, ids=["verify", "registry-verify", "insecure", "ca-file"])
def test_bad_settings_name_the_field_and_register_nothing(change, message):
    values = {"registries": [{"name": "h", "server": "harbor.example.com", "username": "u",
                              **change.get("registries", {})}],
              "passwords": {"h": PASSWORD}, "namespaces": ["apps"]}
    if "verify" in change:
        values["verify"] = change["verify"]
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match=re.escape(message)):
        run_stack_program(values, mocks=mocks)
    assert mocks.records == []


def _component(registry, password, verify):
    def program():
        RegistryCredentials("creds", {
            "registries": [{"server": registry.host, "username": USERNAME, "password": password,
                            "ca_file": str(registry.ca_file)}],
            "namespaces": [{"name": "apps", "default_service_account": False}],
            "verify": verify,
        })
    return program


def test_component_with_plain_password_fails_before_registering(tls_basic_registry):
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="rejected"):
        run_program(_component(tls_basic_registry, "wrong-password", "fail"), mocks=mocks)
    assert mocks.records == []


def test_modes_given_as_the_exported_enum_act_like_their_text(tls_basic_registry):
    # VerifyMode is what other languages' SDKs send and what Python users may import; FAIL must fail, OFF must not.
    with pytest.raises(ConfigError, match="rejected"):
        run_program(_component(tls_basic_registry, "wrong-password", VerifyMode.FAIL))
    run = run_program(_component(tls_basic_registry, "wrong-password", VerifyMode.OFF))
    assert run.of_type(SECRET) and not [w for w in run.warnings if "credentials check" in w]


def test_component_with_output_password_gates_the_secret(tls_basic_registry):
    mocks = RecordingMocks()
    with pytest.raises(Exception, match="rejected .* The pull Secrets were not created or updated"):
        run_program(_component(tls_basic_registry, pulumi.Output.secret("wrong-password"), "fail"), mocks=mocks)
    assert [r.typ for r in mocks.records if r.typ == SECRET] == []


def test_component_with_output_password_warns_once_known(tls_basic_registry):
    run = run_program(_component(tls_basic_registry, pulumi.Output.secret("wrong-password"), "warn"))
    assert len([w for w in run.warnings if "rejected for user" in w]) == 1
    assert run.of_type(SECRET)
    good = run_program(_component(tls_basic_registry, pulumi.Output.secret(PASSWORD), "fail"))
    assert good.of_type(SECRET) and not [w for w in good.warnings if "credentials check" in w]


def test_stack_program_checks_once(tls_token_registry):
    before = len(tls_token_registry.issuer.requests)
    run_stack_program(stack_values(tls_token_registry, verify="warn"))
    assert len(tls_token_registry.issuer.requests) - before == 1


def test_placeholder_passwords_are_not_checked(monkeypatch):
    """`render` fills unset and encrypted passwords with a placeholder: those are unknown, so never checked."""
    monkeypatch.delenv(DEFAULT_ENV)
    values = {"registries": [{"name": "gone", "server": "127.0.0.1:1", "username": "u"}],
              "passwords": {"gone": PLACEHOLDER}, "namespaces": ["apps"]}
    run = run_stack_program(values)
    assert not [w for w in run.warnings if "credentials check" in w]
    values["passwords"] = {"gone": "a-real-password"}  # the same registry is checked once the password is known
    assert [w for w in run_stack_program(values).warnings if "credentials check" in w]
