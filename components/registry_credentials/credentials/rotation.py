"""Dates of credentials: the overlap window of a credential being rotated out (`previous`), and `expires`.

Pure: no Pulumi. What a run decides here depends on the date it runs on (`today()`), which is the point: a window
that has ended is dropped by the next run, and a credential close to its expiry is warned about.

How the kubelet tries two credentials for one registry (kubernetes/kubernetes pkg/credentialprovider/keyring.go,
`BasicDockerKeyring.Add` and `Lookup`): every `auths` key is filed under an index key (its host and path, the
scheme and a leading /v1/ or /v2/ dropped), and each index key holds a *list* of credentials, all of which a pull
tries in turn until one is accepted (pkg/kubelet/images/puller.go). `Add` ranges over a Go map, so the entries of
one config (one Secret, or the node's config.json) that share an index key are appended in Go's randomised map
order, not in file order; the configs themselves are added in order: a pod's `imagePullSecrets` one Secret after
the other (pkg/kubelet/kubelet_pods.go `getPullSecretsForPod`, pkg/credentialprovider/secrets/secrets.go
`MakeDockerKeyring`), then the node's credentials (`UnionDockerKeyring`).

So the outgoing credential is tried *after* the current one when it is in a second Secret listed second (methods
2-4), and in either order, varying from pull to pull, when it shares the node's config.json with it (method 1):
one JSON object cannot hold one key twice (Go's decoder keeps the last), so it is written under a second spelling
of the same key (`alternate_key`), which `Add` files under the same index key.
"""

import datetime
import os
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from ..checks.problems import Problems
from ..checks.values import Source, check_choice
from ..errors import ConfigError
from .dockerconfig import Entry
from .keyring import parse_key

TODAY_ENV = "REGISTRY_CREDENTIALS_TODAY"
"""Environment variable that sets the date a run takes as today (`YYYY-MM-DD`), for tests and rehearsals."""
PREVIOUS_SUFFIX = "-previous"
"""The second Secret of each namespace, `<secretName>-previous`, holds the credentials being rotated out."""
DEFAULT_WARNING_DAYS = 14
EXPIRES_ANNOTATION = "registry-credentials.pulumi.com/expires"
"""On a pull Secret: the earliest `expires` of the credentials in it, so cluster tools can alert on it."""
UNTIL_ANNOTATION = "registry-credentials.pulumi.com/previous-until"
"""On a `-previous` Secret: the earliest `until` of the credentials in it (the next run after it drops them)."""
ROTATION_SETTINGS = ("expires", "previous")
"""A registry's settings about its dates (snake_case)."""
PREVIOUS_SETTINGS = ("username", "until", "password")
"""The settings of a registry's `previous` (stack config keeps the password in `previousPasswords` instead)."""
EXPIRY_SETTINGS = ("expiry_warning_days", "expired_credentials")
"""The component's settings about expiry (snake_case)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ExpiredCredentials(str, Enum):
    """What preview does once a credential's `expires` date has passed."""

    FAIL = "fail"
    """Fail the run before anything is registered (default)."""
    WARN = "warn"
    """Warn and deploy anyway (the registry may still accept it, or you are rotating it right now)."""

    @classmethod
    def default(cls) -> "ExpiredCredentials":
        """The mode when the settings choose none."""
        return cls.FAIL


@dataclass(frozen=True)
class Previous:
    """A credential being rotated out: its username, and the last day it is kept (`until`, inclusive)."""

    username: str
    until: datetime.date
    live: bool
    """`until` is today or later: the credential is deployed after the current one. False: the window has ended."""


@dataclass(frozen=True)
class ExpirySettings:
    """How close to `expires` preview warns, and what it does once the date has passed."""

    warning_days: int = DEFAULT_WARNING_DAYS
    expired: ExpiredCredentials = ExpiredCredentials.FAIL


def today() -> datetime.date:
    """The date this run takes as today: $REGISTRY_CREDENTIALS_TODAY when set, else the current UTC date."""
    given = os.environ.get(TODAY_ENV)
    if given:
        return parse_date(f"${TODAY_ENV}", given)
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse_date(field: str, value: Any) -> datetime.date:
    """A calendar date written `YYYY-MM-DD` (a YAML date is read as that text, as Pulumi's yaml.v3 reads it)."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    shown = value if isinstance(value, str) and value.isprintable() else repr(value)
    raise ConfigError(f"{field}: {shown!r} is not a date; write it as YYYY-MM-DD, e.g. '2026-12-20'"
                      if isinstance(value, str) else
                      f"{field}: must be a date written YYYY-MM-DD, e.g. '2026-12-20', not {shown}")


def alternate_key(key: str) -> str:
    """Another spelling of `key` that the kubelet files under the same index key (for a second credential)."""
    other = key[len("https://"):] if key.startswith("https://") else f"https://{key}"
    if parse_key(other) != parse_key(key):  # never: every key the servers module writes has such a spelling
        raise ValueError(f"no second spelling of {key!r} shares its index key")
    return other


def previous_name(secret_name: str) -> str:
    """The name of the `-previous` Secret beside `secret_name`."""
    return f"{secret_name}{PREVIOUS_SUFFIX}"


def check_expiry_settings(config: Mapping[str, Any], problems: Problems, source: Source) -> ExpirySettings:
    """`expiry_warning_days` (a whole number of days, 0 to 3650) and `expired_credentials` (fail or warn)."""
    days_field, mode_field = (source.name(s) for s in EXPIRY_SETTINGS)
    days = config.get(days_field)
    if days is None:
        days = DEFAULT_WARNING_DAYS
    else:
        days = problems.check(days_field, _check_days, days)
    mode = config.get(mode_field)
    mode = ExpiredCredentials.default() if mode is None else problems.check(
        mode_field, check_choice, mode, ExpiredCredentials)
    return ExpirySettings(DEFAULT_WARNING_DAYS if days is None else days, mode or ExpiredCredentials.default())


def _check_days(field: str, value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # stack config hands top-level numbers to the program as text
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise ConfigError(f"{field}: must be a whole number of days from 0 to 3650 (default {DEFAULT_WARNING_DAYS})")
    return value


def expiry_findings(entries: Sequence[Entry], settings: ExpirySettings, now: datetime.date
                    ) -> Tuple[List[str], List[str]]:
    """(warnings, problems) about `expires`: within the warning days, or past (a problem unless `warn`)."""
    warnings: List[str] = []
    problems: List[str] = []
    for entry in entries:
        if entry.expires is None:
            continue
        left = (entry.expires - now).days
        where = f"{entry.label()}.expires"
        if left < 0:
            message = (f"{where}: the credential of user {entry.username!r} expired on {entry.expires.isoformat()} "
                       f"(today is {now.isoformat()}); pulls with it fail once the registry stops accepting it. "
                       "Rotate it (docs/rotation.md), then set the new credential and its expires")
            if settings.expired == ExpiredCredentials.WARN:
                warnings.append(message)
            else:
                problems.append(f"{message}, or set expiredCredentials: warn to deploy anyway")
        elif left <= settings.warning_days:
            when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
            warnings.append(f"{where}: the credential of user {entry.username!r} expires {when} "
                            f"({entry.expires.isoformat()}); rotate it before then (docs/rotation.md)")
    return warnings, problems


def earliest(dates: Sequence[Optional[datetime.date]]) -> Optional[datetime.date]:
    """The earliest of the dates that are set, or None."""
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def same_credential_problem(where: str) -> str:
    """The error for a `previous` that is the current credential itself."""
    return (f"{where}: is the same credential as the current one (same username and password), so the overlap "
            "would keep nothing: give previous the outgoing credential, or remove previous")


def lapsed_warning(entry: Entry, previous: Previous, now: datetime.date, previous_secret: str) -> str:
    """The preview warning for a window that ended after it was deployed: the previous credential is dropped."""
    return (
        f"{entry.label()}.previous: the overlap window ended on {previous.until.isoformat()} (today is "
        f"{now.isoformat()}), so the previous credential of user {previous.username!r} is dropped everywhere (from "
        f"the {previous_secret} Secrets, the ServiceAccounts and the node file); remove `previous` and its "
        "password from the configuration"
    )


def past_until_problem(previous: Previous, first_seen: datetime.date, now: datetime.date, until_field: str) -> str:
    """The error for a window whose end was already past when it was first deployed: there would be no overlap."""
    when = (f"is already past (today is {now.isoformat()})" if first_seen >= now else
            f"was already past when this window was first deployed, on {first_seen.isoformat()}")
    return (
        f"{until_field}: {previous.until.isoformat()} {when}, so the outgoing credential would not be kept at all: "
        f"set until to the last day it must keep working, e.g. {(now + datetime.timedelta(days=7)).isoformat()}, "
        "or remove previous"
    )
