"""Command line: `python -m registry_credentials render|explain|verify ...`."""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .errors import ConfigError
from .stack_files import PLACEHOLDER, find_project_dir, load_stack
from .verify_cli import add_parser as add_verify_parser


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


def _stack_keys(args: argparse.Namespace) -> "tuple[list, list, dict]":
    """Pod-Secret keys, node-file keys and key -> description, from a stack's config (no secrets needed)."""
    from .dockerconfig import check_registries
    from .stack_files import object_value
    from .verify_settings import arg_spelling

    project_dir = Path(args.project_dir).resolve() if args.project_dir else find_project_dir(Path.cwd())
    config = load_stack(project_dir, args.stack)
    registries = object_value(config, "registries") or []
    if isinstance(registries, list):  # issue 12: caFile is spelled ca_file in the args check_registries reads
        registries = [arg_spelling(r) for r in registries]
    checked = check_registries(registries, passwords_known=False)
    about = {e.key: f"registry {registries[e.index].get('name', e.index)!s}, user {e.username}"
             for e in checked.entries}
    keys = [e.key for e in checked.entries]
    node = object_value(config, "nodeBootstrap") or {}
    return keys, (keys if isinstance(node, dict) and node.get("enabled") else []), about


def _explain(args: argparse.Namespace) -> int:
    from .coverage import explain, is_fallback
    from .keyring import diagnose_keys

    pod, node, about = _stack_keys(args) if args.stack else ([], [], {})
    pod += args.key or []
    node += args.node_key or []
    if args.node_file:
        node += list((json.loads(Path(args.node_file).read_text()).get("auths") or {}).keys())
    if not pod and not node:
        raise ConfigError("explain: give --stack NAME, or keys with --key / --node-key / --node-file")
    failed = 0
    for image in args.images:
        result = explain(pod, node, image)
        if result.error:
            print(f"{image}: not a valid image reference: {result.error}")
            failed += 1
            continue
        print(f"{image} -> {result.repository}")
        for source, keys in (("pod Secret", result.pod), ("node file", result.node)):
            for key in keys:
                note = " (Docker Hub fallback)" if is_fallback(key, result.repository or "") else ""
                detail = f" [{about[key]}]" if key in about else ""
                print(f"  {source}: {key}{note}{detail}")
        if not result.covered:
            print("  anonymous: no configured key matches this image")
            failed += 1
    problems = diagnose_keys(sorted(set(pod + node)))
    for problem in problems:
        print(f"key {problem.key!r} ({problem.kind}): {problem.message}")
    return 1 if failed else 0


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
    explain_cmd = commands.add_parser(
        "explain",
        help="say which credentials the kubelet would use for each image; exit 1 if any would pull anonymously",
    )
    explain_cmd.add_argument("images", nargs="+", metavar="IMAGE", help="image as written in a pod spec")
    explain_cmd.add_argument("--stack", help="take the keys from this stack's config (passwords are not needed)")
    explain_cmd.add_argument("--project-dir", help="the Pulumi project (default: nearest Pulumi.yaml upwards)")
    explain_cmd.add_argument("--key", action="append", help="an auths key of the pod Secret (repeatable)")
    explain_cmd.add_argument("--node-key", action="append", help="an auths key of the node's config.json (repeatable)")
    explain_cmd.add_argument("--node-file", help="a node's config.json to read auths keys from")
    explain_cmd.set_defaults(func=_explain)
    add_verify_parser(commands)  # issue 12: `verify`, defined in verify_cli.py
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; configuration errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
