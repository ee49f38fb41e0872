"""Run the credentials check inside a Pulumi program: one warning per registry not accepted, or stop the run.

Where the check runs:

* Stack program: `stack_config.load_args` has the plaintext passwords, so `precheck` runs before the component
  exists; `verify: fail` stops the run before anything is registered.
* Component with plain-string passwords: checked in the constructor before `super().__init__`, same guarantee.
* Component with Output passwords (Python API): the check runs when the passwords resolve (not at all in a preview
  where they are unknown). Every password then passes through a gate, so the rendered `.dockerconfigjson` and the
  Secrets and node agent built from it wait for the check and are never registered after a `fail`; resources
  that do not depend on the credentials (created Namespaces and ServiceAccounts, reads of existing ones) are not
  held back.
"""

import weakref
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence

import pulumi

from ..errors import ConfigError
from ..credentials.dockerconfig import Checked, check_registries
from .login import DEFAULT_TIMEOUT, REJECTED, Target, check_all
from .settings import (
    CAMEL,
    FAIL,
    OFF,
    SNAKE,
    RegistrySetting,
    default_mode,
    failure_message,
    insecure_warning,
    registry_settings,
    targets,
    warning_for,
)

# Password Outputs that stack_config already checked in plaintext; the component does not check them again.
_PRECHECKED: "weakref.WeakSet[Any]" = weakref.WeakSet()


class CredentialsRejectedError(ConfigError, pulumi.RunError):
    """`verify: fail` and a registry (or its token server) rejected the credentials; the engine prints one line."""


def run_checks(
    checks: Sequence[Target], settings: Sequence[RegistrySetting], index_of: Mapping[str, int],
    timeout: float = DEFAULT_TIMEOUT, before_registration: bool = True,
) -> List[str]:
    """Check `checks` in parallel; return the warnings, or raise CredentialsRejectedError for a `fail` rejection."""
    if not checks:
        return []
    warnings = [insecure_warning(t) for t in checks if t.insecure]
    results = check_all(checks, timeout)
    mode = {s.index: s.mode for s in settings}
    failing = [r for r in results if r.outcome == REJECTED and mode[index_of[r.label]] == FAIL]
    if failing:
        raise CredentialsRejectedError(failure_message(failing, before_registration))
    warnings += [w for w in (warning_for(r) for r in results) if w]
    return warnings


def precheck(args: Mapping[str, Any], passwords: Sequence[str], unknown: str = "") -> None:
    """Stack program: check the registries with their plaintext passwords (same order) before anything exists.

    Registries whose password equals `unknown` (the offline renderer's placeholder) are not checked.
    """
    registries = list(args["registries"])
    checked = check_registries(registries, passwords_known=False)
    settings = registry_settings(registries, default_mode(args.get("verify")), CAMEL)
    known = [None if unknown and p == unknown else p for p in passwords]
    entries = [e for e in checked.entries if known[e.index] is not None]
    checks = targets(entries, settings, [known[e.index] for e in entries])
    for warning in run_checks(checks, settings, {e.label(): e.index for e in checked.entries}):
        pulumi.log.warn(warning)
    for registry in registries:
        if isinstance(registry.get("password"), pulumi.Output):
            _PRECHECKED.add(registry["password"])


@dataclass
class Verification:
    """The component's check: warnings found before registration, and which Output passwords still need one."""

    checked: Checked
    settings: List[RegistrySetting]
    pending: List[int] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def report(self, resource: pulumi.Resource) -> None:
        """Log the warnings found before the component existed, attached to it."""
        for warning in self.warnings:
            pulumi.log.warn(warning, resource=resource)

    def gate(self, passwords: List[pulumi.Output], resource: pulumi.Resource) -> List[pulumi.Output]:
        """Passwords (entry order) that resolve only after the pending registries were checked."""
        if not self.pending:
            return passwords
        positions = [i for i, e in enumerate(self.checked.entries) if e.index in self.pending]
        entries = [self.checked.entries[i] for i in positions]
        index_of = {e.label(): e.index for e in self.checked.entries}

        def check_known(values: List[str]) -> bool:
            for warning in run_checks(
                targets(entries, self.settings, values), self.settings, index_of, before_registration=False
            ):
                pulumi.log.warn(warning, resource=resource)
            return True

        done = pulumi.Output.all(*[passwords[i] for i in positions]).apply(check_known)
        return [pulumi.Output.all(done, p).apply(lambda values: values[1]) for p in passwords]


def prepare(args: Mapping[str, Any], checked: Checked) -> Verification:
    """Component: validate the settings, check plain-string passwords now, and note Output ones for `gate`."""
    registries = list(args.get("registries") or [])
    settings = registry_settings(registries, default_mode(args.get("verify")), SNAKE)
    verification = Verification(checked, settings)
    now: List[Any] = []
    for entry in checked.entries:
        password = registries[entry.index].get("password")
        if settings[entry.index].mode == OFF or _is_prechecked(password):
            continue
        if isinstance(password, str):
            now.append(entry)
        else:
            verification.pending.append(entry.index)
    checks = targets(now, settings, [registries[e.index]["password"] for e in now])
    verification.warnings = run_checks(checks, settings, {e.label(): e.index for e in checked.entries})
    return verification


def _is_prechecked(password: Optional[Any]) -> bool:
    try:
        return password in _PRECHECKED
    except TypeError:  # not weak-referenceable (a plain value)
        return False
