"""Collect the configuration problems of one run, so that they are all reported at once."""

from typing import Any, Callable, List, Optional, Sequence, TypeVar

from ..errors import ConfigError

T = TypeVar("T")

_MIN_SCRUB = 4  # shorter "secrets" would mangle ordinary words ("p" in "lookup"); messages never quote them anyway


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret of 4 or more characters (longest first) in `text` with `***`."""
    for secret in sorted((s for s in secrets if len(s or "") >= _MIN_SCRUB), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class Problems:
    """Every problem found so far; `raise_all` turns them into one ConfigError."""

    def __init__(self) -> None:
        self.found: List[str] = []
        self._secrets: List[str] = []

    def check(self, field: str, check: Callable[..., T], *args: Any) -> Optional[T]:
        """Check one setting, named `field` as the user spells it: its value, or None when it is invalid.

        Every setting of a run goes through here exactly once (tests/config/test_check_once.py counts it).
        """
        try:
            return check(field, *args)
        except ConfigError as err:
            self.found.extend(err.problems)
            return None

    def add(self, *problems: str) -> None:
        """Record problems found by a check that spans several settings."""
        self.found.extend(problems)

    def conceal(self, secret: Any) -> None:
        """A credential of this configuration: no problem reported will show it, wherever the user put it."""
        if isinstance(secret, str):
            self._secrets.append(secret)

    def raise_all(self) -> None:
        """Raise one ConfigError listing every problem found, if there is any (never showing a concealed value)."""
        if self.found:
            raise ConfigError(*(scrub(problem, self._secrets) for problem in self.found))
