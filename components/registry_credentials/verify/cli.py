"""`python -m registry_credentials verify`: check credentials against registries; exit 0, 1 rejected, 3 unreachable."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from ..errors import ConfigError
from ..credentials.dockerconfig import check_registries
from .login import ACCEPTED, DEFAULT_TIMEOUT, REJECTED, UNREACHABLE, Result, check_all
from .settings import CAMEL, OFF, SNAKE, arg_spelling, registry_settings, targets

EXIT = {ACCEPTED: 0, REJECTED: 1, UNREACHABLE: 3}
"""Exit codes; 2 is a usage error (argparse and ConfigError)."""


def exit_code(results: List[Result]) -> int:
    """1 if any registry rejected the credentials, else 3 if any was unreachable, else 0."""
    outcomes = {r.outcome for r in results}
    for outcome in (REJECTED, UNREACHABLE):
        if outcome in outcomes:
            return EXIT[outcome]
    return 0


def _read_password(stream: Any) -> str:
    # Like `docker login --password-stdin`: the whole input, one trailing newline removed.
    text = stream.read()
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise ConfigError("--password-stdin: standard input was empty; pipe the password in")
    return text


def _value(entry: Mapping[str, Any], key: str) -> Any:
    """A `pulumi config --json` entry's value: objectValue when present, else the JSON (or plain) text."""
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


def from_config_json(document: Any) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Registries (component-arg spelling) and their passwords from `pulumi config --show-secrets --json`."""
    if not isinstance(document, dict):
        raise ConfigError("--config-json: expected the JSON object that `pulumi config --show-secrets --json` prints")
    keys = [k for k in document if k.endswith(":registries")]
    if len(keys) != 1:
        raise ConfigError("--config-json: no `<project>:registries` key; is this the right stack's config?")
    project = keys[0].rsplit(":", 1)[0]
    registries = _value(document[keys[0]], keys[0])
    passwords_key = f"{project}:passwords"
    passwords = _value(document[passwords_key], passwords_key) if passwords_key in document else {}
    if not isinstance(registries, list) or not isinstance(passwords, dict):
        raise ConfigError(f"{keys[0]} must be a list and {passwords_key} an object of name -> password")
    result, secrets = [], []
    for index, item in enumerate(registries):
        if not isinstance(item, dict):
            raise ConfigError(f"registries[{index}]: expected an object")
        name = item.get("name")
        password = passwords.get(name)
        if not isinstance(password, str) or not password:
            raise ConfigError(f"passwords.{name}: not set in the config JSON (was --show-secrets given?)")
        result.append({k: v for k, v in arg_spelling(item).items() if k != "name"})
        secrets.append(password)
    return result, secrets


def _stack_registries(args: argparse.Namespace) -> Tuple[List[Dict[str, Any]], List[str]]:
    source = args.config_json
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as err:
        raise ConfigError(f"--config-json: cannot read {source}: {err.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"--config-json: {source} is not JSON") from None
    return from_config_json(document)


def _run(args: argparse.Namespace) -> int:
    if bool(args.server) == bool(args.stack):
        raise ConfigError("verify: give either --server (with --username and --password-stdin) or --stack")
    if args.server:
        if not args.username or not args.password_stdin:
            raise ConfigError("verify --server: --username and --password-stdin are required")
        registry: Dict[str, Any] = {"server": args.server, "username": args.username}
        if args.ca_file:
            registry["ca_file"] = args.ca_file
        if args.insecure:
            registry["insecure"] = True
        registries, passwords, spelled = [registry], [_read_password(sys.stdin)], SNAKE
    else:
        if not args.config_json:
            raise ConfigError("verify --stack: --config-json FILE|- is required (pulumi config --show-secrets --json)")
        registries, passwords = _stack_registries(args)
        spelled = CAMEL
    checked = check_registries([{**r, "password": p} for r, p in zip(registries, passwords)])
    # The CLI is an explicit request: every registry is checked except those whose own `verify` is off.
    settings = registry_settings(registries, "warn", spelled)
    checks = targets(checked.entries, settings, passwords)
    results = check_all(checks, args.timeout)
    skipped = [checked.entries[s.index].label() for s in settings if s.mode == OFF]
    if args.json:
        print(json.dumps({
            **({"stack": args.stack} if args.stack else {}),
            "results": [{"registry": r.label, "key": r.key, "endpoint": r.endpoint, "username": r.username,
                         "outcome": r.outcome, "detail": r.detail} for r in results],
            "skipped": skipped,
            "exit_code": exit_code(results),
        }, indent=2))
    else:
        for r in results:
            print(f"{r.outcome}: {r.label} user {r.username!r} at {r.endpoint}: {r.detail}")
        for label in skipped:
            print(f"skipped: {label} (verify: off)")
    return exit_code(results)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 600 seconds")
    return value


def add_parser(commands: Any) -> None:
    """Register the `verify` subcommand on the CLI's subparsers."""
    cmd = commands.add_parser(
        "verify",
        help="log in to registries with the configured credentials; exit 0 accepted, 1 rejected, 3 unreachable",
        description="Check registry credentials the way a container runtime logs in (GET /v2/, Basic or Bearer). "
        "Exit codes: 0 all accepted, 1 a registry rejected them, 2 usage error, 3 a registry could not be reached.",
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

