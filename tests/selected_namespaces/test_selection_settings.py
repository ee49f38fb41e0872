"""`selected_namespaces` checked once into SelectedNamespaces: every mistake named as the user spelled it."""

import pytest

from registry_credentials import ConfigError
from registry_credentials.checks.spelling import Spelling
from registry_credentials.config.checker import check_args
from registry_credentials.selected_namespaces.settings import SecretCopy, SelectedNamespaces
from support.stack import run_stack_program

REGISTRY = {"server": "harbor.example.com", "username": "robot", "password": "pw"}
STACK_REGISTRY = {"name": "h", "server": "harbor.example.com", "username": "robot"}


def plan(selected, namespaces=(), **more):
    return check_args({"registries": [REGISTRY], "namespaces": list(namespaces), "selected_namespaces": selected,
                       **more}, component="rc")


def test_a_full_setting_is_normalised():
    selected = plan({
        "match_labels": {"team": "a", "example.com/pull": "true"}, "secret_copy": "external-secrets",
        "match_expressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]},
                              {"key": "legacy", "operator": "DoesNotExist"}],
        "source_namespace": "pull-source", "create_source_namespace": False,
    }).selected
    assert selected == SelectedNamespaces(
        secret_copy=SecretCopy.EXTERNAL_SECRETS, match_labels=(("example.com/pull", "true"), ("team", "a")),
        match_expressions=(("tier", "In", ("web", "api")), ("legacy", "DoesNotExist", ())),
        source_namespace="pull-source", create_source_namespace=False)
    assert selected.selector() == {
        "matchLabels": {"example.com/pull": "true", "team": "a"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]},
                             {"key": "legacy", "operator": "DoesNotExist"}],
    }
    assert selected.secret_copy is SecretCopy.EXTERNAL_SECRETS


def test_defaults_and_the_enum_member():
    selected = plan({"match_labels": {"team": "a"}, "secret_copy": SecretCopy.KYVERNO}).selected
    assert (selected.source_namespace, selected.create_source_namespace, selected.match_expressions) == (
        "registry-credentials-source", True, ())
    assert plan(None).selected is None


# (setting, what the one problem starts with), Python spelling.
PROBLEMS = [
    ({"match_labels": {"team": "a"}}, "selected_namespaces.secret_copy: choose the engine"),
    ({"match_labels": {"team": "a"}, "secret_copy": "reflector"},
     "selected_namespaces.secret_copy: must be one of kyverno, kyverno-cluster-policy, external-secrets"),
    ({"secret_copy": "kyverno"}, "selected_namespaces: set match_labels (or match_expressions); an empty selector"),
    ({"match_labels": {}, "match_expressions": [], "secret_copy": "kyverno"}, "selected_namespaces: set match_labels"),
    ({"match_labels": {"bad key!": "a"}, "secret_copy": "kyverno"},
     "selected_namespaces.match_labels['bad key!']: 'bad key!' is not a valid key; use an optional DNS prefix"),
    ({"match_labels": {"team": "a b"}, "secret_copy": "kyverno"},
     "selected_namespaces.match_labels['team']: 'a b' cannot be used as a label value"),
    ({"match_labels": {"team": 1}, "secret_copy": "kyverno"}, "selected_namespaces.match_labels: must map label names"),
    ({"match_labels": ["team"], "secret_copy": "kyverno"}, "selected_namespaces.match_labels: must map label names"),
    ({"match_expressions": {"key": "x"}, "secret_copy": "kyverno"}, "selected_namespaces.match_expressions: must be a"),
    ({"match_expressions": [{"key": "t", "operator": "in", "values": ["a"]}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist"),
    ({"match_expressions": [{"key": "t", "operator": "In"}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].values: operator In needs a non-empty list"),
    ({"match_expressions": [{"key": "t", "operator": "NotIn", "values": "a"}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].values: operator NotIn needs a non-empty list"),
    ({"match_expressions": [{"key": "t", "operator": "Exists", "values": ["a"]}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].values: must be empty with operator Exists"),
    ({"match_expressions": [{"key": "t", "operator": "In", "values": ["ok", "no way"]}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].values[1]: 'no way' cannot be used as a label value"),
    ({"match_expressions": [{"key": "t", "operator": "Exists", "value": "x"}], "secret_copy": "kyverno"},
     "selected_namespaces.match_expressions[0].value: unknown setting (did you mean 'values'?)"),
    ({"match_labels": {"team": "a"}, "secret_copy": "kyverno", "source_namespace": "Source"},
     "selected_namespaces.source_namespace: 'Source' is not a valid name"),
    ({"match_labels": {"team": "a"}, "secret_copy": "kyverno", "create_source_namespace": "yes"},
     "selected_namespaces.create_source_namespace: must be True or False"),
    ({"match_labels": {"team": "a"}, "secret_copy": "kyverno", "matchLabels": {}},
     "selected_namespaces.matchLabels: unknown setting (did you mean 'match_labels'?)"),
    ("kyverno", "selected_namespaces: expected a mapping"),
]


@pytest.mark.parametrize("selected, expected", PROBLEMS)
def test_each_mistake_is_one_clear_problem(selected, expected):
    with pytest.raises(ConfigError) as raised:
        plan(selected)
    assert len(raised.value.problems) == 1, raised.value.problems
    assert raised.value.problems[0].startswith(expected), raised.value.problems


def test_the_source_namespace_is_its_own():
    selected = {"match_labels": {"team": "a"}, "secret_copy": "kyverno", "source_namespace": "apps"}
    with pytest.raises(ConfigError) as raised:
        plan(selected, namespaces=[{"name": "apps"}])
    assert raised.value.problems == (
        "selected_namespaces.source_namespace: 'apps' is also in namespaces; the source Secret gets a namespace of "
        "its own, where nothing else runs and the copying engine may read only that Secret",)
    with pytest.raises(ConfigError) as raised:
        plan({**selected, "source_namespace": "node-creds"},
             node_bootstrap={"enabled": True, "namespace": "node-creds"})
    assert raised.value.problems == (
        "selected_namespaces.source_namespace: 'node-creds' is the node agent's namespace; give it its own",)
    # A node namespace that is off does not count.
    assert plan({**selected, "source_namespace": "node-creds"}, node_bootstrap={"namespace": "node-creds"}).selected


def test_stack_config_spells_it_in_camel_case_and_so_do_its_messages():
    values = {"registries": [STACK_REGISTRY], "passwords": {"h": "pw"}, "namespaces": ["apps"],
              "selectedNamespaces": {"matchLabels": {"team": "a"}, "secretCopy": "kyverno-cluster-policy",
                                     "sourceNamespace": "src", "createSourceNamespace": "false"}}
    run = run_stack_program(values)
    (policy,) = run.of_type("kubernetes:kyverno.io/v1:ClusterPolicy")
    assert run.of_type("kubernetes:core/v1:Namespace") == [], "createSourceNamespace: false"
    assert policy.inputs["spec"]["rules"][0]["generate"]["clone"] == {"namespace": "src", "name": "registry-credentials"}
    with pytest.raises(ConfigError) as raised:
        run_stack_program({**values, "selectedNamespaces": {"matchLabels": {"team": "a"}, "secretCopy": "Kyverno",
                                                            "createSourceNamespace": "no"}})
    assert sorted(raised.value.problems) == [
        "selectedNamespaces.createSourceNamespace: must be true or false, not 'no'",
        "selectedNamespaces.secretCopy: must be one of kyverno, kyverno-cluster-policy, external-secrets, not 'Kyverno'",
    ]


def test_the_settings_remember_their_spelling_for_later_messages():
    assert plan({"match_labels": {"t": "a"}, "secret_copy": "kyverno"}).selected.spelling is Spelling.SNAKE
    run = run_stack_program({"registries": [STACK_REGISTRY], "passwords": {"h": "pw"},
                             "selectedNamespaces": {"matchLabels": {"t": "a"}, "secretCopy": "kyverno"}})
    assert any("selectedNamespaces: could not ask the cluster" in w for w in run.warnings)
