"""The one exception type for invalid configuration."""

from typing import Tuple


class ConfigError(ValueError):
    """An invalid configuration: each problem names its field and how to fix it, never a credential."""

    problems: Tuple[str, ...]
    """Every problem found, in the order of the configuration; `str()` lists them all."""

    def __init__(self, *problems: str) -> None:
        self.problems = tuple(problems)
        super().__init__(listing(self.problems))


def listing(problems: Tuple[str, ...]) -> str:
    """One problem as it is; several as a count followed by one indented line each."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems in the configuration:\n" + "\n".join(f"  - {p}" for p in problems)
