"""The `verify`, `ca_file` and `insecure` settings, the checks they select, and the messages about their results."""

import os
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

from ..errors import ConfigError
from ..credentials.dockerconfig import Entry
from ..checks.values import check_choice
from .login import REJECTED, UNREACHABLE, Result, Target

WARN, FAIL, OFF = "warn", "fail", "off"
DEFAULT_MODE = WARN
DEFAULT_ENV = "REGISTRY_CREDENTIALS_VERIFY"
"""Environment variable giving the default mode when neither the stack config nor the component arg sets one
(the test suite sets it to `off`; CI jobs that cannot reach registries can do the same)."""

SNAKE = {"verify": "verify", "ca_file": "ca_file", "insecure": "insecure"}
CAMEL = {"verify": "verify", "ca_file": "caFile", "insecure": "insecure"}
"""How the per-registry settings are spelled in component args and in stack config (for messages)."""



def arg_spelling(registry: Any) -> Any:
    """A stack-config registry entry with its verify settings renamed as component args spell them (caFile)."""
    if not isinstance(registry, Mapping):
        return registry
    renamed = {camel: snake for snake, camel in CAMEL.items()}
    return {renamed.get(key, key): value for key, value in registry.items()}


UNREACHABLE_HINT = (
    "the machine running pulumi may not reach a registry that the cluster's nodes reach (network, proxy, VPN); "
    "the run goes on"
)


@dataclass(frozen=True)
class RegistrySetting:
    """How one registry is checked."""

    index: int
    mode: str
    ca_file: Optional[str] = None
    insecure: bool = False


def check_mode(where: str, value: Any) -> str:
    """A valid mode as plain text (a VerifyMode member counts as its value), or ConfigError naming `where`."""
    return check_choice(where, value, "verify")


def default_mode(value: Any, where: str = "verify") -> str:
    """The run's mode: the given value, else $REGISTRY_CREDENTIALS_VERIFY, else `warn`."""
    if value is not None:
        return check_mode(where, value)
    env = os.environ.get(DEFAULT_ENV)
    if env:
        return check_mode(f"${DEFAULT_ENV}", env)
    return DEFAULT_MODE


def registry_settings(
    registries: Sequence[Mapping[str, Any]], default: str, spelled: Mapping[str, str] = SNAKE
) -> List[RegistrySetting]:
    """Each registry's mode, CA file and insecure flag; ConfigError names the field as the user spelled it."""
    settings = []
    for index, registry in enumerate(registries):
        where = f"registries[{index}]"
        mode = registry.get("verify")
        mode = default if mode is None else check_mode(f"{where}.{spelled['verify']}", mode)
        insecure = registry.get("insecure", False)
        if not isinstance(insecure, bool):
            raise ConfigError(f"{where}.{spelled['insecure']}: must be true or false (got {insecure!r})")
        ca_file = registry.get("ca_file")
        if ca_file is not None:
            field_name = f"{where}.{spelled['ca_file']}"
            if not isinstance(ca_file, str) or not ca_file:
                raise ConfigError(f"{field_name}: must be the path of a PEM CA bundle")
            if mode != OFF and not os.path.isfile(ca_file):
                raise ConfigError(f"{field_name}: {ca_file} is not a readable file; give the path of a PEM CA bundle")
        settings.append(RegistrySetting(index, mode, ca_file, insecure))
    return settings


def targets(
    entries: Sequence[Entry], settings: Sequence[RegistrySetting], passwords: Sequence[str]
) -> List[Target]:
    """Targets for the entries whose mode is not `off`, in entry order (passwords in the same order as entries)."""
    by_index = {s.index: s for s in settings}
    result = []
    for entry, password in zip(entries, passwords):
        setting = by_index[entry.index]
        if setting.mode == OFF:
            continue
        result.append(Target(entry.label(), entry.key, entry.username, password, setting.ca_file, setting.insecure))
    return result


def insecure_warning(target: Target) -> str:
    """The preview warning for a registry checked without TLS verification."""
    return (
        f"{target.label}: insecure: true, so its credentials are checked over plain HTTP or without verifying the "
        "TLS certificate; use it only for development registries"
    )


def describe(result: Result) -> str:
    """One line about a result, naming the registry, the user and the outcome (never a credential)."""
    return f"{result.label}: {result.outcome} for user {result.username!r}: {result.detail}"


def warning_for(result: Result) -> Optional[str]:
    """The preview warning for a result that is not `accepted` (None when it is)."""
    if result.outcome == REJECTED:
        return (
            f"credentials check: {describe(result)}. Pods would fail with ImagePullBackOff; fix the password "
            "(pulumi config set --secret --path ...) or the username"
        )
    if result.outcome == UNREACHABLE:
        return f"credentials check: {describe(result)}; {UNREACHABLE_HINT}"
    return None


def failure_message(rejected: Sequence[Result], before_registration: bool = True) -> str:
    """The error that stops a `verify: fail` run, listing every rejected registry."""
    lines = "; ".join(describe(r) for r in rejected)
    stopped = "Nothing was changed." if before_registration else "The pull Secrets were not created or updated."
    return (
        f"verify is fail and the registry rejected the credentials: {lines}. {stopped} Fix the password "
        "or username, or set verify: warn to deploy anyway"
    )
