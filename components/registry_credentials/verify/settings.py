"""The `verify`, `ca_file` and `insecure` settings, the checks they select, and the messages about their results."""

import os
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..checks.names import has_control_chars
from ..checks.problems import Problems
from ..checks.values import Source, check_choice
from ..credentials.dockerconfig import Entry, registry_label
from ..errors import ConfigError
from .login import REJECTED, UNREACHABLE, Result, Target


# Constrained strings are `str` Enums: the plugin's schema analyzer turns them into schema enums (Literal and Union
# are rejected), and a str Enum member equals its value, so callers and stack config keep passing plain "warn".
class VerifyMode(str, Enum):
    """What the preview does when a registry rejects the credentials (checked as the OCI Distribution Spec says)."""

    WARN = "warn"
    """One preview warning per registry that rejects them (default)."""
    FAIL = "fail"
    """Fail the run before any resource changes; an unreachable registry stays a warning."""
    OFF = "off"
    """Do not check."""

    @classmethod
    def default(cls) -> "VerifyMode":
        """The mode when neither the settings nor DEFAULT_ENV choose one."""
        return cls.WARN


CHECK_SETTINGS = ("verify", "ca_file", "insecure")
"""A registry's settings that say how its credentials are checked (snake_case)."""
DEFAULT_ENV = "REGISTRY_CREDENTIALS_VERIFY"
"""Environment variable giving the default mode when neither the stack config nor the component arg sets one
(the test suite sets it to `off`; CI jobs that cannot reach registries can do the same)."""
PREVIOUS_REJECTED = (
    "The registry no longer accepts the credential being rotated out, so the rotation is complete on the registry "
    "side and pods use the current one: `previous` (and its password) can be removed from the configuration"
)
UNREACHABLE_HINT = (
    "the machine running pulumi may not reach a registry that the cluster's nodes reach (network, proxy, VPN); "
    "the run goes on"
)


@dataclass(frozen=True)
class RegistrySetting:
    """How one registry is checked."""

    index: int
    mode: VerifyMode
    ca_file: Optional[str] = None
    insecure: bool = False


def check_default(value: Any, problems: Problems) -> VerifyMode:
    """The run's mode: the given value, else $REGISTRY_CREDENTIALS_VERIFY, else VerifyMode.default()."""
    if value is not None:
        return problems.check("verify", check_choice, value, VerifyMode) or VerifyMode.default()
    env = os.environ.get(DEFAULT_ENV)
    if env:
        return problems.check(f"${DEFAULT_ENV}", check_choice, env, VerifyMode) or VerifyMode.default()
    return VerifyMode.default()


def check_registries(
    items: Sequence[Any], problems: Problems, source: Source, default: VerifyMode
) -> Dict[int, RegistrySetting]:
    """Each registry's mode, CA file and insecure flag, by registry index; problems name fields as `source` spells."""
    settings = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue  # the registry checks said so
        where = registry_label(index, item.get("server"))
        mode = item.get("verify")
        if mode is not None or ("verify" in item and not source.null_is_unset):
            mode = problems.check(f"{where}.verify", check_choice, mode, VerifyMode)
        mode = mode or default
        insecure = None
        if "insecure" in item:
            insecure = problems.check(f"{where}.insecure", source.on_off, item["insecure"])
        ca_file = item.get(source.name("ca_file"))
        if ca_file is not None:
            ca_file = problems.check(f"{where}.{source.name('ca_file')}", _check_ca_file, ca_file, mode)
        settings[index] = RegistrySetting(index, mode, ca_file, bool(insecure))
    return settings


def _check_ca_file(field: str, ca_file: Any, mode: VerifyMode) -> str:
    if not isinstance(ca_file, str) or not ca_file.strip() or has_control_chars(ca_file):
        raise ConfigError(f"{field}: must be the path of a PEM CA bundle")
    if mode != VerifyMode.OFF and not os.path.isfile(ca_file):
        raise ConfigError(f"{field}: {ca_file} is not a readable file; give the path of a PEM CA bundle")
    return ca_file


def previous_label(entry: Entry) -> str:
    """How results name the credential being rotated out of a registry."""
    return f"{entry.label()}.previous"


def is_previous(label: str) -> bool:
    """True for a result about a credential being rotated out (see previous_label)."""
    return label.endswith(".previous")


def targets(
    entries: Sequence[Entry], settings: Mapping[int, RegistrySetting], passwords: Sequence[str],
    outgoing: Sequence[Tuple[Entry, str]] = (),
) -> List[Target]:
    """Targets for the entries whose mode is not `off`, in entry order (passwords in the same order as entries),
    then the credentials being rotated out of them (`outgoing`: each as an entry of its registry, and its password).
    """
    result = []
    for entry, password in zip(entries, passwords):
        setting = settings[entry.index]
        if setting.mode == VerifyMode.OFF:
            continue
        result.append(Target(entry.label(), entry.key, entry.username, password, setting.ca_file, setting.insecure))
    for entry, password in outgoing:
        setting = settings[entry.index]
        if setting.mode != VerifyMode.OFF:
            result.append(Target(previous_label(entry), entry.key, entry.username, password, setting.ca_file,
                                 setting.insecure))
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
    if result.outcome == REJECTED and is_previous(result.label):
        return f"credentials check: {describe(result)}. {PREVIOUS_REJECTED}"
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
