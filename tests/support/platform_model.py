"""A small model of the Pulumi engine, pulumi-kubernetes and the API server, as far as this component relies on them.

Pulumi's default mocks echo inputs back and answer every read, so a program can pass under them and still fail its
first real `pulumi up`. This model answers the mock runtime's registrations and reads the way the real platform
would: two phases (preview, up) against one cluster state that persists across runs, reads that fail for missing
objects, unknown ids in preview, server-side-apply field ownership with conflicts and force, relinquish on delete,
client-side create, Secret replacement, and destroy. It is no API server: it models only the rules below, each with
the upstream file or PR it comes from (pulumi/pulumi-kubernetes@94977969d6, pulumi/pulumi engine 2026-08).

Test-only. The offline render ships only what a first preview needs (registry_credentials.cli.offline_preview,
whose mocks drive this model too); this model is the rest: state across runs, the update phase, destroy.
"""

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from pulumi.runtime import rpc

from registry_credentials.cli.offline_preview import EngineError, plain, run_on

Path = Tuple[str, ...]
Key = Tuple[str, str, str]  # (kind, namespace, name); namespace "" for cluster-scoped objects
MAX_MANAGER = 128
CONTROLLER = "kube-controller-manager"
BEFORE_FIRST_APPLY = "before-first-apply"
"""Who owns an object's fields once it is first applied, when nothing tracked them before (skipnonapplied.go)."""


class PlatformError(EngineError):
    """What the engine would print as the failure of one step (the run stops there)."""


@dataclass
class ProviderOptions:
    """The pulumi-kubernetes provider options the model honours (stack config `kubernetes:<option>`)."""

    enable_secret_mutable: bool = False
    enable_configmap_mutable: bool = False
    upsert_existing_objects: bool = False
    enable_patch_force: bool = False


@dataclass
class Obj:
    """One live object: leaf fields the component touches, and which field managers own each."""

    kind: str
    namespace: str
    name: str
    fields: Dict[Path, Any] = field(default_factory=dict)
    owners: Dict[Path, Set[str]] = field(default_factory=dict)
    operations: Dict[str, str] = field(default_factory=dict)  # manager -> "Apply" | "Update"
    api_version: str = "v1"

    def body(self, managed_fields: bool = True) -> Dict[str, Any]:
        """The object as a read returns it (camelCase), `metadata.managedFields` included."""
        metadata: Dict[str, Any] = {"name": self.name}
        if self.namespace:
            metadata["namespace"] = self.namespace
        body: Dict[str, Any] = {"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata}
        for path, value in sorted(self.fields.items()):
            target = body
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        if managed_fields:
            metadata["managedFields"] = [
                {"manager": m, "operation": op, "apiVersion": body["apiVersion"], "fieldsType": "FieldsV1",
                 "fieldsV1": _fields_v1([p for p, o in self.owners.items() if m in o])}
                for m, op in sorted(self.operations.items()) if any(m in o for o in self.owners.values())
            ]
        return body


def _fields_v1(paths: Iterable[Path]) -> Dict[str, Any]:
    # The `f:` trie the API server stores in managedFields (fieldsV1 is typed Any, so the keys reach programs as is).
    trie: Dict[str, Any] = {}
    for path in paths:
        node = trie
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return trie


def fields_of(body: Mapping[str, Any]) -> Dict[Path, Any]:
    """The fields an apply of `body` sets: labels, annotations and data per key, other top-level keys atomic."""
    out: Dict[Path, Any] = {}
    metadata = body.get("metadata") or {}
    for group in ("labels", "annotations"):
        for key, value in (metadata.get(group) or {}).items():
            out[("metadata", group, key)] = value
    for key, value in body.items():
        if key in ("apiVersion", "kind", "metadata") or value is None:
            continue
        if key == "data" and isinstance(value, dict):
            out.update({("data", k): v for k, v in value.items()})
        else:
            # ServiceAccount.imagePullSecrets is `+listType=atomic`: one field, owned as a whole.
            out[(key,)] = value
    return out


class Cluster:
    """Live objects keyed by (kind, namespace, name); persists across runs."""

    def __init__(self) -> None:
        self.objects: Dict[Key, Obj] = {}

    def get(self, key: Key) -> Optional[Obj]:
        """The live object, or None."""
        return self.objects.get(key)

    def put(self, kind: str, namespace: str, name: str, body: Optional[Mapping[str, Any]] = None,
            manager: str = "kubectl", operation: str = "Update", controller: bool = True) -> Obj:
        """Create an object as a client other than Pulumi would (fixtures: kubectl, controllers)."""
        obj = Obj(kind, namespace, name)
        for path, value in fields_of(body or {}).items():
            obj.fields[path] = value
            obj.owners[path] = {manager}
        obj.operations[manager] = operation
        self.objects[(kind, namespace, name)] = obj
        if kind == "Namespace" and controller:
            self.controller_creates_default_sa(name)
        return obj

    def update(self, key: Key, fields: Mapping[Path, Any], manager: str = "kubectl-edit") -> None:
        """An Update (kubectl edit/patch) by another client: never conflicts, takes over the fields it changes.

        On an object that tracks no field yet (the controller's `default` ServiceAccount: it sets none) the API
        server records no manager at all: tracking starts with the first apply (k8s.io/apimachinery
        pkg/util/managedfields/internal/skipnonapplied.go, Update: empty managed fields and an existing UID).
        Seen on kube-apiserver v1.37.2: `kubectl patch serviceaccount default` leaves no managedFields.
        """
        obj = self.objects[key]
        tracked = bool(obj.owners)
        for path, value in fields.items():
            if obj.fields.get(path) != value:
                obj.fields[path] = value
                if tracked:
                    obj.owners[path] = {manager}
        if tracked:
            obj.operations.setdefault(manager, "Update")

    def controller_creates_default_sa(self, namespace: str) -> None:
        """The serviceaccount controller creates `default`, ignoring AlreadyExists (kubernetes/kubernetes
        pkg/controller/serviceaccount/serviceaccounts_controller.go syncNamespace)."""
        key = ("ServiceAccount", namespace, "default")
        if key not in self.objects and ("Namespace", "", namespace) in self.objects:
            # It sets no field but the name, so the API server tracks nothing (no managedFields at all).
            self.objects[key] = Obj("ServiceAccount", namespace, "default")

    def delete(self, key: Key) -> None:
        """Delete an object; a namespace takes everything in it along."""
        self.objects.pop(key, None)
        if key[0] == "Namespace":
            for other in [k for k in self.objects if k[1] == key[2]]:
                del self.objects[other]

    def snapshot(self) -> Dict[str, Dict[str, Any]]:
        """`kind/namespace/name` -> body without managedFields, for assertions."""
        return {f"{k}/{ns}/{n}" if ns else f"{k}/{n}": o.body(managed_fields=False)
                for (k, ns, n), o in sorted(self.objects.items())}


def _check_manager(manager: str) -> None:
    # The API server rejects longer managers (FieldManagerMaxLength = 128, apimachinery
    # pkg/apis/meta/v1/validation/validation.go ValidateFieldManager).
    if len(manager) > MAX_MANAGER:
        raise PlatformError(f"metadata.managedFields.manager: Too long: may not be more than {MAX_MANAGER} bytes "
                            f"(field manager {manager[:40]}...)")


def ssa_apply(cluster: Cluster, kind: str, namespace: str, name: str, fields: Dict[Path, Any], manager: str,
              force: bool) -> Obj:
    """Server-side apply under `manager`: creates if missing, conflicts on others' fields with other values."""
    _check_manager(manager)
    if namespace and ("Namespace", "", namespace) not in cluster.objects:
        raise PlatformError(f'namespaces "{namespace}" not found')
    key = (kind, namespace, name)
    # An apply patch creates a missing object (forceAllowCreate; pulumi-kubernetes await.go Creation for Patch
    # resources and upsertExistingObjects).
    obj = cluster.objects.setdefault(key, Obj(kind, namespace, name))
    if obj.fields and not obj.owners:
        # The first apply to an object whose fields nobody tracked: they become `before-first-apply`'s, so an
        # apply of other values conflicts with it (skipnonapplied.go, Apply).
        obj.owners = {path: {BEFORE_FIRST_APPLY} for path in obj.fields}
        obj.operations[BEFORE_FIRST_APPLY] = "Update"
    conflicts = sorted(
        (sorted(obj.owners.get(p, set()) - {manager}), p) for p, v in fields.items()
        if p in obj.fields and obj.fields[p] != v and obj.owners.get(p, set()) - {manager}
    )
    if conflicts and not force:
        # handleSSAErr in pulumi-kubernetes provider/pkg/await/await.go reports the API server's 409.
        listed = "; ".join(f'conflict with "{m[0]}": .{".".join(p)}' for m, p in conflicts)
        raise PlatformError(f"Server-Side Apply field conflict for {kind} {namespace}/{name} (manager {manager}): "
                            f"{listed}. Apply with force to take ownership, or fix the other manager's value.")
    for path, value in fields.items():
        if path in obj.fields and obj.fields[path] == value:
            obj.owners.setdefault(path, set()).add(manager)  # same value: ownership is shared
        else:
            obj.fields[path] = value
            obj.owners[path] = {manager}  # new value (forced, or nobody else owned it): ours alone
    for path in [p for p, o in obj.owners.items() if manager in o and p not in fields]:
        # Fields this manager applied before and no longer does are released; unowned ones are removed.
        obj.owners[path].discard(manager)
        if not obj.owners[path]:
            del obj.owners[path]
            obj.fields.pop(path, None)
    obj.operations[manager] = "Apply"
    return obj


def relinquish(cluster: Cluster, kind: str, namespace: str, name: str, manager: str) -> None:
    """Delete of a Patch resource: apply identity only under the same manager (provider/pkg/ssa/actions.go)."""
    if (kind, namespace, name) not in cluster.objects:
        raise PlatformError(f'{kind.lower()}s "{name}" not found: cannot relinquish fields of {namespace}/{name}')
    ssa_apply(cluster, kind, namespace, name, {}, manager, force=False)


@dataclass
class StateEntry:
    """One resource in the stack's state (what `pulumi stack export` would hold)."""

    urn: str
    typ: str
    inputs: Dict[str, Any]
    outputs: Dict[str, Any]
    id: str
    manager: str = ""
    retain_on_delete: bool = False
    read: bool = False
    secret_outputs: Tuple[str, ...] = ()


@dataclass
class Step:
    """One planned or performed step: create, update, replace, delete, same, read, read-skipped."""

    op: str
    urn: str
    detail: str = ""


def has_unknowns(value: Any) -> bool:
    """True when any part of a deserialised input is unknown (preview only)."""
    return rpc.contains_unknowns(plain(value)) or _has_sentinel(plain(value))


def _has_sentinel(value: Any) -> bool:
    if value == rpc.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_sentinel(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_sentinel(v) for v in value)
    return False


def _kind_of(typ: str) -> str:
    kind = typ.rsplit(":", 1)[-1]
    return kind[: -len("Patch")] if kind.endswith("Patch") else kind


def _ident(inputs: Mapping[str, Any]) -> Tuple[str, str]:
    metadata = plain(inputs.get("metadata")) or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _replace_paths(typ: str, options: ProviderOptions) -> List[Path]:
    # pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties: metadata.name/namespace always; a Secret's
    # type/data/stringData unless enableSecretMutable; a ConfigMap's data unless enableConfigMapMutable; a
    # DaemonSet's selector. pulumi-random: every input of RandomId is ForceNew.
    if typ.startswith("random:"):
        return [("keepers",), ("byteLength",), ("prefix",)]
    paths: List[Path] = [("metadata", "name"), ("metadata", "namespace")]
    kind = typ.rsplit(":", 1)[-1]
    if kind == "Secret" and not options.enable_secret_mutable:
        paths += [("type",), ("data",), ("stringData",)]
    if kind == "ConfigMap" and not options.enable_configmap_mutable:
        paths += [("data",), ("binaryData",)]
    if kind == "DaemonSet":
        paths += [("spec", "selector")]
    return paths


def _at(value: Any, path: Path) -> Any:
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Platform:
    """Engine + provider + API server for one stack: its state, the cluster, and the steps of the last run."""

    def __init__(self, cluster: Optional[Cluster] = None, options: Optional[ProviderOptions] = None,
                 materialize_missing: bool = False) -> None:
        self.cluster = cluster or Cluster()
        self.options = options or ProviderOptions()
        # materialize_missing: start from method 3's precondition, as the offline render does (a namespace the
        # stack reads from exists, with clean ServiceAccounts). Other tests start from an explicit cluster.
        self.materialize_missing = materialize_missing
        self.state: Dict[str, StateEntry] = {}
        self.order: List[str] = []  # creation order; deletes run in reverse (dependents first)
        self.steps: List[Step] = []
        self.preview = True
        self._seen: Set[str] = set()
        self.errors: List[PlatformError] = []
        self._replaced: List[StateEntry] = []
        self._lock = threading.RLock()

    # ----- runs -----
    def begin(self, preview: bool) -> None:
        """Start a `pulumi preview` (preview=True) or the update phase of `pulumi up`."""
        self.preview = preview
        self.steps = []
        self._seen = set()
        self.errors = []

    def finish(self) -> None:
        """End of the program: resources no longer registered are deleted (planned in preview)."""
        with self._lock:
            gone = [u for u in reversed(self.order) if u not in self._seen]
            for urn in gone:
                entry = self.state[urn]
                if entry.read:
                    if not self.preview:
                        self._forget(urn)
                    continue
                self.steps.append(Step("delete", urn))
                if not self.preview:
                    self._delete(entry)
                    self._forget(urn)
            if not self.preview:
                for entry in reversed(self._replaced):
                    self._delete(entry)
                self._replaced = []
                # The serviceaccount controller has caught up by the end of the run at the latest.
                for key in list(self.cluster.objects):
                    if key[0] == "Namespace":
                        self.cluster.controller_creates_default_sa(key[2])

    def destroy(self) -> List[Step]:
        """`pulumi destroy`: delete every resource, dependents first."""
        with self._lock:
            self.steps = []
            for urn in list(reversed(self.order)):
                entry = self.state[urn]
                if not entry.read:
                    self.steps.append(Step("delete", urn))
                    self._delete(entry)
                self._forget(urn)
            return self.steps

    def changes(self) -> List[Step]:
        """Steps of the last run that change something (not `same`, not reads)."""
        return [s for s in self.steps if s.op not in ("same", "read", "read-skipped")]

    def _forget(self, urn: str) -> None:
        self.state.pop(urn, None)
        if urn in self.order:
            self.order.remove(urn)

    # ----- registrations -----
    def register(self, urn: str, typ: str, inputs: Dict[str, Any], custom: bool, retain_on_delete: bool,
                 secret_inputs: Set[str], additional_secret_outputs: Iterable[str]) -> Tuple[str, Dict[str, Any]]:
        """Answer one RegisterResource: the id ("" = unknown) and the outputs."""
        with self._lock:
            self._seen.add(urn)
            if not custom or typ.startswith("pulumi:providers:"):
                return ("" if not custom else f"{urn}-provider-id"), dict(inputs)
            old = self.state.get(urn)
            op, detail = self._diff(typ, old, inputs)
            self.steps.append(Step(op, urn, detail))
            if self.preview:
                return self._preview_outputs(typ, op, old, inputs)
            if op == "same":
                assert old is not None
                old.retain_on_delete = retain_on_delete
                return old.id, old.outputs
            if op == "replace" and old is not None:
                if _ident(old.inputs) == _ident(inputs) and typ.startswith("kubernetes:"):
                    # pulumi-kubernetes Diff sets deleteBeforeReplace for a replaced object whose fixed name and
                    # namespace stay the same (provider.go, Diff), so the old one goes first.
                    self._delete(old)
                else:
                    # Create-before-delete: the engine deletes the old object at the end of the run.
                    self._replaced.append(old)
                self._forget(urn)
                old = None
            id_, outputs, manager = self._apply(urn, typ, inputs, old)
            # The engine marks an output secret itself only when the same top-level input was secret
            # (pulumi pkg/resource/deploy/step_executor.go), or when it is listed in additionalSecretOutputs.
            secret = tuple(sorted(secret_inputs | set(additional_secret_outputs)))
            entry = StateEntry(urn, typ, dict(inputs), outputs, id_, manager, retain_on_delete, False, secret)
            self.state[urn] = entry
            if urn not in self.order:
                self.order.append(urn)
            return id_, outputs

    def _diff(self, typ: str, old: Optional[StateEntry], inputs: Dict[str, Any]) -> Tuple[str, str]:
        if old is None:
            return "create", ""
        new, before = plain(inputs), plain(old.inputs)
        if new == before and not has_unknowns(new):
            return "same", ""
        for path in _replace_paths(typ, self.options):
            value = _at(new, path)
            if value != _at(before, path) or has_unknowns(value):
                return "replace", ".".join(path)
        return "update", ""

    def _preview_outputs(self, typ: str, op: str, old: Optional[StateEntry],
                         inputs: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
        if op == "same" and old is not None:
            return old.id, old.outputs
        if op == "update" and old is not None:
            return old.id, dict(inputs)
        # Create (or replace) in preview: the provider returns the inputs with Id "" for Patch resources and for
        # inputs with unknowns (provider.go Create, preview branch); the engine gives new resources no id either.
        # Provider-computed outputs (RandomId.hex) are unknown: left out, the SDK resolves them as unknown.
        return "", dict(inputs)

    def _manager(self, urn: str, inputs: Mapping[str, Any], old: Optional[StateEntry]) -> str:
        # fieldManagerName (provider.go): the patchFieldManager annotation of the new inputs, else the manager in
        # state, else a random `pulumi-kubernetes-<hex>`.
        annotations = (plain(inputs.get("metadata")) or {}).get("annotations") or {}
        if annotations.get("pulumi.com/patchFieldManager"):
            return str(annotations["pulumi.com/patchFieldManager"])
        if old is not None and old.manager:
            return old.manager
        return "pulumi-kubernetes-" + hashlib.sha256(urn.encode()).hexdigest()[:8]

    def _force(self, inputs: Mapping[str, Any]) -> bool:
        # patchForce in await.go: the annotation, overridden by the provider option enablePatchForce (#4242).
        annotations = (plain(inputs.get("metadata")) or {}).get("annotations") or {}
        return self.options.enable_patch_force or annotations.get("pulumi.com/patchForce") == "true"

    def _apply(self, urn: str, typ: str, inputs: Dict[str, Any],
               old: Optional[StateEntry]) -> Tuple[str, Dict[str, Any], str]:
        if typ == "random:index/randomId:RandomId":
            seed = hashlib.sha256((urn + repr(plain(inputs.get("keepers")))).encode()).hexdigest()
            # The provider returns keepers as a plain map: the nested secret marker is not kept
            # (pulumi-terraform-bridge#1028); only the engine's rules above keep it secret in state.
            outputs = {**plain(inputs), "hex": seed[:16], "b64Std": "", "b64Url": "", "dec": str(int(seed[:16], 16))}
            return seed[:16], outputs, ""
        if not typ.startswith("kubernetes:"):
            return f"{urn}-id", dict(inputs), ""
        kind = _kind_of(typ)
        namespace, name = _ident(inputs)
        body = plain(inputs)
        manager = self._manager(urn, inputs, old)
        fields = fields_of(body)
        live = self.cluster.get((kind, namespace, name))
        if typ.endswith("Patch"):
            ssa_apply(self.cluster, kind, namespace, name, fields, manager, self._force(inputs))
        elif old is None and not self.options.upsert_existing_objects:
            # Client-side create since pulumi-kubernetes 4.29 (PR #4278): an existing object is an error.
            if live is not None:
                raise PlatformError(
                    f'resource {namespace + "/" if namespace else ""}{name} was not successfully created by the '
                    f'Kubernetes API server: {kind.lower()}s "{name}" already exists (pulumi-kubernetes creates '
                    "client-side: adopt it with `pulumi import`, delete it first, or set the provider option "
                    "upsertExistingObjects)")
            _check_manager(manager)
            if namespace and ("Namespace", "", namespace) not in self.cluster.objects:
                raise PlatformError(f'namespaces "{namespace}" not found')
            # The serviceaccount controller creates the namespace's `default` asynchronously: not yet (see finish).
            self.cluster.put(kind, namespace, name, body, manager=manager, operation="Update", controller=False)
        else:
            # Updates, and creates with upsertExistingObjects, are server-side applies (await.go).
            ssa_apply(self.cluster, kind, namespace, name, fields, manager, self._force(inputs))
        self.cluster.objects[(kind, namespace, name)].api_version = str(body.get("apiVersion") or "v1")
        id_ = f"{namespace}/{name}" if namespace else name
        return id_, dict(inputs), manager

    def _delete(self, entry: StateEntry) -> None:
        if entry.retain_on_delete or not entry.typ.startswith("kubernetes:"):
            # retainOnDelete: the engine never calls the provider's Delete (pulumi step_executor.go).
            return
        kind = _kind_of(entry.typ)
        namespace, name = _ident(entry.inputs)
        if entry.typ.endswith("Patch"):
            relinquish(self.cluster, kind, namespace, name, entry.manager)
        else:
            self.cluster.delete((kind, namespace, name))

    # ----- reads -----
    def read(self, urn: str, typ: str, id_: str) -> Tuple[str, Optional[Dict[str, Any]]]:
        """Answer one ReadResource: (id, outputs), outputs None when the read is skipped (all unknown)."""
        with self._lock:
            self._seen.add(urn)
            if id_ == rpc.UNKNOWN or not id_:
                # An unknown id in preview: the engine skips the read and gives it empty outputs, which the SDK
                # resolves as unknown (pulumi pkg/resource/deploy/step.go, ReadStep.Apply).
                self.steps.append(Step("read-skipped", urn))
                return "", None
            kind = _kind_of(typ)
            namespace, _, name = id_.rpartition("/")
            obj = self.cluster.get((kind, namespace, name))
            if obj is None and self.materialize_missing:
                if namespace and ("Namespace", "", namespace) not in self.cluster.objects:
                    self.cluster.put("Namespace", "", namespace)
                obj = self.cluster.get((kind, namespace, name)) or self.cluster.put(kind, namespace, name)
            if obj is None:
                # ReadStep (pulumi pkg/resource/deploy/step.go): a missing object fails the run.
                raise PlatformError(f"resource '{id_}' does not exist")
            self.steps.append(Step("read", urn))
            # Read outputs are the whole live object, managedFields included (provider.go Read strips them only
            # from the returned inputs).
            outputs = obj.body()
            if not self.preview:
                self.state[urn] = StateEntry(urn, typ, {}, outputs, id_, read=True)
                if urn not in self.order:
                    self.order.append(urn)
            return id_, outputs


run_on_platform = run_on
"""One program run (a preview, or the update phase of an up) against a Platform."""


__all__ = [
    "Cluster", "MAX_MANAGER", "Obj", "Platform", "PlatformError", "ProviderOptions", "Step",
    "fields_of", "relinquish", "run_on_platform", "ssa_apply",
]
