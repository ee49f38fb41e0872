"""Decide what to apply to a ServiceAccount's atomic `imagePullSecrets` list without losing others' entries.

`ServiceAccount.imagePullSecrets` is `+listType=atomic`: a server-side apply owns the whole list. So:
- with no foreign entry live, we apply `[ours]`; destroy relinquishes the list and the SA is as before;
- with foreign entries, keeping them means applying `foreign + [ours]` with force (their owner conflicts
  otherwise), and then destroy would delete the whole list, theirs included. Pulumi's Patch resources cannot
  restore a list on delete, so that case fails at preview unless the namespace opts in with
  `foreign_pull_secrets: keep`, which also retains the patch on destroy (our entry stays behind, theirs too).
"""

from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from ..errors import ConfigError
from .settings import ForeignPullSecrets

FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
FORCE_ANNOTATION = "pulumi.com/patchForce"
KEPT_ANNOTATION = "registry-credentials.pulumi.com/kept-pull-secrets"
OUR_ANNOTATIONS = (FIELD_MANAGER_ANNOTATION, FORCE_ANNOTATION, KEPT_ANNOTATION)
"""The annotations every patch of ours applies; another instance's copies conflict with ours (different values)."""


@dataclass(frozen=True)
class PullSecretPlan:
    """The list to apply, whether the apply must force ownership, and the foreign entries it keeps."""

    names: Tuple[str, ...]
    force: bool
    foreign: Tuple[str, ...]
    taken_over: Tuple[str, ...] = ()
    """Other field managers whose copies of our own annotations the apply takes over (a retained patch's)."""


def live_names(entries: Optional[Iterable[object]]) -> Tuple[str, ...]:
    """Names from a live `imagePullSecrets` value (dicts or Pulumi output objects), in order, de-duplicated."""
    names = []
    for entry in entries or ():
        name = field_of(entry, "name")
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return tuple(names)


def list_owners(managed_fields: Optional[Iterable[object]]) -> Tuple[str, ...]:
    """Field managers that own `imagePullSecrets`, from a live object's `metadata.managedFields`."""
    owners = []
    for entry in managed_fields or ():
        manager = field_of(entry, "manager")
        fields = field_of(entry, "fields_v1", "fieldsV1")
        if isinstance(fields, dict) and "f:imagePullSecrets" in fields and isinstance(manager, str):
            owners.append(manager)
    return tuple(owners)


def annotation_owners(managed_fields: Optional[Iterable[object]], keys: Iterable[str]) -> Tuple[str, ...]:
    """Field managers that own any of the annotation `keys`, from a live object's `metadata.managedFields`."""
    wanted = {f"f:{key}" for key in keys}
    owners = []
    for entry in managed_fields or ():
        manager = field_of(entry, "manager")
        fields = field_of(entry, "fields_v1", "fieldsV1")
        annotations = (fields.get("f:metadata") or {}).get("f:annotations") if isinstance(fields, dict) else None
        if isinstance(annotations, dict) and wanted & set(annotations) and isinstance(manager, str):
            owners.append(manager)
    return tuple(owners)


def field_of(entry: object, *names: str) -> Any:
    """The first present field of a dict or a Pulumi output object (live state arrives as either)."""
    for name in names:
        # Output objects are dicts too, but their get() of a camelCase key logs a warning to the engine (generated
        # pulumi_kubernetes outputs.py, ObjectMeta.__key_warning): two per namespace at every run. Their property
        # getters answer the snake_case names, and nothing for others.
        value = entry.get(name) if type(entry) is dict else getattr(entry, name, None)
        if value is not None:
            return value
    return None


def plan_pull_secrets(
    account: str,
    live: Sequence[str],
    ours: Union[str, Sequence[str]],
    mode: ForeignPullSecrets,
    owned_by_us: bool = False,
    kept: Sequence[str] = (),
    stale: Sequence[str] = (),
    retired: Sequence[str] = (),
) -> PullSecretPlan:
    """Plan the apply for ServiceAccount `account` (namespace/name); raise ConfigError where it is unsafe.

    `ours`: our Secret, or our Secrets in the order the kubelet is to try them (the current one, then the one being
    rotated out); `retired`: names of ours that are no longer wanted (the `-previous` Secret after its window), never
    taken for someone else's.
    `owned_by_us`: our field manager alone owns the live list, so it is what we applied last time; then only the
    entries we recorded as kept (`kept`) are foreign, and any other name is an old entry of ours (a renamed Secret).
    `stale`: other field managers that own our own annotations (`pulumi.com/patchFieldManager`...), which a patch
    retained on destroy (`keep`) leaves behind. Their values differ from ours, so the apply conflicts with them
    unless forced; forcing is safe once no foreign entry is live: the list holds nothing of anyone else's.
    """
    wanted = (ours,) if isinstance(ours, str) else tuple(ours)
    mine = set(wanted) | set(retired)
    if owned_by_us:
        foreign = tuple(name for name in live if name not in mine and name in kept)
        live = tuple(name for name in live if name in wanted or name in kept)
    else:
        foreign = tuple(name for name in live if name not in mine)
    if not foreign:
        return PullSecretPlan(names=wanted, force=bool(stale), foreign=(), taken_over=tuple(stale))
    if mode != ForeignPullSecrets.KEEP:
        raise ConfigError(
            f"ServiceAccount {account} already lists imagePullSecrets {list(foreign)} set by someone else. The list "
            "is atomic: adding ours means taking ownership of the whole list (force), and `pulumi destroy` would "
            f"then delete all of it, {list(foreign)} included. To keep them, set foreign_pull_secrets: keep for this "
            "namespace (stack config foreignPullSecrets: keep): the list is kept, ownership forced, and the patch is "
            "retained on destroy. Or leave this ServiceAccount alone and use pod-level imagePullSecrets instead."
        )
    return PullSecretPlan(names=_merged(live, foreign, wanted), force=True, foreign=foreign, taken_over=tuple(stale))


def _merged(live: Sequence[str], foreign: Sequence[str], wanted: Sequence[str]) -> Tuple[str, ...]:
    """Foreign entries in their live order, ours as one block where the first of ours was (else at the end)."""
    names: List[str] = []
    for name in live:
        if name in foreign:
            names.append(name)
        elif name in wanted and not set(wanted) & set(names):
            names.extend(wanted)
    return tuple(names) if set(wanted) <= set(names) else (*names, *wanted)


def plan_for_live(account: str, entries: Any, metadata: Any, ours: Union[str, Sequence[str]],
                  mode: ForeignPullSecrets, manager: str, retired: Sequence[str] = ()) -> PullSecretPlan:
    """The plan for a live ServiceAccount as a read returns it: its list, managedFields and our annotations.

    `manager` is our field manager: only a list it alone owns is what we applied last time.
    """
    managed = field_of(metadata, "managed_fields", "managedFields")
    owners = list_owners(managed)
    annotations = field_of(metadata, "annotations") or {}
    kept = [n for n in str(annotations.get(KEPT_ANNOTATION) or "").split(",") if n]
    stale = [m for m in annotation_owners(managed, OUR_ANNOTATIONS) if m != manager]
    return plan_pull_secrets(account, live_names(entries), ours, mode,
                             owned_by_us=bool(owners) and set(owners) == {manager}, kept=kept, stale=stale,
                             retired=retired)


def force_warning(account: str, plan: PullSecretPlan) -> str:
    """The preview warning for a plan that forces ownership: to keep foreign entries, or over a retained patch."""
    if not plan.foreign:
        return (
            f"ServiceAccount {account}: taking over the pull-secret annotations that field manager(s) "
            f"{list(plan.taken_over)} left behind (a patch retained on destroy with foreignPullSecrets: keep); the "
            "list holds no one else's entries"
        )
    return (
        f"ServiceAccount {account}: keeping imagePullSecrets {list(plan.foreign)} by taking ownership of the list "
        "(force). On destroy the list is left as it is, ours included (the patch is retained); remove our entry "
        "afterwards with kubectl edit if you need to."
    )
