"""Pulumi's component analyzer infers a schema from the component, offline: the token and args stay hostable."""

import json

from pulumi.provider.experimental.component import ComponentProvider

from registry_credentials import TYPE_TOKEN, RegistryCredentials


def schema() -> dict:
    # Any version: the analyzer only reports it.
    provider = ComponentProvider([RegistryCredentials], "registry-credentials", None, "0.0.0-test")
    return json.loads(provider.schema) if isinstance(provider.schema, str) else provider.schema


def test_type_token_and_properties():
    assert TYPE_TOKEN == "registry-credentials:index:RegistryCredentials"
    resource = schema()["resources"][TYPE_TOKEN]
    assert resource["isComponent"] is True
    assert set(resource["requiredInputs"]) == {"registries", "namespaces"}
    assert {"registries", "namespaces", "secretName"} <= set(resource["inputProperties"])
    assert {"secretNames", "imagePullSecrets", "dockerconfigjson"} <= set(resource["properties"])


def test_counts_are_plain_and_the_password_is_an_input():
    types = schema()["types"]
    registry = types["registry-credentials:index:RegistryArgs"]["properties"]
    assert registry["server"].get("plain") is True
    assert "plain" not in registry["password"]
    assert "email" not in types["registry-credentials:index:RegistryArgs"]["required"]


def test_constrained_strings_are_enums_and_secrets_are_marked():
    from registry_credentials.plugin.provider import RegistryCredentialsProvider

    served = json.loads(RegistryCredentialsProvider("0.0.0-test").schema)
    types = served["types"]
    namespace = types["registry-credentials:index:NamespaceArgs"]["properties"]
    assert namespace["foreignPullSecrets"]["$ref"] == "#/types/registry-credentials:index:ForeignPullSecrets"
    assert [e["value"] for e in types["registry-credentials:index:ForeignPullSecrets"]["enum"]] == ["fail", "keep"]
    assert [e["value"] for e in types["registry-credentials:index:VerifyMode"]["enum"]] == ["warn", "fail", "off"]
    assert types["registry-credentials:index:RegistryArgs"]["properties"]["password"]["secret"] is True
    assert served["resources"][TYPE_TOKEN]["properties"]["dockerconfigjson"]["secret"] is True
    for field in ("description", "publisher", "displayName"):
        assert served[field], field
    # The project has no public home yet, so pyproject.toml has no [project.urls] and the schema advertises none.
    assert "repository" not in served and "homepage" not in served
    assert {"kind/component", "category/infrastructure"} <= set(served["keywords"])

