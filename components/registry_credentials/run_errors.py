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
