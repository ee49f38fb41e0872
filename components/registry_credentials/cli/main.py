"""Command line: `registry-credentials render|explain|verify ...` (also `python -m registry_credentials`)."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..checks.files import read_file
from ..checks.values import shown
from ..config.stack_files import PLACEHOLDER, StackConfig, check_project_dir, find_project_dir, load_stack
from ..credentials.dockerconfig import credential_label
from ..credentials.servers import userinfo
from ..errors import ConfigError
from ..verify.cli import add_parser as add_verify_parser

EXIT_OK = 0
"""Success; for explain: every image would be pulled with a configured credential."""
EXIT_ANONYMOUS = 1
"""explain: at least one image would be pulled anonymously."""
EXIT_USAGE = 2
"""Usage or configuration error: a bad flag, file, directory or setting (argparse uses 2 as well)."""
EXIT_INVALID_IMAGE = 3
"""explain: at least one image is not a valid image reference (checked before anonymous pulls)."""
EXIT_INTERNAL = 70
"""A bug in this tool (EX_SOFTWARE): one line on stderr, never a traceback unless asked for."""
MAX_NODE_FILE_BYTES = 16 * 1024 * 1024
"""Largest --node-file read (the kubelet reads config.json whole; this only bounds explain's memory)."""

FORMATS = ("yaml", "json")
"""`render -o`: YAML (a multi-document stream, or a .yaml file per object) or JSON (one `v1 List`, or a .json file
per object), as `kubectl get -o yaml|json` prints them."""
PROG = "registry-credentials"
"""The console command (pyproject.toml [project.scripts]); `python -m registry_credentials` runs the same."""
INTERNAL = (f"  {EXIT_INTERNAL}  internal error (a bug: please report it; REGISTRY_CREDENTIALS_DEBUG=1 shows the "
            "traceback)\n")
USAGE = f"  {EXIT_USAGE}   usage or configuration error (a bad flag, file, directory or stack setting)\n"
EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}   success (explain: every image would be pulled with a configured credential; verify: accepted)
  {EXIT_ANONYMOUS}   explain: an image would be pulled anonymously; verify: a registry rejected the credentials
{USAGE}\
  {EXIT_INVALID_IMAGE}   explain: an image is not a valid image reference; verify: a registry was unreachable
{INTERNAL}"""
EXAMPLES = f"""\
examples:
  {PROG} render --stack dev                       # what `pulumi up --stack dev` would apply, offline
  {PROG} explain --stack dev nginx:1.27           # which credential the kubelet would use for an image
  printf %s "$PASSWORD" | {PROG} verify --server harbor.example.com --username robot --password-stdin
"""
RENDER_HELP = f"""\
exit codes:
  {EXIT_OK}   success: the manifests were printed or written
{USAGE}{INTERNAL}
examples:
  {PROG} render --stack dev                       # a plan on stderr, the manifests as YAML on stdout
  {PROG} render --stack dev -o json               # the manifests as one JSON List (kind: List)
  {PROG} render --stack prod --out build/prod     # one file per object, to review; `pulumi up` applies
  {PROG} render --stack dev --project-dir examples/seed   # another Pulumi project's stack
"""
EXPLAIN_HELP = f"""\
exit codes:
  {EXIT_OK}   every image would be pulled with a configured credential
  {EXIT_ANONYMOUS}   an image would be pulled anonymously
{USAGE}\
  {EXIT_INVALID_IMAGE}   an image is not a valid image reference (takes precedence over {EXIT_ANONYMOUS})
{INTERNAL}
examples:
  {PROG} explain --stack dev nginx:1.27 harbor.dev.example.com/team/app:1.0   # keys from a stack's config
  {PROG} explain --json --stack prod harbor.example.com/team/app:1.0          # one JSON report, for CI
  {PROG} explain --node-file /var/lib/kubelet/config.json nginx               # what a node's file holds
  {PROG} explain --key harbor.example.com --key docker.io nginx               # keys as written, no stack
"""


def _stack(args: argparse.Namespace) -> StackConfig:
    project_dir = (check_project_dir(Path(args.project_dir)).resolve() if args.project_dir
                   else find_project_dir(Path.cwd()))
    return load_stack(project_dir, args.stack)


def _render(args: argparse.Namespace) -> int:
    from . import plan_summary, render  # Pulumi is imported only for the commands that run the program

    config = _stack(args)
    out = render.check_out_dir(Path(args.out)) if args.out else None
    for note in config.notes:
        print(f"note: {note}", file=sys.stderr)
    try:
        run = render.run_stack(config)
    except ConfigError:
        raise
    except Exception as err:  # the project's own program failed: the user's to fix, not ours
        raise ConfigError(f"the stack program {config.project_dir / '__main__.py'} failed: "
                          f"{type(err).__name__}: {_one_line(str(err))}") from None
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for key in config.unset_secrets:
        print(f"note: {key} is not set yet; rendered as {PLACEHOLDER}", file=sys.stderr)
    found = render.manifests(run.records)
    outputs = {k: (PLACEHOLDER if k in run.secret_outputs else v) for k, v in run.outputs.items()}
    # The plan first, on stderr (a terminal shows it before the manifests; a pipe gets the manifests alone).
    title = f"pulumi up --stack {config.stack} would apply (offline render; nothing was sent to a cluster)"
    for line in plan_summary.summary(title, [m.seen() for m in found], outputs):
        print(line, file=sys.stderr)
    if out is not None:
        try:
            written = render.write(found, out, args.output)
        except OSError as err:
            raise ConfigError(f"--out {out}: cannot write there ({err.strerror or err})") from None
        print(f"wrote {len(written)} files into {out}:", file=sys.stderr)
        for path in written:
            print(f"  {path}", file=sys.stderr)
        return EXIT_OK
    if found:
        print(f"the {len(found)} manifests follow as {args.output.upper()} on stdout; --out DIR writes one file each",
              file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.write(render.as_stream(found, args.output))  # none: nothing as YAML, an empty List as JSON
    return EXIT_OK


Source = Tuple[List[str], Dict[str, Dict[str, Any]]]
"""One config the kubelet reads (a pull Secret, or the node file): its keys, and what we know of each key."""


def _stack_sources(args: argparse.Namespace) -> Tuple[List[Source], Source, List[Dict[str, Any]]]:
    """The pod's pull Secrets, the node file and the registries' dates, from a stack's config (no secrets needed)."""
    from ..config.reader import FileValues, read_plan
    from ..credentials.rotation import alternate_key, previous_name

    config = _stack(args)
    # The program's own reader and checks, without the passwords: explain never needs them.
    plan = read_plan(FileValues(config), require_passwords=False)
    registries = plan.registries
    secret = plan.secret_name or "registry-credentials"
    main: Source = ([], {})
    previous: Source = ([], {})
    node: Source = ([], {})
    dates = []
    for position, entry in enumerate(registries.entries):
        # Named as verify and preview messages name a registry (Entry.label), in both text and JSON.
        about: Dict[str, Any] = {"registry": entry.label(), "username": entry.username}
        if entry.expires:
            about["expires"] = entry.expires.isoformat()
        # Which Secret a credential is in matters once there are two of them.
        _add(main, entry.key, {**about, "secret": secret} if registries.rotating else about)
        _add(node, entry.key, about)
        dated: Dict[str, Any] = {"registry": entry.label(), "key": entry.key, "username": entry.username}
        if entry.expires and registries.today:
            dated.update(expires=entry.expires.isoformat(), daysLeft=(entry.expires - registries.today).days)
        outgoing = registries.previous_of(position)
        if outgoing is not None:
            dated["previous"] = {"username": outgoing.username, "until": outgoing.until.isoformat(),
                                 "live": outgoing.live}
        dates.append(dated)
        if outgoing is not None and outgoing.live:
            about = {"registry": entry.label(), "username": outgoing.username, "previous": True,
                     "until": outgoing.until.isoformat()}
            _add(previous, entry.key, {**about, "secret": previous_name(secret)})
            _add(node, alternate_key(entry.key), about)
    pods = [main, previous] if previous[0] else [main]
    return pods, (node if plan.node_enabled else ([], {})), dates


def _add(source: Source, key: str, about: Dict[str, Any]) -> None:
    source[0].append(key)
    source[1][key] = about


def _node_file_keys(path: str) -> List[str]:
    """The auths keys the kubelet would use from a node's config.json (or .dockercfg), read with its semantics."""
    from ..node.agent import KubeletRejects, kubelet_view  # the node agent's reader: one reading of node files

    data = read_file(Path(path), "--node-file", MAX_NODE_FILE_BYTES)
    try:
        view = kubelet_view(data, legacy=Path(path).name == ".dockercfg")
    except KubeletRejects as err:
        what = ("is not a JSON config.json" if err.syntax
                else 'expected a docker config.json, {"auths": {...}}')
        raise ConfigError(f"--node-file {path}: {what}: {_one_line(str(err))}; the kubelet skips such a file "
                          "and uses none of its entries") from None
    return list(view.entries)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _explain(args: argparse.Namespace) -> int:
    from ..credentials.coverage import explain_sources, is_fallback
    from ..credentials.keyring import diagnose_keys

    pods, node, dates = _stack_sources(args) if args.stack else ([([], {})], ([], {}), [])
    pods[0][0].extend(args.key or [])
    node[0].extend([*(args.node_key or []), *(_node_file_keys(args.node_file) if args.node_file else [])])
    every_pod = [key for keys, _ in pods for key in keys]
    if not every_pod and not node[0] and not args.node_file:  # a node file with no entries: every pull is anonymous
        raise ConfigError("explain: give --stack NAME, or keys with --key / --node-key / --node-file")
    images: List[Dict[str, Any]] = []
    for image in args.images:
        result = explain_sources([keys for keys, _ in pods], node[0], image)
        entry: Dict[str, Any] = {"image": image, "valid": result.error is None}
        if result.error:
            entry["error"] = result.error
        else:
            entry["repository"] = result.repository
            entry["covered"] = result.covered
            for field, steps, infos in (("pod", result.pod_steps, [about for _, about in pods]),
                                        ("node", result.node_steps, [node[1]])):
                # In the order they are tried; credentials sharing a `step` are tried in an order that varies.
                entry[field] = [
                    {"key": key, "dockerHubFallback": is_fallback(key, result.repository or ""),
                     **({"step": number, "orderVaries": True} if len(step.keys) > 1 else {}),
                     **infos[step.source].get(key, {})}
                    for number, step in enumerate(steps, 1) for key in step.keys]
        images.append(entry)
    problems = diagnose_keys(sorted(set(every_pod + node[0])))
    code = (EXIT_INVALID_IMAGE if any(not e["valid"] for e in images)
            else EXIT_ANONYMOUS if any(not e["covered"] for e in images) else EXIT_OK)
    # A key may hold `user:password@` (the kubelet ignores it when matching): never print that part.
    # Messages quote keys as Python or Go would, so each quoted spelling is hidden too.
    userinfos = {f"{info}@" for info in map(userinfo, every_pod + node[0]) if info}
    hidden = sorted({form for info in userinfos for form in (info, repr(info)[1:-1], json.dumps(info)[1:-1],
                                                         json.dumps(info, ensure_ascii=False)[1:-1])},
                    key=len, reverse=True)
    if args.json:
        report = {"images": images, "keyProblems": [vars(p) for p in problems], "exitCode": code}
        if args.stack:
            report["registries"] = dates
        print(json.dumps(_hide(report, hidden), indent=2, sort_keys=True))
        return code
    lines = []
    for entry in images:
        image = shown(entry["image"])  # untrusted: a newline in an image or key must not forge output lines
        if not entry["valid"]:
            lines.append(f"{image}: not a valid image reference: {_one_line(entry['error'])}")
            continue
        lines.append(f"{image} -> {entry['repository']}")
        for source, label in (("pod", "pod Secret"), ("node", "node file")):
            for found in entry[source]:
                lines.append(f"  {label}: {shown(found['key'])}{_credential_note(found, entry[source])}")
        if not entry["covered"]:
            lines.append("  anonymous: no configured key matches this image")
    for dated in dates:
        if "expires" in dated or "previous" in dated:
            lines.append(_dates_line(dated))
    for problem in problems:
        lines.append(f"key {problem.key!r} ({problem.kind}): {_one_line(problem.message)}")
    for line in lines:
        print(_hide(line, hidden))
    return code


def _credential_note(found: Dict[str, Any], tried: List[Dict[str, Any]]) -> str:
    """What explain says after a key: the Docker Hub fallback, whose credential it is, and the order it is tried in."""
    note = " (Docker Hub fallback)" if found["dockerHubFallback"] else ""
    detail = f" [{credential_label(found['registry'], found['username'])}]" if "registry" in found else ""
    if "secret" in found:
        detail += f" in Secret {found['secret']}"
    if found.get("expires"):
        detail += f", expires {found['expires']}"
    if found.get("previous"):
        detail += f": the previous credential, kept until {found['until']}"
    if found.get("orderVaries"):
        others = [shown(t["key"]) for t in tried if t["step"] == found["step"] and t is not found]
        detail += f" (tried in either order with {', '.join(others)}: the kubelet reads one file as a Go map)"
    return note + detail


def _dates_line(dated: Dict[str, Any]) -> str:
    """One line per registry of the stack: when its credential expires, and its rotation window."""
    parts = [credential_label(dated["registry"], dated["username"])]
    if "expires" in dated:
        days = dated["daysLeft"]
        parts.append(f"expires {dated['expires']} ({'expired' if days < 0 else f'in {days} days'})")
    previous = dated.get("previous")
    if previous:
        state = "live" if previous["live"] else "ended: the next run drops it"
        parts.append(f"previous user {previous['username']!r} kept until {previous['until']} ({state})")
    return "dates: " + "; ".join(parts)


def _hide(value: Any, hidden: List[str]) -> Any:
    """`value` (text, or a report made of lists and dicts) with every `user:password@` in `hidden` as `***@`."""
    if isinstance(value, dict):
        return {key: _hide(item, hidden) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide(item, hidden) for item in value]
    if isinstance(value, str):
        for info in hidden:
            value = value.replace(info, "***@")
    return value


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("registry-credentials")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _add_render(commands: Any) -> None:
    render_cmd = commands.add_parser(
        "render",
        help="print or write the manifests `pulumi up` would apply, offline (secrets shown as [secret])",
        description="Run the stack program offline under Pulumi's mocks, as a first `pulumi preview` would, and\n"
        "print what it declares, for review: first a plan on stderr (each object, the method it serves, what\n"
        "is off and why), then the manifests on stdout. `pulumi up` applies them: a manifest holding [secret] or\n"
        "[unknown until up], or patching an existing object, is marked (apiVersion\n"
        "*.render-only.registry-credentials.pulumi.com) so that no API server takes it.",
        epilog=RENDER_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render_cmd.add_argument("--stack", required=True, help="stack name, e.g. dev (reads stacks/Pulumi.<stack>.yaml)")
    render_cmd.add_argument(
        "--out", metavar="DIR",
        help="write one file per manifest into DIR (new, empty, or one render wrote before) instead of stdout",
    )
    render_cmd.add_argument("-o", "--output", choices=FORMATS, default="yaml",
                            help="yaml (default: a multi-document stream) or json (one v1 List)")
    render_cmd.add_argument("--project-dir", help="the Pulumi project (default: nearest Pulumi.yaml upwards)")
    render_cmd.set_defaults(func=_render)


def _add_explain(commands: Any) -> None:
    explain_cmd = commands.add_parser(
        "explain",
        help="say which credentials the kubelet would use for each image; exit 1 if any would pull anonymously",
        description="Replay the kubelet's credential lookup for each image.",
        epilog=EXPLAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain_cmd.add_argument("images", nargs="+", metavar="IMAGE", help="image as written in a pod spec")
    explain_cmd.add_argument("--stack", help="take the keys from this stack's config (passwords are not needed)")
    explain_cmd.add_argument("--project-dir", help="the Pulumi project (default: nearest Pulumi.yaml upwards)")
    explain_cmd.add_argument("--key", action="append", help="an auths key of the pod Secret (repeatable)")
    explain_cmd.add_argument("--node-key", action="append", help="an auths key of the node's config.json (repeatable)")
    explain_cmd.add_argument("--node-file", help="a node's config.json to read auths keys from")
    explain_cmd.add_argument("--json", action="store_true", help="print one JSON report (for CI) instead of text")
    explain_cmd.set_defaults(func=_explain)


COMMANDS: List[Callable[[Any], None]] = [_add_render, _add_explain, add_verify_parser]
"""Subcommand registrars, in --help order; a module adding a subcommand appends its own."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__,
        epilog=EXIT_CODES + "\n" + EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def entry() -> None:
    """The console command `registry-credentials` (and `python -m registry_credentials`): run, flush, exit."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    # Skip interpreter teardown: Pulumi's mock runtime leaves event loops in worker threads whose __del__ prints
    # "Exception ignored ..." at exit. Everything is flushed; there is nothing else to clean up.
    os._exit(code)


def _quiet_exit(code: int) -> int:
    # After a broken pipe the interpreter's final flush of stdout would print "Exception ignored ...":
    # point stdout at /dev/null so that flush has nowhere to fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return code


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; see EXIT_CODES for what the exit status means."""
    # Started with stdout or stderr closed (`>&-`): Python sets them to None; write into the void instead.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")  # any argument prints, even undecodable bytes
    try:
        code = _run(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _quiet_exit(EXIT_OK)
    except OSError as err:  # stdout on a full disk and the like: the environment's, not a bug
        try:
            print(f"error: cannot write the output: {err.strerror or err}", file=sys.stderr)
        except OSError:
            pass
        return _quiet_exit(EXIT_USAGE)


def _run(argv: Optional[List[str]]) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SystemExit as done:  # argparse: --help, --version, usage errors (2)
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError:
        raise  # output errors: handled by main
    except Exception as err:  # noqa: BLE001 - the promise is "never a traceback"
        if os.environ.get("REGISTRY_CREDENTIALS_DEBUG"):
            raise
        print(f"internal error: {type(err).__name__}: {_one_line(str(err))} (please report this; set "
              "REGISTRY_CREDENTIALS_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
