"""Inputs as the engine sends them to Construct, made into the plain shapes the component validates.

A component hosted as a plugin gets its args from the provider server, not from a Python caller:
- a secret (or dependent) value arrives as an *output value*: an `Output` already resolved when Construct starts
  (`rpc.deserialize_output_value` and `ProviderServicer._select_value` build it from a completed future);
- a *bare* secret inside a list or map makes the SDK mark the whole enclosing value secret
  (`rpc.deserialize_property` pushes secretness "up"), so a secret password can turn all of `registries` into one
  secret `Output`;
- a constrained string arrives as its `str` Enum member (`ComponentProvider.map_input_properties`).
Passwords may stay Outputs. Everything else decides which resources exist, so it must be known now: an Output that
is already resolved is unwrapped (its dependencies move to the component's `depends_on`), anything else is refused
with a message saying what to do.
"""

import asyncio
from enum import Enum
from typing import Any, List, Mapping, Optional, Set, Tuple

import pulumi

from .errors import ConfigError

# Only these leaves may stay Outputs (secret or computed): (top-level arg, field of one list element).
INPUT_LEAVES = {("registries", "password")}


def _resolved(value: pulumi.Output) -> Optional[Any]:
    """The Output's data if it is already resolved, else None.

    Construct is synchronous inside the provider server's event loop, so we cannot await; the output values the
    engine sends are built from completed futures and can be read at once. `Output._data` holds value, known,
    secret and dependencies together since pulumi/pulumi#22661 (pulumi 3.23x; our floor is 3.260).
    """
    data = getattr(value, "_data", None)
    if isinstance(data, asyncio.Future) and data.done() and not data.cancelled() and data.exception() is None:
        return data.result()
    return None


class _Walk:
    def __init__(self) -> None:
        self.depends_on: Set[pulumi.Resource] = set()

    def value(self, path: str, value: Any, leaf: Tuple[str, str]) -> Any:
        if leaf in INPUT_LEAVES:
            # The component makes every password secret itself, whatever arrived (plain, secret, Output, unknown).
            return value
        if isinstance(value, pulumi.Output):
            data = _resolved(value)
            if data is None:
                raise ConfigError(
                    f"{path}: must be a plain value, not an Output: it decides which resources exist (only "
                    "registries[].password may be an Output)"
                )
            # A list is "unknown" as soon as one element is (a password during preview): look inside it.
            if not data.is_known and not isinstance(data.value, (Mapping, list, tuple)):
                raise ConfigError(_unknown(path))
            if data.is_secret and not _contains_password(leaf, data.value):
                raise ConfigError(
                    f"{path}: arrived as a secret, but only a registry's password is kept secret (server, username, "
                    "email and the namespace settings appear in preview messages and resource names); pass it as a "
                    "plain value and mark only the password secret"
                )
            self.depends_on.update(data.resources)
            return self.value(path, data.value, leaf)
        if _is_unknown(value):
            raise ConfigError(_unknown(path))
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Mapping):
            return {k: self.value(f"{path}.{k}", v, (leaf[0], str(k))) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(f"{path}[{i}]", v, leaf) for i, v in enumerate(value)]
        return value


def _contains_password(leaf: Tuple[str, str], value: Any) -> bool:
    """Whether a secret value holds a password, so its secretness may come from the SDK pushing it up."""
    if leaf[0] != "registries" or leaf[1] == "password":
        return False
    if isinstance(value, Mapping):
        return "password" in value
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, Mapping) and "password" in v for v in value)
    return False


def _is_unknown(value: Any) -> bool:
    return isinstance(value, pulumi.output.Unknown)


def _unknown(path: str) -> str:
    return (
        f"{path}: is not known yet (it comes from a resource that is not created yet); it decides which resources "
        "exist, so give it as a plain value, and order with dependsOn instead"
    )


def plain_args(args: Any, opts: Optional[pulumi.ResourceOptions]) -> Tuple[Any, Optional[pulumi.ResourceOptions]]:
    """Return args with every field but passwords plain, and opts depending on whatever the unwrapped values did."""
    if not isinstance(args, Mapping):
        return args, opts
    walk = _Walk()
    plain = {key: walk.value(key, value, (key, "")) for key, value in args.items()}
    if walk.depends_on:
        deps: List[pulumi.Resource] = list(walk.depends_on)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=deps))
    return plain, opts
