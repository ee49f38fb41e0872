"""Kubernetes name rules, checked at preview so bad names fail before anything is registered.

The rules and limits are the API server's (kubernetes/apimachinery pkg/util/validation/validation.go:
IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue); this module is their one home.
Every pattern is matched with fullmatch: `$` also matches before a trailing newline, which let
`"apps\n"` through and broke the rendered YAML.
"""

import hashlib
import re
import unicodedata

from ..errors import ConfigError
from .values import kind_of

MAX_DNS_LABEL = 63
"""DNS1123LabelMaxLength: namespaces, and names that become label values."""
MAX_DNS_SUBDOMAIN = 253
"""DNS1123SubdomainMaxLength: object names (Secrets, ServiceAccounts, PriorityClasses), qualified-name prefixes."""
MAX_QUALIFIED_NAME = 63
"""qualifiedNameMaxLength: the name part of a label key or taint key (after an optional `prefix/`)."""
MAX_LABEL_VALUE = 63
"""LabelValueMaxLength: label values, and toleration values."""

MAX_FIELD_MANAGER = 128
"""FieldManagerMaxLength (kubernetes/apimachinery pkg/apis/meta/v1/validation): a server-side apply manager's name."""

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_DIGEST = 8
"""Hex digits of the digest `label_value` appends to a name it has to shorten."""


def _check_text(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"{field}: must be a name (text), not {kind_of(value)}")


def check_dns_label(field: str, value: object) -> str:
    """Return value if it is a valid namespace-style name (RFC 1123 label), else raise ConfigError."""
    _check_text(field, value)
    if not isinstance(value, str) or len(value) > MAX_DNS_LABEL or not _LABEL.fullmatch(value):
        raise ConfigError(
            f"{field}: {value!r} is not a valid name; use at most {MAX_DNS_LABEL} lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def check_dns_subdomain(field: str, value: object) -> str:
    """Return value if it is a valid object name (RFC 1123 subdomain), else raise ConfigError."""
    _check_text(field, value)
    if not isinstance(value, str) or len(value) > MAX_DNS_SUBDOMAIN or not _SUBDOMAIN.fullmatch(value):
        raise ConfigError(
            f"{field}: {value!r} is not a valid Kubernetes object name; use at most {MAX_DNS_SUBDOMAIN} lowercase "
            "letters, digits, '-' and '.', starting and ending with a letter or digit"
        )
    return value


def check_label_value(field: str, value: object) -> str:
    """Return value if it can be a label value, else raise ConfigError."""
    if not is_label_value(value):
        raise ConfigError(
            f"{field}: {value!r} cannot be used as a label value; use at most {MAX_LABEL_VALUE} letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit"
        )
    return value


def is_label_value(value: object) -> bool:
    """True when value can be a label value (empty included)."""
    return isinstance(value, str) and len(value) <= MAX_LABEL_VALUE and bool(_LABEL_VALUE.fullmatch(value))


def check_qualified_name(field: str, value: object) -> str:
    """Return value if it is a valid label key or taint key (`[prefix/]name`), else raise ConfigError."""
    prefix, _, name = value.rpartition("/") if isinstance(value, str) else ("", "", "")
    if (not isinstance(value, str) or (prefix and (len(prefix) > MAX_DNS_SUBDOMAIN or not _SUBDOMAIN.fullmatch(prefix)))
            or len(name) > MAX_QUALIFIED_NAME or not _QUALIFIED_NAME.fullmatch(name)):
        raise ConfigError(
            f"{field}: {value!r} is not a valid key; use an optional DNS prefix of at most {MAX_DNS_SUBDOMAIN} "
            f"characters and '/', then at most {MAX_QUALIFIED_NAME} letters, digits, '-', '_' and '.', starting and "
            "ending with a letter or digit"
        )
    return value


def label_value(text: str) -> str:
    """`text` itself when it is a valid label value, else a stable valid one derived from it (component names are free
    text to Pulumi, but label values are at most 63 characters of [A-Za-z0-9-_.])."""
    if is_label_value(text):
        return text
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:MAX_LABEL_VALUE - _DIGEST - 1].strip("-_.")
    # The digest keeps two long names that share a prefix apart (each instance selects only its own agent pods).
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_DIGEST]
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
