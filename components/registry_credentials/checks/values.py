"""Every setting the component knows, in one table per level: stack-config spelling (camelCase) -> args (snake_case).

Add a setting here and both the stack-config reader and the Python args accept it, with the same
"did you mean" hint for typos. Pure: no Pulumi.
"""

import difflib
import re
from typing import Any, Iterable, Mapping, Optional

from ..errors import ConfigError

# Top-level stack config keys in the project's namespace (`registry-credentials:<key>`).
STACK_KEYS = {
    "registries": "registries",
    "passwords": "passwords",
    "namespaces": "namespaces",
    "secretName": "secret_name",
    "nodeBootstrap": "node_bootstrap",
    "verify": "verify",
}
# RegistryCredentialsArgs (the Python API); `passwords` exists only in stack config.
ARGS_KEYS = {camel: snake for camel, snake in STACK_KEYS.items() if camel != "passwords"}
REGISTRY_KEYS = {
    "name": "name",  # stack config only: names the registry's entry in `passwords`
    "server": "server",
    "username": "username",
    "password": "password",
    "email": "email",
    "verify": "verify",
    "caFile": "ca_file",
    "insecure": "insecure",
}
NAMESPACE_KEYS = {
    "name": "name",
    "create": "create",
    "defaultServiceAccount": "default_service_account",
    "serviceAccounts": "service_accounts",
    "patchServiceAccounts": "patch_service_accounts",
    "foreignPullSecrets": "foreign_pull_secrets",
}
NODE_KEYS = {
    "enabled": "enabled",
    "namespace": "namespace",
    "createNamespace": "create_namespace",
    "name": "name",
    "image": "image",
    "kubeletRootDir": "kubelet_root_dir",
    "intervalSeconds": "interval_seconds",
    "maxSurge": "max_surge",
    "tolerations": "tolerations",
    "nodeSelector": "node_selector",
    "priorityClassName": "priority_class_name",
}
# Tolerations are Kubernetes objects: the PodSpec spelling is accepted in both places.
TOLERATION_KEYS = {
    "key": "key",
    "operator": "operator",
    "value": "value",
    "effect": "effect",
    "tolerationSeconds": "toleration_seconds",
}
# On/off settings, by snake_case name, per level. Stack config may spell them as YAML booleans or "true"/"false".
BOOLEANS = {"insecure", "create", "default_service_account", "enabled", "create_namespace"}
# Settings with a fixed set of values (plain strings, or a str Enum from args.py).
CHOICES = {
    "verify": ("warn", "fail", "off"),
    "foreign_pull_secrets": ("fail", "keep"),
}

_SNAKE_TO_CAMEL = {
    snake: camel
    for table in (STACK_KEYS, REGISTRY_KEYS, NAMESPACE_KEYS, NODE_KEYS, TOLERATION_KEYS)
    for camel, snake in table.items()
    if camel != snake
}
_SNAKE_WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_QUOTED = re.compile(r"('(?:[^'\\]|\\.)*')")


def shown_key(key: Any) -> str:
    """A key as the user wrote it, unless it holds characters that would break the message line (then repr)."""
    return key if isinstance(key, str) and key.isprintable() else repr(key)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known spelling, or an empty string."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        # Case-only typos (`nodebootstrap`) score low on ratio; compare case-insensitively too.
        lowered = {c.lower(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_known(where: str, item: Mapping[str, Any], allowed: Iterable[str], separator: str = ".") -> None:
    """Refuse the first unknown key of `item`, naming it under `where` with the closest allowed spelling."""
    allowed = list(allowed)
    for key in item:
        if key not in allowed:
            raise ConfigError(
                f"{where}{separator}{shown_key(key)}: unknown setting{did_you_mean(str(key), allowed)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )


def parse_bool(field: str, value: Any) -> bool:
    """A YAML boolean, or the text true/false in any case; anything else is refused (never truthiness)."""
    # Pulumi's typed getters: Python's Config.get_bool takes exactly "true"/"True"/"false"/"False" and raises
    # ConfigTypeError otherwise (sdk/python/lib/pulumi/config.py _get_bool); Go's config.GetBool uses
    # cast.ToBool -> strconv.ParseBool ("1", "t", "TRUE", ...). Any case of true/false covers both spellings
    # people write; "1"/"t"/"yes" are refused because YAML readers and the two SDKs disagree on them.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{field}: must be true or false, not {value!r}")


def check_bool(field: str, value: Any) -> Optional[bool]:
    """For the Python API: only real booleans (or None for unset), so "false" can never switch something on."""
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{field}: must be True or False, not {value!r}")


def check_choice(field: str, value: Any, name: str) -> str:
    """A value of one of CHOICES[name] (a str Enum member counts as its value)."""
    choices = CHOICES[name]
    text = getattr(value, "value", value)
    if not isinstance(text, str) or text not in choices:
        raise ConfigError(f"{field}: must be one of {', '.join(choices)}, not {text!r}")
    return text


def camel_message(message: str) -> str:
    """Rewrite the snake_case setting names in a message to the stack-config spelling (quoted values untouched)."""
    parts = _QUOTED.split(message)
    for index in range(0, len(parts), 2):
        parts[index] = _SNAKE_WORD.sub(lambda m: _SNAKE_TO_CAMEL.get(m.group(0), m.group(0)), parts[index])
    return "".join(parts)
