"""Offline `render`: run the real stack program under Pulumi's mocks and write the manifests `pulumi up` would apply."""

import heapq
import io
import json
import os
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set

from pulumi.output import Unknown
from pulumi.runtime import rpc
from ruamel.yaml import YAML
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import BaseResolver, implicit_resolvers

from ..component import TYPE_TOKEN
from ..config.stack_files import PLACEHOLDER, SECRET_OBJECTS, StackConfig, object_value, registry_names
from ..errors import ConfigError
from .mockrun import Record, Run
from .offline_preview import Engine, FirstPreview, run_on
from .plan_summary import Seen

_TOP_KEYS = ("apiVersion", "kind", "metadata")
# Registration order is asynchronous; sort into the order an apply needs (namespaces first, workloads last).
_KIND_ORDER = ("Namespace", "Secret", "ConfigMap", "ServiceAccount", "Role", "RoleBinding")


class _EitherVersion(BaseResolver):
    """Reads a plain scalar as YAML 1.1 or 1.2 would, whichever makes it a non-string, so the writer quotes it.

    kubectl reads manifests as YAML 1.1 (sigs.k8s.io/yaml, on go-yaml v2), where `on`, `yes` and `no` are booleans;
    stack files are YAML 1.2 (config.stack_files). Quoted, a value means the same to both.
    """

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        super().__init__(loader or loadumper)


for _versions, _tag, _regexp, _first in implicit_resolvers:
    _EitherVersion.add_implicit_resolver_base(_tag, _regexp, _first)


class _Representer(SafeRepresenter):
    """Multi-line strings (the agent script in its ConfigMap) as readable literal blocks."""

    def represent_str(self, value: str) -> Any:
        """A literal block when the text has several lines and none ends in a space, else the usual scalar."""
        style = "|" if "\n" in value and all(line == line.rstrip() for line in value.splitlines()) else None
        return self.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Representer.add_representer(str, _Representer.represent_str)


def _dump(body: Dict[str, Any]) -> str:
    writer = YAML(typ="safe", pure=True)
    writer.Resolver = _EitherVersion
    writer.Representer = _Representer
    writer.default_flow_style = False
    writer.sort_base_mapping_type_on_output = False  # the caller orders the keys
    writer.allow_unicode = False  # escape non-ASCII: a raw U+2028 in a quoted scalar is a line break to YAML 1.1
    writer.width = 1 << 16  # never fold a long line
    out = io.StringIO()
    writer.dump(body, out)
    return out.getvalue()


@dataclass
class Manifest:
    """One Kubernetes object from a recorded registration, secrets replaced by PLACEHOLDER."""

    typ: str
    logical_name: str
    body: Dict[str, Any]
    ours: bool = False
    """A child of a RegistryCredentials component, rather than an object of the rest of the program."""

    @property
    def is_patch(self) -> bool:
        """True for pulumi-kubernetes `*Patch` resources (server-side apply patches of existing objects)."""
        return self.typ.endswith("Patch")

    def filename(self, index: int, width: int = 2, output: str = "yaml") -> str:
        """A stable file name; the zero-padded index keeps `ls` (and `kubectl apply -f DIR`) in apply order."""
        meta = self.body.get("metadata") or {}
        parts = [self.body.get("kind", "object"), meta.get("namespace") or "", meta.get("name") or self.logical_name]
        stem = "-".join(str(p) for p in parts if p)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).lower().lstrip(".")[:200]
        return f"{index:0{width}d}-{stem}{'-patch' if self.is_patch else ''}.{output}"

    def ordered(self) -> Dict[str, Any]:
        """The body with apiVersion, kind, metadata first and every other mapping sorted.

        The wire's maps have no order, so insertion order differs run to run, and the bytes must not.
        """
        body = {k: _sorted(self.body[k]) for k in _TOP_KEYS if k in self.body}
        body.update({k: _sorted(self.body[k]) for k in sorted(self.body) if k not in body})
        if self.not_applyable() and isinstance(body.get("apiVersion"), str):
            body["apiVersion"] = render_only(body["apiVersion"])  # so that no API server takes it
        return body

    def to_yaml(self) -> str:
        """The manifest as YAML, with a comment saying which Pulumi resource sends it; a manifest that is not safe to
        `kubectl apply` carries RENDER_ONLY (see not_applyable) and says why."""
        note = " (server-side apply patch of an existing object)" if self.is_patch else ""
        header = f"# {self.typ} {self.logical_name}{note}\n"
        reason = self.not_applyable()
        if reason and isinstance(self.body.get("apiVersion"), str):
            header += (f"# NOT FOR kubectl apply: {reason}; `pulumi up` applies it, as apiVersion "
                       f"{self.body['apiVersion']}\n")
        return header + _dump(self.ordered())

    def to_json(self) -> str:
        """The manifest as JSON (two-space indent, as kubectl prints it); JSON has no comments, so only its
        RENDER_ONLY apiVersion says when it is not safe to apply."""
        return json.dumps(self.ordered(), indent=2, ensure_ascii=True) + "\n"

    def text(self, output: str) -> str:
        """The manifest as `output` (yaml or json) says."""
        return self.to_json() if output == "json" else self.to_yaml()

    def seen(self) -> Seen:
        """The manifest as the plan summary reads it."""
        meta = self.body.get("metadata") or {}
        return Seen(kind=str(self.body.get("kind", "")), namespace=str(meta.get("namespace") or ""),
                    name=str(meta.get("name") or self.logical_name), ours=self.ours, patch=self.is_patch,
                    body=self.body)

    def not_applyable(self) -> Optional[str]:
        """Why `kubectl apply` of this manifest would do harm, or None when it would create what `pulumi up` does."""
        if self.is_patch:
            return ("it patches an existing object, and kubectl apply would replace that object's lists instead "
                    "(others' imagePullSecrets too)")
        values = set(_leaves(self.body))
        if PLACEHOLDER in values:
            return f"it holds {PLACEHOLDER} where the real values are secret"
        if UNKNOWN_SHOWN in values:
            return f"it holds {UNKNOWN_SHOWN} where a value is known only once pulumi up runs"
        return None


def _leaves(value: Any) -> Iterator[Any]:
    """Every value in `value` that is not a list or a mapping."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


UNKNOWN_SHOWN = "[unknown until up]"
"""How the render shows a value a first `pulumi preview` cannot know yet (Pulumi prints `[unknown]`)."""
RENDER_ONLY = "render-only.registry-credentials.pulumi.com"
"""The API group suffix that marks a manifest not safe to apply: no API server serves it, so `kubectl apply` (with
any flags: --server-side, --force, --validate=false) stops at the resource mapping and sends nothing."""


def render_only(api_version: str) -> str:
    """`v1` -> `render-only.registry-credentials.pulumi.com/v1`, `apps/v1` -> `apps.render-only...../v1`."""
    group, _, version = api_version.rpartition("/")
    return f"{group + '.' if group else ''}{RENDER_ONLY}/{version}"


def redact(value: Any) -> Any:
    """Return `value` with every RPC-secret subtree replaced by PLACEHOLDER (keys of a secret map kept).

    Values unknown in preview show as UNKNOWN_SHOWN.
    """
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return UNKNOWN_SHOWN
    if rpc.is_rpc_secret(value):
        inner = rpc.unwrap_rpc_secret(value)
        if isinstance(inner, dict):
            return {k: PLACEHOLDER for k in inner}
        return PLACEHOLDER
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def whole_numbers(value: Any) -> Any:
    """Turn integral floats back into ints: the wire's protobuf Struct carries every number as a double."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def manifests(records: List[Record]) -> List[Manifest]:
    """Kubernetes objects the program declares, dependencies first, ties in a stable kind/namespace/name order."""
    found: Dict[str, Manifest] = {}
    direct = {r.urn: r.dependencies for r in records if r.urn}
    depends: Dict[str, Set[str]] = {}
    for index, record in enumerate(records):
        if not record.custom or record.read or not record.typ.startswith("kubernetes:"):
            continue
        body = whole_numbers(redact(record.inputs))
        ordered = {k: body[k] for k in _TOP_KEYS if k in body}
        ordered.update({k: v for k, v in body.items() if k not in ordered})
        key = record.urn or f"#{index}"
        # A child's URN type is its parent's type, `$`, then its own (pulumi resource/urn.go).
        ours = f"{TYPE_TOKEN}$" in (record.urn or "")
        found[key] = Manifest(record.typ, record.name, ordered, ours)
        depends[key] = _closure(record.dependencies, direct)
    return _topological(found, depends)


def _closure(deps: List[str], direct: Dict[str, List[str]]) -> Set[str]:
    # Follow dependencies through records that are not manifests (reads, components) to the ones that are.
    seen: Set[str] = set()
    stack = list(deps)
    while stack:
        urn = stack.pop()
        if urn not in seen:
            seen.add(urn)
            stack.extend(direct.get(urn, []))
    return seen


def _topological(found: Dict[str, Manifest], depends: Dict[str, Set[str]]) -> List[Manifest]:
    # Registration order is asynchronous, so order by the recorded dependencies instead (Kahn's algorithm): at each
    # step the least ready manifest by apply order, ties to the first registered; in a cycle, the least of all left.
    # A heap of the ready ones keeps it O(n log n) (re-scanning every waiting one at each step was O(n²): 0.8-2.3 s
    # of a 1,000-namespace render).
    waiting = {key: {d for d in deps if d in found and d != key} for key, deps in depends.items()}
    dependents: Dict[str, List[str]] = {}
    for key, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(key)
    rank = {key: (_apply_order(found[key]), index) for index, key in enumerate(waiting)}
    ready = [(rank[key], key) for key, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    left = dict.fromkeys(waiting)
    result: List[Manifest] = []
    while left:
        key = heapq.heappop(ready)[1] if ready else min(left, key=rank.__getitem__)  # a cycle cannot stall us
        result.append(found[key])
        del left[key]
        for dependent in dependents.get(key, ()):
            deps = waiting[dependent]
            if key in deps:
                deps.discard(key)
                if not deps and dependent in left:
                    heapq.heappush(ready, (rank[dependent], dependent))
    return result


def _apply_order(manifest: Manifest) -> tuple:
    kind = manifest.body.get("kind", "")
    rank = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
    meta = manifest.body.get("metadata") or {}
    return (rank, manifest.is_patch, meta.get("namespace") or "", meta.get("name") or "", manifest.logical_name)


def fill_unset_passwords(config: StackConfig) -> None:
    """Give every registry without a stored password the placeholder, so render works before secrets are set."""
    registries = object_value(config, "registries")
    if not isinstance(registries, list):
        return
    for secret_object in SECRET_OBJECTS:
        passwords = object_value(config, secret_object) or {}
        if not isinstance(passwords, dict):
            continue
        names = registry_names({"registries": registries}, "registries", secret_object)
        if not names and secret_object != "passwords":
            continue
        for name in names:
            if name not in passwords:
                passwords[name] = PLACEHOLDER
                config.unset_secrets.append(f"{secret_object}.{name}")
        key = config.full_key(secret_object)
        config.values[key] = json.dumps(passwords)
        if key not in config.secret_keys:
            config.secret_keys.append(key)


def run_stack(config: StackConfig, engine: Optional[Engine] = None, preview: bool = True) -> Run:
    """Run the project's `__main__.py` as `pulumi preview` would, with the redacted config.

    By default it runs as a first preview (offline_preview.FirstPreview): every namespace the stack reads from
    exists, with clean ServiceAccounts, and nothing of ours is deployed yet, so Patch ids, reads of namespaces the
    stack creates and provider-computed values are unknown. Pass another `engine` (and preview=False for the
    update phase of an up) to run against another state.
    """
    fill_unset_passwords(config)
    main = config.project_dir / "__main__.py"
    sys.path.insert(0, str(config.project_dir))
    try:
        return run_on(
            engine or FirstPreview(),
            lambda: runpy.run_path(str(main), run_name="__main__"),
            preview=preview,
            project=config.project,
            stack=config.stack,
            config=config.values,
            secret_keys=config.secret_keys,
            run_transforms=True,
        )
    finally:
        sys.path.remove(str(config.project_dir))


MARKER = ".registry-credentials-render"
"""Lists the files render wrote into an --out directory; kubectl apply -f DIR skips it (not .yaml/.yml/.json)."""
# Unchanged since the command was `python -m registry_credentials` only: directories written then are still ours.
_MARKER_HEADER = "# written by `python -m registry_credentials render`; the files below are its own\n"
_OWN_NAME = re.compile(r"[0-9]+-[a-z0-9_.-]+\.(yaml|json)")


def check_out_dir(out: Path) -> Path:
    """Refuse an --out that render must not write into, before anything runs: see write()."""
    _owned(out)
    return out


def _owned(out: Path) -> List[str]:
    """The files render wrote into `out` last time; [] for a new or empty directory; ConfigError otherwise."""
    if not out.exists() and not out.is_symlink():
        if out.parent.exists() and not out.parent.is_dir():
            raise ConfigError(f"--out {out}: {out.parent} is not a directory")
        return []
    if not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a directory; give a new or empty directory")
    try:
        entries = sorted(os.listdir(out))
    except OSError as err:
        raise ConfigError(f"--out {out}: cannot be read ({err.strerror})") from None
    if not entries:
        return []
    if MARKER not in entries:
        raise ConfigError(
            f"--out {out}: is not empty and render did not write it; render never overwrites or deletes files it "
            "did not write: give a new or empty directory"
        )
    marker = out / MARKER
    if marker.is_symlink() or not marker.is_file():
        raise ConfigError(f"--out {out}: {MARKER} is not a file render wrote; give a new or empty directory")
    lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or lines[0] + "\n" != _MARKER_HEADER:
        raise ConfigError(f"--out {out}: {MARKER} was not written by render; give a new or empty directory")
    return [name for name in lines[1:] if _OWN_NAME.fullmatch(name)]


def _write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    # A new temporary file renamed over the target: the target (even a symlink) is replaced, never written through.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write(found: List[Manifest], out: Path, output: str = "yaml") -> List[Path]:
    """Write one file per manifest into `out` (as yaml or json), replacing only render's own earlier output there.

    `out` must be new, empty, or marked by an earlier render (MARKER lists the files it wrote). Files render did
    not write are never overwritten or deleted; its own stale files are removed. Created 0700, files 0600, as the
    provider's render mode does.
    """
    owned = _owned(out)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    width = max(2, len(str(max(len(found) - 1, 0))))
    names = [manifest.filename(index, width, output) for index, manifest in enumerate(found)]
    for name in names:
        path = out / name
        if name not in owned and (path.exists() or path.is_symlink()):
            raise ConfigError(f"--out {out}: {name} exists and render did not write it; move it away or use "
                              "another directory")
    for name in owned:
        path = out / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ConfigError(f"--out {out}: {name} is no longer a file render wrote; move it away")
    # Claim the new names first, so an interrupted run still knows every file it may have written.
    _write_atomic(out / MARKER, _MARKER_HEADER + "".join(f"{n}\n" for n in sorted({*owned, *names})))
    paths = []
    for name, manifest in zip(names, found):
        path = out / name
        _write_atomic(path, manifest.text(output))
        paths.append(path)
    for stale in sorted(set(owned) - set(names)):
        (out / stale).unlink(missing_ok=True)
    _write_atomic(out / MARKER, _MARKER_HEADER + "".join(f"{n}\n" for n in names))
    return paths


def as_stream(found: List[Manifest], output: str = "yaml") -> str:
    """All manifests as one multi-document YAML stream, or as one JSON `v1 List` (what `kubectl get -o json` prints
    for several objects, and `kubectl apply -f` reads)."""
    if output == "json":
        items = [m.ordered() for m in found]
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2, ensure_ascii=True) + "\n"
    return "---\n".join(m.to_yaml() for m in found)
