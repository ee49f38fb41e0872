"""The building blocks of every check: Kubernetes names, on/off values, "did you mean", spelling, label values."""

import pytest

from registry_credentials import ConfigError
from registry_credentials.checks.names import check_dns_label, check_dns_subdomain, check_label_value, label_value
from registry_credentials.checks.spelling import Spelling
from registry_credentials.checks.values import STACK, did_you_mean


# Full-string matches: `$` would also match before a trailing newline.
@pytest.mark.parametrize("check", [check_dns_label, check_dns_subdomain, check_label_value])
@pytest.mark.parametrize("value", ["apps\n", "apps\r", "\napps", "ap\tps"])
def test_name_checks_match_the_whole_string(check, value):
    with pytest.raises(ConfigError):
        check("field", value)
    assert check("field", "apps") == "apps"


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), ("true", True), ("FALSE", False),
                                             ("True", True), ("fAlSe", False)])
def test_parse_bool_accepts_booleans_and_true_false_text(value, expected):
    assert STACK.on_off("x", value) is expected


@pytest.mark.parametrize("value", ["off", "no", "yes", "on", "1", "0", "", " true", 1, 0, None, [], "t"])
def test_parse_bool_refuses_everything_else(value):
    with pytest.raises(ConfigError, match=r"^x: must be true or false, not "):
        STACK.on_off("x", value)


@pytest.mark.parametrize("word, choices, hint", [
    ("nodebootstrap", ["nodeBootstrap", "namespaces"], " (did you mean 'nodeBootstrap'?)"),
    ("NODEBOOTSTRAP", ["nodeBootstrap", "namespaces"], " (did you mean 'nodeBootstrap'?)"),
    ("zzz", ["nodeBootstrap", "namespaces"], ""),
])
def test_did_you_mean(word, choices, hint):
    assert did_you_mean(word, choices) == hint


def test_camel_message_rewrites_setting_names_but_not_quoted_values():
    assert Spelling.CAMEL.path("namespaces[0].patch_service_accounts[1]: 'max_surge' is not valid") == \
        "namespaces[0].patchServiceAccounts[1]: 'max_surge' is not valid"


# Component names are free text to Pulumi; label values are not. Valid ones stay as they are (no label changes for
# existing stacks), others get a stable, valid, distinct derivation.
@pytest.mark.parametrize("name, expected", [
    ("registry-credentials", "registry-credentials"),
    ("c" * 63, "c" * 63),
    ("Pull_Creds.v2", "Pull_Creds.v2"),
])
def test_valid_component_names_are_their_own_label(name, expected):
    assert label_value(name) == expected


@pytest.mark.parametrize("name", ["c" * 64, "pull creds/eu:prod", "-leading", "ünïcode", "x" * 300, "!!!"])
def test_other_component_names_get_a_valid_stable_label(name):
    value = label_value(name)
    check_label_value("label", value)
    assert value == label_value(name) and value != label_value(name + "2")
