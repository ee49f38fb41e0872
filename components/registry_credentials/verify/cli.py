"""`registry-credentials verify`: check credentials against registries; exit 0, 1 rejected, 3 unreachable."""

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from ..checks.files import MAX_FILE_BYTES, read_file, read_stdin, utf8
from ..checks.problems import Problems
from ..checks.spelling import Spelling
from ..checks.values import ARGS, Source, shown
from ..credentials.dockerconfig import MAX_SECRET_BYTES, credential_label
from ..credentials.registries import Registries, check_registries
from ..errors import ConfigError
from . import settings as verify_settings
from .login import ACCEPTED, DEFAULT_TIMEOUT, MAX_TIMEOUT, REJECTED, UNREACHABLE, Result, check_all
from .settings import CHECK_SETTINGS, PREVIOUS_REJECTED, VerifyMode, is_previous, previous_label, targets

CONFIG_JSON = Source(Spelling.CAMEL, text_booleans=True)
"""`pulumi config --json` spells settings as the stack file does; its passwords are merged into each registry."""

EXIT = {ACCEPTED: 0, REJECTED: 1, UNREACHABLE: 3}
"""Exit codes; 2 is a usage error (argparse and ConfigError), 70 an internal one (cli.main)."""
HELP = """\
exit codes:
  0   every registry accepted the credentials
  1   a registry rejected them
  2   usage or configuration error (a bad flag, file or setting)
  3   none rejected them, but a registry could not be reached or checked
  70  internal error (a bug: please report it; REGISTRY_CREDENTIALS_DEBUG=1 shows the traceback)

examples:
  printf %s "$PASSWORD" | registry-credentials verify --server harbor.example.com --username 'robot$ci' --password-stdin
  pulumi config --stack prod --show-secrets --json | registry-credentials verify --stack prod --config-json -
  pulumi config --stack prod --show-secrets --json | registry-credentials verify --json --stack prod --config-json -
  printf %s "$PASSWORD" | registry-credentials verify --server registry.internal --username ci --password-stdin \
      --ca-file internal-ca.pem                                     # a registry whose certificate a private CA signed
"""


def exit_code(results: List[Result]) -> int:
    """1 if any registry rejected the credentials, else 3 if any was unreachable, else 0.

    A credential being rotated out does not count: the registry rejecting it is how a rotation ends.
    """
    outcomes = {r.outcome for r in results if not is_previous(r.label)}
    for outcome in (REJECTED, UNREACHABLE):
        if outcome in outcomes:
            return EXIT[outcome]
    return 0


def _read_password() -> str:
    # Like `docker login --password-stdin`: the whole input, one trailing newline removed.
    text = utf8(read_stdin("--password-stdin", MAX_SECRET_BYTES), "--password-stdin: standard input")
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise ConfigError("--password-stdin: standard input was empty; pipe the password in")
    return text


def _value(entry: Any, key: str) -> Any:
    """A `pulumi config --json` entry's value: objectValue when present, else the JSON (or plain) text."""
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{key}: expected an object with value or objectValue, as `pulumi config --json` prints")
    if "objectValue" in entry:
        return entry["objectValue"]
    if "value" not in entry:
        raise ConfigError(
            f"{key}: has no value in the JSON (a secret shown without --show-secrets); "
            "run `pulumi config --show-secrets --json`"
        )
    text = entry["value"]
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return text
    return parsed if isinstance(parsed, (list, dict)) else text


def from_config_json(document: Any) -> List[Dict[str, Any]]:
    """Registries, each with its password, from `pulumi config --show-secrets --json` (stack-file spelling)."""
    if not isinstance(document, dict):
        raise ConfigError("--config-json: expected the JSON object that `pulumi config --show-secrets --json` prints")
    keys = [k for k in document if k.endswith(":registries")]
    if len(keys) != 1:
        raise ConfigError("--config-json: no `<project>:registries` key; is this the right stack's config?")
    project = keys[0].rsplit(":", 1)[0]
    registries = _value(document[keys[0]], keys[0])
    objects = {}
    for name in ("passwords", "previousPasswords"):
        key = f"{project}:{name}"
        objects[name] = _value(document[key], key) if key in document else {}
        if not isinstance(objects[name], dict):
            raise ConfigError(f"{key} must be an object of name -> password")
    if not isinstance(registries, list):
        raise ConfigError(f"{keys[0]} must be a list")
    problems = Problems()
    for password in [*objects["passwords"].values(), *objects["previousPasswords"].values()]:
        problems.conceal(password)
    result = []
    for index, item in enumerate(registries):
        if not isinstance(item, dict):
            problems.add(f"registries[{index}]: expected an object with name, server and username")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.add(f"registries[{index}].name: must be the registry's name, the key of its password in "
                         "passwords")
            continue
        password = _password(objects["passwords"], "passwords", name, problems)
        previous = item.get("previous")
        if isinstance(previous, dict):
            previous = {**previous,
                        "password": _password(objects["previousPasswords"], "previousPasswords", name, problems)}
        if password is None or (isinstance(previous, dict) and previous["password"] is None):
            continue
        registry = {**{k: v for k, v in item.items() if k != "name"}, "password": password}
        if isinstance(previous, dict):
            registry["previous"] = previous
        result.append(registry)
    problems.raise_all()
    return result


def _password(passwords: Mapping[str, Any], key: str, name: str, problems: Problems) -> Optional[str]:
    password = passwords.get(name)
    if not isinstance(password, str) or not password:
        problems.add(f"{key}.{shown(name)}: not set in the config JSON (was --show-secrets given?)")
        return None
    return password


def _stack_registries(args: argparse.Namespace) -> List[Dict[str, Any]]:
    source = args.config_json
    what = "--config-json"
    data = read_stdin(what, MAX_FILE_BYTES) if source == "-" else read_file(Path(source), what, MAX_FILE_BYTES)
    text = utf8(data, f"{what} {source}")
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"{what}: {source} is not JSON") from None
    return from_config_json(document)


def _run(args: argparse.Namespace) -> int:
    if bool(args.server) == bool(args.stack):
        raise ConfigError("verify: give either --server (with --username and --password-stdin) or --stack")
    problems = Problems()
    if args.server:
        if not args.username or not args.password_stdin:
            raise ConfigError("verify --server: --username and --password-stdin are required")
        registry: Dict[str, Any] = {"server": args.server, "username": args.username}
        if args.ca_file:
            registry["ca_file"] = args.ca_file
        if args.insecure:
            registry["insecure"] = True
        # A problem with the password is reported with those of the other settings, all at once.
        registry["password"] = problems.check("--password-stdin", lambda _field: _read_password())
        # Without a password (its problem is reported already), the other settings are still checked.
        source = ARGS if registry["password"] is not None else dataclasses.replace(ARGS, passwords_known=False)
        registries = [registry]
    else:
        if not args.config_json:
            raise ConfigError("verify --stack: --config-json FILE|- is required (pulumi config --show-secrets --json)")
        registries, source = _stack_registries(args), CONFIG_JSON
    checked = check_registries(registries, problems, source, more_settings=CHECK_SETTINGS)
    # The CLI is an explicit request: every registry is checked except those whose own `verify` is off.
    settings = verify_settings.check_registries(registries, problems, source, VerifyMode.WARN)
    problems.raise_all()
    checks = targets(checked.entries, settings, checked.passwords, checked.outgoing())
    results = check_all(checks, args.timeout)
    skipped = [e.label() for e in checked.entries if settings[e.index].mode == VerifyMode.OFF]
    dates = _dates(checked)
    if args.json:
        print(json.dumps({
            **({"stack": args.stack} if args.stack else {}),
            "results": [{"registry": r.label, "key": r.key, "endpoint": r.endpoint, "username": r.username,
                         "outcome": r.outcome, "detail": r.detail, **dates.get(r.label, {}),
                         **({"note": PREVIOUS_REJECTED} if _removable(r) else {})} for r in results],
            "skipped": skipped,
            "exitCode": exit_code(results),
        }, indent=2))
    else:
        for r in results:
            about = "".join(f", {key} {value}" for key, value in dates.get(r.label, {}).items()
                            if key in ("expires", "until"))
            print(f"{r.outcome}: {credential_label(r.label, r.username)} at {r.endpoint}{about}: {r.detail}")
            if _removable(r):
                print(f"  {PREVIOUS_REJECTED}")
        for label in skipped:
            print(f"skipped: {label} (verify: off)")
    return exit_code(results)


def _removable(result: Result) -> bool:
    """The registry rejects a credential being rotated out: its `previous` can go."""
    return is_previous(result.label) and result.outcome == REJECTED


def _dates(checked: Registries) -> Dict[str, Dict[str, Any]]:
    """Result label -> the dates reported with it: `previous`, `expires` and `daysLeft`, or `until`."""
    found: Dict[str, Dict[str, Any]] = {}
    for position, entry in enumerate(checked.entries):
        about: Dict[str, Any] = {"previous": False}
        if entry.expires is not None and checked.today is not None:
            about.update(expires=entry.expires.isoformat(), daysLeft=(entry.expires - checked.today).days)
        found[entry.label()] = about
        previous = checked.previous_of(position)
        if previous is not None:
            found[previous_label(entry)] = {"previous": True, "until": previous.until.isoformat()}
    return found


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return value


def add_parser(commands: Any) -> None:
    """Register the `verify` subcommand on the CLI's subparsers."""
    cmd = commands.add_parser(
        "verify",
        help="log in to registries with the configured credentials; exit 0 accepted, 1 rejected, 3 unreachable",
        description="Check registry credentials the way a container runtime logs in (GET /v2/, Basic or Bearer).",
        epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--server", help="registry as written in the config, e.g. harbor.example.com")
    cmd.add_argument("--username", help="account name")
    cmd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    cmd.add_argument("--ca-file", help="PEM CA bundle to trust in addition to the default ones")
    cmd.add_argument("--insecure", action="store_true", help="allow plain HTTP or unverified TLS (development only)")
    cmd.add_argument("--stack", help="check every registry of this stack's config (needs --config-json)")
    cmd.add_argument("--config-json", help="output of `pulumi config --show-secrets --json` (a file, or - for stdin)")
    cmd.add_argument("--json", action="store_true", help="print machine-readable JSON")
    cmd.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, help="seconds per registry (default 10)")
    cmd.set_defaults(func=_run)

