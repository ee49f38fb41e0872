"""Checks every setting uses: known keys with a "did you mean", on/off values, fixed choices, printable text.

Pure: no Pulumi.
"""

import difflib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable, Mapping, Optional, Type, TypeVar

from ..errors import ConfigError
from .problems import Problems
from .spelling import Spelling

E = TypeVar("E", bound=Enum)


def shown(value: Any) -> str:
    """Text as the user wrote it, unless it holds characters that would break a message or output line (then repr)."""
    return value if isinstance(value, str) and value.isprintable() else repr(value)


MAX_SHOWN_KEY = 80
"""The longest unknown key a message quotes in full; a longer one is cut, with its length."""


def shown_key(key: Any) -> str:
    """An unknown key as a message names it: as `shown`, cut short when it is long."""
    text = shown(key)
    return text if len(text) <= MAX_SHOWN_KEY else f"{text[:MAX_SHOWN_KEY]}... ({len(str(key))} characters)"


def kind_of(value: Any) -> str:
    """What a value is, in the words of the JSON and YAML it came from (never the value itself)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if type(value).__name__ == "Output":  # pulumi's (this module is free of Pulumi)
        return "an Output (a plain value is needed here: it decides which resources exist)"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known spelling, or an empty string."""
    choices = list(choices)
    if len(word) > 2 * max((len(c) for c in choices), default=0):
        return ""  # nothing is close to it, and difflib's time grows with the product of the lengths
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        # Case-only typos (`nodebootstrap`) score low on ratio; compare case-insensitively too.
        lowered = {c.lower(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_known(where: str, item: Mapping[Any, Any], allowed: Iterable[str], separator: str = ".") -> None:
    """Refuse every unknown key of `item`, each named under `where` with the closest allowed spelling."""
    allowed = sorted(allowed)
    unknown = [key for key in item if key not in allowed]
    if unknown:
        raise ConfigError(*(
            f"{where}{separator if where else ''}{shown_key(key)}: unknown setting{did_you_mean(str(key), allowed)}; "
            f"allowed: {', '.join(allowed)}"
            for key in unknown
        ))


@dataclass(frozen=True)
class Source:
    """Where a configuration comes from: how its settings are spelled, and how an on/off value may be written."""

    spelling: Spelling
    text_booleans: bool
    """Stack config: the text true/false counts too (Pulumi stores `--type bool` values and YAML 1.2 differently)."""
    null_is_unset: bool = True
    """The Python API: None means "not set". In stack config a key written with no value (`enabled:`) is refused."""
    named_passwords: bool = False
    """Stack config: registries have a `name`, and their passwords live in the secret `passwords` object, whose
    reader (config.reader) checks them."""
    passwords_known: bool = True
    """False for `explain`, which reads stack config without passwords."""
    placeholder: Optional[str] = None
    """A password value that stands for one the offline commands cannot decrypt: never compared with another."""

    def name(self, setting: str) -> str:
        """A setting's snake_case name as this source spells it."""
        return self.spelling(setting)

    def on_off(self, field: str, value: Any) -> Optional[bool]:
        """An on/off setting: None when unset; never truthiness, so "false" can never switch anything on."""
        if isinstance(value, bool) or (value is None and self.null_is_unset):
            return value
        # Pulumi's typed getters: Python's Config.get_bool takes exactly "true"/"True"/"false"/"False" and raises
        # ConfigTypeError otherwise (sdk/python/lib/pulumi/config.py _get_bool); Go's config.GetBool uses
        # cast.ToBool -> strconv.ParseBool ("1", "t", "TRUE", ...). Any case of true/false covers both spellings
        # people write; "1"/"t"/"yes" are refused because YAML readers and the two SDKs disagree on them.
        if self.text_booleans and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        spelled = "True or False" if self.spelling is Spelling.SNAKE else "true or false"
        raise ConfigError(f"{field}: must be {spelled}, not {value!r}")


ARGS = Source(Spelling.SNAKE, text_booleans=False)
"""The Python API."""
STACK = Source(Spelling.CAMEL, text_booleans=True, null_is_unset=False, named_passwords=True)
"""Stack config (`stacks/Pulumi.<stack>.yaml`), as the stack program and the offline CLIs read it."""
PLUGIN = Source(Spelling.CAMEL, text_booleans=False)
"""The plugin's inputs, as other languages send them: named as in its schema, values as JSON has them."""


def settings_object(where: str, options: Any, allowed: Iterable[str], example: str,
                    problems: Problems) -> Optional[Mapping]:
    """A setting that holds settings (`node_bootstrap`): `options`, its unknown keys reported, or None when it is not
    a mapping (reported too, with `example`)."""
    if not isinstance(options, Mapping):
        problems.add(f"{where}: expected a mapping such as {example}")
        return None
    problems.check(where, check_known, options, allowed)
    return options


def check_choice(field: str, value: Any, choices: Type[E]) -> E:
    """A value of a str Enum (a member counts as its text): the member, or ConfigError naming the choices."""
    text = getattr(value, "value", value)
    for member in choices:
        if member.value == text:
            return member
    raise ConfigError(f"{field}: must be one of {', '.join(m.value for m in choices)}, not {text!r}")
