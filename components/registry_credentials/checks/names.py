"""Kubernetes name rules, checked at preview so bad names fail before anything is registered.

Every pattern is matched with fullmatch: `$` also matches before a trailing newline, which let
`"apps\n"` through and broke the rendered YAML.
"""

import hashlib
import re
import unicodedata

from ..errors import ConfigError

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def check_dns_label(field: str, value: object) -> str:
    """Return value if it is a valid namespace-style name (RFC 1123 label), else raise ConfigError."""
    if not isinstance(value, str) or len(value) > 63 or not _LABEL.fullmatch(value):
        raise ConfigError(
            f"{field}: {value!r} is not a valid name; use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def check_dns_subdomain(field: str, value: object) -> str:
    """Return value if it is a valid object name (RFC 1123 subdomain), else raise ConfigError."""
    if not isinstance(value, str) or len(value) > 253 or not _SUBDOMAIN.fullmatch(value):
        raise ConfigError(
            f"{field}: {value!r} is not a valid Kubernetes object name; use lowercase letters, digits, '-' "
            "and '.', starting and ending with a letter or digit"
        )
    return value


def check_label_value(field: str, value: object) -> str:
    """Return value if it can be a label value, else raise ConfigError."""
    if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        raise ConfigError(
            f"{field}: {value!r} cannot be used as a label value; use at most 63 letters, digits, '-', '_' "
            "and '.', starting and ending with a letter or digit"
        )
    return value


def check_label_key(field: str, key: object) -> str:
    """Return key if it can be a label's key (`[prefix/]name`, apimachinery validation IsQualifiedName), else raise."""
    prefix, _, name = key.rpartition("/") if isinstance(key, str) else ("", "", "")
    if (not isinstance(key, str) or (prefix and (len(prefix) > 253 or not _SUBDOMAIN.fullmatch(prefix)))
            or len(name) > 63 or not _LABEL_NAME.fullmatch(name)):
        raise ConfigError(f"{field}: {key!r} is not a valid label name")
    return key


def label_value(text: str) -> str:
    """`text` itself when it is a valid label value, else a stable valid one derived from it (component names are free
    text to Pulumi, but label values are at most 63 characters of [A-Za-z0-9-_.])."""
    if len(text) <= 63 and _LABEL_VALUE.fullmatch(text):
        return text
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:54].strip("-_.")
    # The digest keeps two long names that share a prefix apart (each instance selects only its own agent pods).
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


def check_unique(field: str, values: "list[str]") -> None:
    """Raise ConfigError naming every value listed twice."""
    seen, twice = set(), []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    if twice:
        raise ConfigError(*(f"{field}: {value!r} is listed twice; list each one once" for value in twice))


def has_control_chars(value: str) -> bool:
    """True when value holds a control character (newline, tab, NUL, DEL, C1, line/paragraph separators)."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value)
