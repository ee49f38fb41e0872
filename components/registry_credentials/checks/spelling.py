"""How settings are spelled: snake_case in the Python API, camelCase in stack config and in the plugin's schema.

Every setting has one name, its snake_case one; the camelCase spelling is derived from it here, and nowhere else.
"""

import re
from enum import Enum

_SNAKE_WORD = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
_LABEL = re.compile(r"(\([^)]*\)|'(?:[^'\\]|\\.)*')")


def camel(name: str) -> str:
    """`default_service_account` -> `defaultServiceAccount`."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


class Spelling(Enum):
    """The spelling a caller uses for setting names; messages name settings the same way."""

    SNAKE = "snake_case"
    CAMEL = "camelCase"

    def __call__(self, name: str) -> str:
        """A setting's snake_case name in this spelling."""
        return camel(name) if self is Spelling.CAMEL else name

    def path(self, path: str) -> str:
        """A field path written in snake_case (`namespaces[0].patch_service_accounts`) in this spelling.

        Parenthesised labels and quoted text are the user's own (`registries[0] (my_host.io)`) and stay as they are.
        """
        if self is Spelling.SNAKE:
            return path
        parts = _LABEL.split(path)
        for index in range(0, len(parts), 2):
            parts[index] = _SNAKE_WORD.sub(lambda m: camel(m.group(0)), parts[index])
        return "".join(parts)
