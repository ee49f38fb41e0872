"""How our errors reach `pulumi preview`: as RunErrors, which the engine prints as their message, no traceback."""

from contextlib import contextmanager
from typing import Iterator

import pulumi

from .errors import ConfigError


class InvalidConfigError(ConfigError, pulumi.RunError):
    """A ConfigError that `pulumi preview` prints as its message (every problem), without a stack trace."""


@contextmanager
def reported_at_preview() -> Iterator[None]:
    """Re-raise ConfigError as InvalidConfigError so the engine shows just the message."""
    try:
        yield
    except InvalidConfigError:
        raise
    except ConfigError as err:
        raise InvalidConfigError(*err.problems) from None


class ResolvedConfigError(pulumi.RunError):
    """A problem found once an Output resolved (a password given as an Output): the engine prints just the message.

    Not a ValueError (a ConfigError is one): the SDK wraps a ValueError raised while it serializes an input in
    "While processing input ... ValueError has risen" (pulumi runtime/rpc.py serialize_property).
    """


@contextmanager
def reported_when_resolved() -> Iterator[None]:
    """Re-raise ConfigError, from code that runs inside an apply, as ResolvedConfigError."""
    try:
        yield
    except ConfigError as err:
        raise ResolvedConfigError(str(err)) from None
