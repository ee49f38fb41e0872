"""Construct inputs as the engine sends them, made into the plain shapes the component validates.

A component hosted as a plugin gets its inputs from the provider server, not from a Python caller:
- a secret or dependent value arrives as an *output value*: an `Output` already resolved when Construct starts
  (`rpc.deserialize_output_value` and `ProviderServicer._select_value` in pulumi build it from a completed future);
- a *bare* secret inside a list or map makes the SDK mark the whole enclosing value secret
  (`rpc.deserialize_property` pushes secretness "up"), so one secret password turns all of `registries` into one
  secret `Output`; so does a dependency of the list when the engine sends no output values.
The SDK maps schema names to Python names (`ComponentProvider.map_input_properties`) only in plain lists and maps,
so this runs before it, on schema names, guided by the schema: a property the analyzer marked `plain` must be known
now (it decides which resources exist); the others (the password) may stay Outputs. Resolved Outputs are unwrapped
and their dependencies returned, for the component's `depends_on`; anything else is refused with a message that
names the field as the user spelled it and says what to do.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Set

import pulumi

from .. import pulumi_internals
from ..errors import ConfigError

Schema = Mapping[str, Any]


@dataclass
class PlainInputs:
    """Inputs with every plain property plain, and the resources the unwrapped values depended on."""

    inputs: Dict[str, Any]
    depends_on: List[pulumi.Resource] = field(default_factory=list)


class _Walk:
    def __init__(self, schema: Schema) -> None:
        self.types: Mapping[str, Any] = schema.get("types", {})
        self.depends_on: Set[pulumi.Resource] = set()

    def properties(self, path: str, value: Any, properties: Mapping[str, Any]) -> Any:
        if not isinstance(value, Mapping):
            return value  # the SDK and the component's validation report the wrong shape
        return {
            key: self.value(f"{path}.{key}" if path else key, item, properties.get(key, {}))
            for key, item in value.items()
        }

    def value(self, path: str, value: Any, spec: Mapping[str, Any]) -> Any:
        if not spec.get("plain"):
            # Not plain (the password): any form is fine; the component makes every password secret itself.
            return value
        if isinstance(value, pulumi.Output):
            value = self._unwrap(path, value, spec)
        if isinstance(value, pulumi.output.Unknown):
            raise ConfigError(_not_known(path))
        ref = spec.get("$ref", "")
        if ref.startswith("#/types/"):
            shape = self.types.get(ref[len("#/types/"):], {})
            return self.properties(path, value, shape["properties"]) if "properties" in shape else value
        if spec.get("type") == "array" and isinstance(value, list):
            return [self.value(f"{path}[{i}]", item, spec.get("items", {})) for i, item in enumerate(value)]
        if spec.get("type") == "object" and isinstance(value, Mapping):
            items = spec.get("additionalProperties", {})
            return {k: self.value(f"{path}.{k}", v, items) for k, v in value.items()}
        return value

    def _unwrap(self, path: str, value: pulumi.Output, spec: Mapping[str, Any]) -> Any:
        data = pulumi_internals.resolved_data(value)
        if data is None:
            raise ConfigError(f"{path}: must be a plain value, not an Output: it decides which resources exist")
        # A list is "unknown" as soon as one element is (a password during preview): look inside it.
        if not data.is_known and not isinstance(data.value, (Mapping, list)):
            raise ConfigError(_not_known(path))
        if data.is_secret and not self._holds_secret_input(spec):
            raise ConfigError(
                f"{path}: arrived as a secret, but only a registry's password is kept secret (server, username, "
                "email and the namespace settings appear in preview messages and resource names); pass it as a "
                "plain value and mark only the password secret"
            )
        self.depends_on.update(data.resources)
        return data.value

    def _holds_secret_input(self, spec: Mapping[str, Any]) -> bool:
        """Whether a value of this shape contains a non-plain property, whose secretness the SDK may have pushed up."""
        ref = spec.get("$ref", "")
        if ref.startswith("#/types/"):
            shape = self.types.get(ref[len("#/types/"):], {})
            return any(not p.get("plain") or self._holds_secret_input(p) for p in shape.get("properties", {}).values())
        nested = spec.get("items") or spec.get("additionalProperties")
        return bool(nested) and self._holds_secret_input(nested)


def _not_known(path: str) -> str:
    return (
        f"{path}: is not known yet (it comes from a resource that is not created yet); it decides which resources "
        "exist, so give it as a plain value, and order with dependsOn instead"
    )


def plain_inputs(inputs: Mapping[str, Any], schema: Schema, token: str) -> PlainInputs:
    """Make the plain properties of resource `token`'s inputs plain values; raise ConfigError if one cannot be."""
    walk = _Walk(schema)
    properties = schema["resources"][token]["inputProperties"]
    plain = walk.properties("", inputs, properties)
    return PlainInputs(inputs=dict(plain), depends_on=list(walk.depends_on))
