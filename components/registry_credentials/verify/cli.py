"""`registry-credentials verify`: check credentials against registries; exit 0, 1 rejected, 3 unreachable."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping

from ..checks.problems import Problems
from ..checks.spelling import Spelling
from ..checks.values import ARGS, Source
from ..credentials.dockerconfig import credential_label
from ..credentials.registries import check_registries
from ..errors import ConfigError
from . import settings as verify_settings
from .login import ACCEPTED, DEFAULT_TIMEOUT, REJECTED, UNREACHABLE, Result, check_all
from .settings import CHECK_SETTINGS, VerifyMode, targets

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


def from_config_json(document: Any) -> List[Dict[str, Any]]:
    """Registries, each with its password, from `pulumi config --show-secrets --json` (stack-file spelling)."""
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
    result = []
    for index, item in enumerate(registries):
        if not isinstance(item, dict):
            raise ConfigError(f"registries[{index}]: expected an object")
        name = item.get("name")
        password = passwords.get(name)
        if not isinstance(password, str) or not password:
            raise ConfigError(f"passwords.{name}: not set in the config JSON (was --show-secrets given?)")
        result.append({**{k: v for k, v in item.items() if k != "name"}, "password": password})
    return result


def _stack_registries(args: argparse.Namespace) -> List[Dict[str, Any]]:
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
        registry["password"] = _read_password(sys.stdin)
        registries, source = [registry], ARGS
    else:
        if not args.config_json:
            raise ConfigError("verify --stack: --config-json FILE|- is required (pulumi config --show-secrets --json)")
        registries, source = _stack_registries(args), CONFIG_JSON
    problems = Problems()
    checked = check_registries(registries, problems, source, more_settings=CHECK_SETTINGS)
    # The CLI is an explicit request: every registry is checked except those whose own `verify` is off.
    settings = verify_settings.check_registries(registries, problems, source, VerifyMode.WARN)
    problems.raise_all()
    checks = targets(checked.entries, settings, checked.passwords)
    results = check_all(checks, args.timeout)
    skipped = [e.label() for e in checked.entries if settings[e.index].mode == VerifyMode.OFF]
    if args.json:
        print(json.dumps({
            **({"stack": args.stack} if args.stack else {}),
            "results": [{"registry": r.label, "key": r.key, "endpoint": r.endpoint, "username": r.username,
                         "outcome": r.outcome, "detail": r.detail} for r in results],
            "skipped": skipped,
            "exitCode": exit_code(results),
        }, indent=2))
    else:
        for r in results:
            print(f"{r.outcome}: {credential_label(r.label, r.username)} at {r.endpoint}: {r.detail}")
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

