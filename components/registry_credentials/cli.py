"""Command line: `python -m registry_credentials render|explain ...`."""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .errors import ConfigError
from .stack_files import PLACEHOLDER, find_project_dir, load_stack


def _render(args: argparse.Namespace) -> int:
    from . import render  # Pulumi is imported only for the commands that run the program

    project_dir = Path(args.project_dir).resolve() if args.project_dir else find_project_dir(Path.cwd())
    config = load_stack(project_dir, args.stack)
    run = render.run_stack(config)
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for key in config.unset_secrets:
        print(f"note: {key} is not set yet; rendered as {PLACEHOLDER}", file=sys.stderr)
    found = render.manifests(run.records)
    if args.out:
        for path in render.write(found, Path(args.out)):
            print(path, file=sys.stderr)
    else:
        sys.stdout.write(render.as_stream(found))
    outputs = {k: (PLACEHOLDER if k in run.secret_outputs else v) for k, v in run.outputs.items()}
    print(f"outputs: {json.dumps(outputs, sort_keys=True)}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all subcommands."""
    parser = argparse.ArgumentParser(prog="python -m registry_credentials", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    render_cmd = commands.add_parser(
        "render",
        help="print or write the manifests `pulumi up` would apply, offline (secrets shown as [secret])",
    )
    render_cmd.add_argument("--stack", required=True, help="stack name, e.g. dev (reads stacks/Pulumi.<stack>.yaml)")
    render_cmd.add_argument("--out", help="write one file per manifest into this directory instead of stdout")
    render_cmd.add_argument("--project-dir", help="the Pulumi project (default: nearest Pulumi.yaml upwards)")
    render_cmd.set_defaults(func=_render)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; configuration errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
