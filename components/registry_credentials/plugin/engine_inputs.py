"""Construct inputs as the engine sends them, made into the plain values the one checker checks.

A component hosted as a plugin gets its inputs from the provider server, not from a Python caller:
- a secret or dependent value arrives as an *output value*: an `Output` already resolved when Construct starts
  (`rpc.deserialize_output_value` and `ProviderServicer._select_value` in pulumi build it from a completed future);
- a *bare* secret inside a list or map makes the SDK mark the whole enclosing value secret
  (`rpc.deserialize_property` pushes secretness "up"), so one secret password turns all of `registries` into one
  secret `Output`; so does a dependency of the list when the engine sends no output values. Which property was sent
  secret is therefore read from the wire (`secret_properties`), before the SDK deserializes it;
- every number is a double on the wire (protobuf Struct), so `60` arrives as `60.0`.

The inputs keep their schema names and every key and shape as sent, so the one checker (config/checker.py, with
the PLUGIN source) reports every problem in the schema's spelling; the SDK's own mapping
(`ComponentProvider.map_input_properties`) would drop unknown keys and turn a non-object into `{}`. Resolved
Outputs are unwrapped, the password's too (the component makes every password secret itself, and a known one is
checked now), and their dependencies returned for the component's `depends_on`. A property the analyzer marked
`plain` must be known now (it decides which resources exist); the password may stay an unknown Output.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Set

import pulumi
from google.protobuf import struct_pb2

from .. import pulumi_internals
from ..errors import ConfigError

Schema = Mapping[str, Any]


@dataclass
class PlainInputs:
    """Inputs with every known value plain, and the resources the unwrapped values depended on."""

    inputs: Dict[str, Any]
    depends_on: List[pulumi.Resource] = field(default_factory=list)


class _Shapes:
    """The schema's shape of each property: its nested properties, and whether it may hold a secret."""

    def __init__(self, schema: Schema) -> None:
        self.types: Mapping[str, Any] = schema.get("types", {})

    def properties(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """The properties of an object type, or {}."""
        ref = spec.get("$ref", "")
        if ref.startswith("#/types/"):
            return self.types.get(ref[len("#/types/"):], {}).get("properties", {})
        return {}

    def items(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """The spec of a list's items or a map's values, or {}."""
        return spec.get("items") or spec.get("additionalProperties") or {}

    def holds_secret_input(self, spec: Mapping[str, Any]) -> bool:
        """Whether a value of this shape is or contains a non-plain property (the password), which may be secret."""
        if spec and not spec.get("plain"):
            return True
        nested = [*self.properties(spec).values(), *([self.items(spec)] if self.items(spec) else [])]
        return any(self.holds_secret_input(p) for p in nested)


def secret_properties(inputs: struct_pb2.Struct, schema: Schema, token: str) -> List[str]:
    """Every problem of a property sent secret that the component would show in plain text (all but a password).

    A secret on a value that holds a password (the `registries` list, one registry) is fine: the SDK pushes a
    password's secretness up to it anyway, and the component keeps only the password secret.
    """
    shapes = _Shapes(schema)
    found: List[str] = []

    def walk(path: str, value: struct_pb2.Value, spec: Mapping[str, Any]) -> None:
        inner, secret = pulumi_internals.unwrap_wire(value)
        if secret and not shapes.holds_secret_input(spec):
            found.append(
                f"{path}: arrived as a secret, but only a registry's password is kept secret (server, username, "
                "email and the namespace settings appear in preview messages and resource names); pass it as a "
                "plain value and mark only the password secret"
            )
            return
        if inner is None:
            return
        if inner.HasField("struct_value"):
            nested = shapes.properties(spec)
            for key, item in inner.struct_value.fields.items():
                item_spec = nested.get(key) if nested else shapes.items(spec)
                if item_spec:  # an unknown key: the checker names it
                    walk(f"{path}.{key}", item, item_spec)
        elif inner.HasField("list_value"):
            for index, item in enumerate(inner.list_value.values):
                walk(f"{path}[{index}]", item, shapes.items(spec))

    properties = schema["resources"][token]["inputProperties"]
    for key, value in inputs.fields.items():
        if key in properties:
            walk(key, value, properties[key])
    return found


class _Walk:
    def __init__(self, schema: Schema) -> None:
        self.shapes = _Shapes(schema)
        self.depends_on: Set[pulumi.Resource] = set()

    def value(self, path: str, value: Any, spec: Mapping[str, Any]) -> Any:
        if isinstance(value, pulumi.Output):
            value = self._unwrap(path, value, spec)
            if isinstance(value, pulumi.Output):
                return value  # a password not known yet: checked once it resolves
        if isinstance(value, pulumi.output.Unknown):
            if not spec.get("plain"):
                return pulumi.Output.from_input(value)
            raise ConfigError(_not_known(path))
        if isinstance(value, float) and value.is_integer():
            return int(value)
        nested = self.shapes.properties(spec)
        if isinstance(value, Mapping):
            return {key: self.value(f"{path}.{key}", item, nested.get(key, {}) if nested else self.shapes.items(spec))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(f"{path}[{i}]", item, self.shapes.items(spec)) for i, item in enumerate(value)]
        return value

    def _unwrap(self, path: str, value: pulumi.Output, spec: Mapping[str, Any]) -> Any:
        data = pulumi_internals.resolved_data(value)
        if data is None:
            if not spec.get("plain"):
                return value
            raise ConfigError(f"{path}: must be a plain value, not an Output: it decides which resources exist")
        # A list is "unknown" as soon as one element is (a password during preview): look inside it.
        if not data.is_known and not isinstance(data.value, (Mapping, list)):
            if not spec.get("plain"):
                return value
            raise ConfigError(_not_known(path))
        self.depends_on.update(data.resources)
        return data.value


def _not_known(path: str) -> str:
    return (
        f"{path}: is not known yet (it comes from a resource that is not created yet); it decides which resources "
        "exist, so give it as a plain value, and order with dependsOn instead"
    )


def plain_inputs(inputs: Mapping[str, Any], schema: Schema, token: str) -> PlainInputs:
    """Resource `token`'s inputs with every known value plain (schema names, every key kept); raise ConfigError for
    a plain property that is not known yet."""
    walk = _Walk(schema)
    properties = schema["resources"][token]["inputProperties"]
    plain = {key: walk.value(key, value, properties.get(key, {})) for key, value in inputs.items()}
    return PlainInputs(inputs=plain, depends_on=list(walk.depends_on))
