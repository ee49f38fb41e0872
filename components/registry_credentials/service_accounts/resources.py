"""Methods 2 and 3, resources: the ServiceAccounts that carry the pull Secret, created or patched."""

import hashlib
from typing import Any, Dict, List, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from ..checks.names import MAX_FIELD_MANAGER
from ..children import Children
from ..errors import ConfigError
from ..outputs import Later
from .pull_secrets import (
    FIELD_MANAGER_ANNOTATION,
    FORCE_ANNOTATION,
    KEPT_ANNOTATION,
    PullSecretPlan,
    force_warning,
    plan_for_live,
)
from .settings import ForeignPullSecrets, Namespace



class UnsafePatchError(pulumi.RunError):
    """Live state makes a ServiceAccount patch unsafe. Not a ValueError, so the SDK does not wrap it on the way out."""


def field_manager(name: str) -> str:
    """The server-side-apply field manager of one component instance in one stack: the same on every run."""
    manager = f"pulumi-{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
    if len(manager) <= MAX_FIELD_MANAGER:
        return manager
    # The API server caps field manager names; keep them unique when shortening (111 characters, '-', 16 hex).
    return f"{manager[:MAX_FIELD_MANAGER - 17]}-{hashlib.sha256(manager.encode()).hexdigest()[:16]}"


def check_live(children: Children, namespace: Namespace) -> Dict[str, pulumi.Output]:
    """Read the ServiceAccounts of an existing namespace and plan each patch: ServiceAccount -> plan Output.

    Registered before anything else of the component, so the component can hold every change until these
    plans (which refuse others' pull secrets) have passed. A namespace the run creates has nothing to read yet.
    """
    if namespace.create:
        return {}
    ns = namespace.name
    plans = {}
    for account in namespace.patched:
        live = k8s.core.v1.ServiceAccount.get(f"{children.name}:{ns}/{account}:live", f"{ns}/{account}",
                                              opts=children.opts())
        plans[account] = _plan_from(children, namespace, account, live)
    return plans


def build_service_accounts(children: Children, namespace: Namespace, secret: pulumi.Resource,
                           plans: Optional[Mapping[str, pulumi.Output]] = None,
                           listers: Optional[List[pulumi.Resource]] = None) -> List[str]:
    """Create and patch one namespace's ServiceAccounts (with check_live's plans); return their names.

    Each lists `children.pull_secrets` and comes after `secret`; `listers` collects the resources that list them.
    """
    ns = namespace.name
    found = listers if listers is not None else []
    for account in namespace.service_accounts:
        # We own these outright, so a plain ServiceAccount (AlreadyExists if someone else made it first).
        found.append(k8s.core.v1.ServiceAccount(
            f"{children.name}:{ns}/{account}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=account, namespace=ns, labels=children.labels),
            image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=name) for name in children.pull_secrets],
            opts=children.opts(secret),
        ))
    for account in namespace.patched:
        found.append(_patch(children, namespace, account, secret, (plans or {}).get(account)))
    return [*namespace.patched, *namespace.service_accounts]


def _patch(children: Children, namespace: Namespace, account: str, secret: pulumi.Resource,
           plan: Optional[pulumi.Output]) -> pulumi.Resource:
    ns = namespace.name
    base = f"{children.name}:{ns}/{account}"
    if plan is None:
        # A namespace created in this deployment gets its `default` ServiceAccount asynchronously, and reading a
        # missing object fails the run (pulumi pkg/resource/deploy/step.go, ReadStep). An empty apply creates it
        # if needed (an apply patch creates a missing object: pulumi-kubernetes await.go, Creation).
        # It sets no annotation, so it owns no field at all: the provider adds no label or annotation of its own
        # to a Patch resource in server-side-apply mode (provider.go Check; only `pulumi.com/autonamed` is
        # internal, metadata/annotations.go), and without `pulumi.com/patchFieldManager` its manager is the
        # short random `pulumi-kubernetes-<hex>` kept in state (fieldManagerName in provider.go). An ensure
        # that owned our patchFieldManager annotation under another manager made the main patch a 409.
        ensure = k8s.core.v1.ServiceAccountPatch(
            f"{base}:ensure",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=account, namespace=ns),
            opts=children.opts(secret),
        )
        # Read by the ensure patch's id, not by its name: a Patch resource's id is empty in preview (provider.go
        # Create, preview branch), so on the first preview the read is skipped, all its outputs unknown, instead
        # of failing on a namespace that does not exist yet. On later runs the id is known and the read runs.
        live = k8s.core.v1.ServiceAccount.get(f"{base}:live", ensure.id, opts=children.opts(ensure))
        plan = _plan_from(children, namespace, account, live)
    mode = namespace.foreign_pull_secrets
    return k8s.core.v1.ServiceAccountPatch(
        base,
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(
            name=account,
            namespace=ns,
            annotations={
                FIELD_MANAGER_ANNOTATION: field_manager(children.name),
                FORCE_ANNOTATION: plan.apply(lambda p: "true" if p.force else "false"),
                # Which entries were someone else's when we took the list over: on later runs our own old
                # entries (a renamed Secret) can then be told apart from theirs.
                KEPT_ANNOTATION: plan.apply(lambda p: ",".join(p.foreign)),
            },
        ),
        image_pull_secrets=plan.apply(lambda p: [{"name": n} for n in p.names]),
        # Keeping foreign entries means owning their list; relinquishing it on destroy would delete them.
        opts=children.opts(secret, retain_on_delete=(mode == ForeignPullSecrets.KEEP)),
    )


def _plan_from(children: Children, namespace: Namespace, account: str,
               live: k8s.core.v1.ServiceAccount) -> pulumi.Output:
    """The patch's plan, once the read of the live ServiceAccount is known: one Output, built from the read's two.

    In preview the SDK resolves an output the engine did not return as unknown (pulumi `runtime/rpc.py`,
    resolve_properties), so a clean ServiceAccount would leave its list unknown and the whole patch with it. A read
    that ran always returns `metadata`, so the list counts as empty when metadata is known; a skipped read (unknown
    id) returns nothing, and then the plan stays unknown. Built by hand rather than with Output.all and apply, which
    cost five more tasks per ServiceAccount for the same value.
    """
    entries, metadata = live.image_pull_secrets, live.metadata
    mode = namespace.foreign_pull_secrets

    async def value() -> Optional[PullSecretPlan]:
        if not await metadata.is_known():
            return None
        listed = await entries.future() if await entries.is_known() else []
        return _plan(children, f"{namespace.name}/{account}", listed, await metadata.future(), mode)

    async def resources() -> Any:
        return (await entries.resources()) | (await metadata.resources())

    async def secret() -> bool:
        return bool(await entries.is_secret() or await metadata.is_secret())

    return pulumi.Output(Later(resources), Later(value), Later(metadata.is_known), Later(secret))


def _plan(children: Children, account: str, entries: Any, metadata: Any, mode: ForeignPullSecrets) -> PullSecretPlan:
    try:
        plan = plan_for_live(account, entries, metadata, children.pull_secrets, mode, field_manager(children.name),
                             retired=children.retired_pull_secrets)
    except ConfigError as err:
        raise UnsafePatchError(str(err)) from None
    if plan.force:
        children.warn(force_warning(account, plan))
    return plan
