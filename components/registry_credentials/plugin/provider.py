"""Host RegistryCredentials as a Pulumi plugin package, so TypeScript, Go, C#, Java and YAML stacks can use it."""

import json
import sys
from importlib import metadata
from typing import Any, Dict, List, Optional

from google.protobuf import struct_pb2
from pulumi import Inputs, ResourceOptions
from pulumi.errors import InputPropertiesError
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from .. import pulumi_internals
from ..checks.spelling import Spelling
from ..checks.values import PLUGIN
from ..component import TYPE_TOKEN, RegistryCredentials
from ..config.checker import check_args
from ..config.plan import StackArgs
from ..errors import ConfigError, listing
from .engine_inputs import plain_inputs, secret_properties

PACKAGE = "registry-credentials"
"""Package name: the first part of the type token, and what `pulumi package add` names the generated SDKs after."""
DISTRIBUTION = "registry-credentials"
"""The Python distribution (pyproject.toml); its metadata is the single source of version, description and URLs."""
PULUMI_KEYWORDS = ("kind/component", "category/infrastructure")
"""Keywords Pulumi's publishing guide asks for, on top of the distribution's own."""
DISPLAY_NAME = "Registry Credentials"
SECRET_INPUTS = {
    f"{PACKAGE}:index:RegistryArgs": ("password",),
    f"{PACKAGE}:index:PreviousCredentialArgs": ("password",),
}
SECRET_OUTPUTS = ("dockerconfigjson",)


def package_version() -> str:
    """The installed distribution's version, which the plugin and its schema report."""
    return metadata.version(DISTRIBUTION)


def _project_url(meta: Any, label: str) -> Optional[str]:
    for entry in meta.get_all("Project-URL") or []:
        name, _, url = entry.partition(",")
        if name.strip().lower() == label:
            return url.strip()
    return None


def _metadata_fields() -> Dict[str, Any]:
    meta = metadata.metadata(DISTRIBUTION)
    keywords = [k for k in (meta.get("Keywords") or "").replace(",", " ").split() if k]
    author = meta.get("Author") or (meta.get("Author-email") or "").split("<")[0].strip()
    fields = {
        "displayName": DISPLAY_NAME,
        "description": meta.get("Summary"),
        "keywords": [*keywords, *PULUMI_KEYWORDS],
        "repository": _project_url(meta, "repository"),
        "homepage": _project_url(meta, "homepage"),
        "publisher": author or None,
    }
    return {key: value for key, value in fields.items() if value}


def add_metadata(schema: Dict[str, Any]) -> Dict[str, Any]:
    """Add the package metadata and the secret markers the analyzer cannot infer (it has no way to spell them)."""
    schema = {**schema, **_metadata_fields()}
    for type_token, names in SECRET_INPUTS.items():
        for name in names:
            schema["types"][type_token]["properties"][name]["secret"] = True
    resource = schema["resources"][TYPE_TOKEN]
    for name in SECRET_OUTPUTS:
        resource["properties"][name]["secret"] = True
    return schema


class RegistryCredentialsProvider(ComponentProvider):
    """The SDK's ComponentProvider with the package metadata Pulumi's publishing guide asks for in the schema."""

    def __init__(self, version: Optional[str] = None) -> None:
        super().__init__([RegistryCredentials], PACKAGE, None, version or package_version())
        self._schema = add_metadata(json.loads(self.schema or "{}"))
        self.schema = json.dumps(self._schema)

    def construct(
        self, name: str, resource_type: str, inputs: Inputs, options: Optional[ResourceOptions] = None
    ) -> ConstructResult:
        """Construct from inputs as the engine sends them; every refusal is the engine's invalid-input error.

        One refusal path for every input: the one checker, as for Python args and stack config, spelled as the
        schema spells them (the SDK's own input mapping is bypassed, see engine_inputs).
        """
        try:
            _check_type(resource_type)
            plain = plain_inputs(inputs, self._schema, TYPE_TOKEN)
            required = self._schema["resources"][TYPE_TOKEN].get("requiredInputs", ())
            plan = check_args(plain.inputs, component=name, source=PLUGIN, required=required)
            if plain.depends_on:
                options = ResourceOptions.merge(options, ResourceOptions(depends_on=plain.depends_on))
            args = StackArgs(plan.args(lambda password: password), plan)
            return super().construct(name, resource_type, args, options)
        except ConfigError as err:
            raise invalid_input(err) from None
        except ComponentInitError as err:
            if isinstance(err.inner, ConfigError):
                raise invalid_input(err.inner) from None
            raise

    def map_inputs(self, inputs: Inputs, component_def: Any) -> Inputs:
        """The component's args as `construct` checked them (the SDK's mapping would drop unknown keys and turn a
        value that is not an object into {} before anything could refuse it)."""
        return inputs

    def check_wire_inputs(self, resource_type: str, inputs: struct_pb2.Struct) -> None:
        """Refuse a property sent secret that only the password may be, from the inputs as the engine sent them."""
        if resource_type == TYPE_TOKEN:
            problems = secret_properties(inputs, self._schema, TYPE_TOKEN)
            if problems:
                raise invalid_input(ConfigError(*problems))


def _check_type(resource_type: str) -> None:
    if resource_type != TYPE_TOKEN:
        raise ConfigError(
            f"resource type {resource_type!r} is not one of this package's; it provides only {TYPE_TOKEN}"
        )


def invalid_input(error: ConfigError) -> InputPropertiesError:
    """Our problems as the engine's invalid-input error, each field spelled as in the schema (camelCase).

    The server turns any other exception into "Unexpected <class ...>" plus a Python traceback (pulumi
    provider/server.py Construct). The error list is empty, not None (None makes the server build a Status without
    trailing metadata and fail on it, pulumi 3.272), and names no property path: the engine prints the value at
    each path it is given (deploy/source_eval.go errorToMessage), and a path such as `registries` holds passwords.
    """
    problems = []
    for problem in error.problems:
        path, sep, reason = problem.partition(": ")
        problems.append(f"{Spelling.CAMEL.path(path)}: {reason}" if sep else problem)
    return InputPropertiesError(_fitted(problems), [])


MAX_MESSAGE_CHARS = 4000
"""The longest error message sent: it travels twice in gRPC metadata (grpc-message, and base64 in
grpc-status-details-bin), and gRPC clients refuse a metadata value over 16 KiB (grpc core's hard limit), which
would turn the whole error into RESOURCE_EXHAUSTED."""


def _fitted(problems: List[str]) -> str:
    """Every problem, or the first ones that fit MAX_MESSAGE_CHARS with a count of all; a long one is cut short."""
    most = MAX_MESSAGE_CHARS // 4
    cut = [p if len(p) <= most else p[: most - 3] + "..." for p in problems]
    text = listing(tuple(cut))
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    kept: List[str] = []
    used = 100  # the first line
    for problem in cut:
        used += len(problem) + 5
        if used > MAX_MESSAGE_CHARS:
            break
        kept.append(problem)
    return (f"{len(cut)} problems in the configuration; the first {len(kept)}:\n"
            + "\n".join(f"  - {p}" for p in kept))


def schema_text() -> str:
    """The schema as committed in provider/schema.json: sorted keys, two-space indent, trailing newline."""
    return json.dumps(json.loads(RegistryCredentialsProvider().schema or "{}"), indent=2, sort_keys=True) + "\n"


def serve(args: Optional[List[str]] = None) -> None:
    """Serve the provider over gRPC and print its port, as `component_provider_host` does.

    `component_provider_host([RegistryCredentials], PACKAGE, version=...)` (pulumi host.py) is exactly
    `main(ComponentProvider(...), sys.argv[1:])`; it takes no schema metadata, so we pass our subclass instead,
    with the check of the inputs as sent.
    """
    provider = RegistryCredentialsProvider()
    pulumi_internals.serve_checking_inputs(provider, sys.argv[1:] if args is None else args,
                                           provider.check_wire_inputs)


if __name__ == "__main__":
    if sys.argv[1:] == ["--schema"]:
        sys.stdout.write(schema_text())
    else:
        serve()
