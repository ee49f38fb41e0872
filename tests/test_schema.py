"""Pulumi's component analyzer infers a schema from the component, offline: the token and args stay hostable."""

import json

from pulumi.provider.experimental.component import ComponentProvider

from registry_credentials import TYPE_TOKEN, RegistryCredentials


def schema() -> dict:
    provider = ComponentProvider([RegistryCredentials], "registry-credentials", None, "0.1.0")
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
