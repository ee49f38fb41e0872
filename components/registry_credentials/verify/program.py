"""Run the credentials check inside a Pulumi program: one warning per registry not accepted, or stop the run.

The component checks, from its plan, before anything is registered:

* every registry whose password is known now: from stack config (the stack program), or a plain string (Python
  API); `verify: fail` then stops the run before anything is registered;
* the others (Output passwords) when they resolve (not at all in a preview where they are unknown). Every
  password then passes through a gate, so the rendered `.dockerconfigjson` and the Secrets and node agent built
  from it wait for the check and are never registered after a `fail`; resources that do not depend on the
  credentials (created Namespaces and ServiceAccounts, reads of existing ones) are not held back.
"""

from dataclasses import dataclass, field
from typing import Any, Collection, Dict, List, Mapping, Sequence, Tuple

import pulumi

from ..credentials.dockerconfig import Entry
from ..errors import ConfigError
from .login import DEFAULT_TIMEOUT, REJECTED, Target, check_all
from .settings import (
    RegistrySetting,
    VerifyMode,
    failure_message,
    insecure_warning,
    is_previous,
    previous_label,
    targets,
    warning_for,
)


class CredentialsRejectedError(ConfigError, pulumi.RunError):
    """`verify: fail` and a registry (or its token server) rejected the credentials; the engine prints one line."""


def run_checks(
    checks: Sequence[Target], settings: Mapping[int, RegistrySetting], index_of: Mapping[str, int],
    timeout: float = DEFAULT_TIMEOUT, before_registration: bool = True,
) -> List[str]:
    """Check `checks` in parallel; return the warnings, or raise CredentialsRejectedError for a `fail` rejection."""
    if not checks:
        return []
    warnings = [insecure_warning(t) for t in checks if t.insecure and not is_previous(t.label)]
    results = check_all(checks, timeout)
    # A rejected outgoing credential is the end of a rotation, not a failure: it is only ever a warning.
    failing = [r for r in results if r.outcome == REJECTED and not is_previous(r.label)
               and settings[index_of[r.label]].mode == VerifyMode.FAIL]
    if failing:
        raise CredentialsRejectedError(failure_message(failing, before_registration))
    warnings += [w for w in (warning_for(r) for r in results) if w]
    return warnings


@dataclass
class Verification:
    """The component's check: warnings found before registration, and which Output passwords still need one."""

    entries: Sequence[Entry]
    settings: Mapping[int, RegistrySetting]
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
        positions = [i for i, e in enumerate(self.entries) if e.index in self.pending]
        entries = [self.entries[i] for i in positions]
        index_of = {e.label(): e.index for e in self.entries}

        def check_known(values: List[str]) -> bool:
            for warning in run_checks(
                targets(entries, self.settings, values), self.settings, index_of, before_registration=False
            ):
                pulumi.log.warn(warning, resource=resource)
            return True

        done = pulumi.Output.all(*[passwords[i] for i in positions]).apply(check_known)
        return [pulumi.Output.all(done, p).apply(lambda values: values[1]) for p in passwords]


def prepare(
    entries: Sequence[Entry], passwords: Sequence[Any], settings: Mapping[int, RegistrySetting],
    never: Collection[int] = (), outgoing: Sequence[Tuple[Entry, Any]] = (),
) -> Verification:
    """Check the registries whose password is known now, and note the Output ones for `gate`.

    `passwords` are in entry order; registries in `never` (placeholder passwords) are not checked at all.
    `outgoing`: the credentials being rotated out (each as an entry of its registry); those known now are checked
    too, and a rejection only ever warns (see `watch_outgoing` for the others).
    """
    verification = Verification(entries, settings)
    now: List[Any] = []
    for entry, password in zip(entries, passwords):
        if settings[entry.index].mode == VerifyMode.OFF or entry.index in never:
            continue
        if isinstance(password, str):
            now.append((entry, password))
        else:
            verification.pending.append(entry.index)
    leaving = [(e, p) for e, p in outgoing if isinstance(p, str) and e.index not in never]
    checks = targets([e for e, _ in now], settings, [p for _, p in now], leaving)
    verification.warnings = run_checks(checks, settings, _index_of(entries))
    return verification


def watch_outgoing(outgoing: Sequence[Tuple[Entry, Any]], settings: Mapping[int, RegistrySetting],
                   resource: pulumi.Resource) -> None:
    """Check the outgoing credentials whose password is an Output once it is known; each problem is a warning."""
    for entry, password in outgoing:
        if isinstance(password, str) or settings[entry.index].mode == VerifyMode.OFF:
            continue

        def check_known(value: str, entry: Entry = entry) -> None:
            for warning in run_checks(targets([], settings, [], [(entry, value)]), settings, _index_of([entry])):
                pulumi.log.warn(warning, resource=resource)

        pulumi.Output.secret(password).apply(check_known)


def _index_of(entries: Sequence[Entry]) -> Dict[str, int]:
    """Result label -> registry index, for the current and the outgoing credentials."""
    return {label: e.index for e in entries for label in (e.label(), previous_label(e))}
