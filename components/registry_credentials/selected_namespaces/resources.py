"""Namespaces selected by label, resources: the cluster's APIs checked, the source Secret, the engine's objects that
copy it (job a), then the admission policy and binding that reference it (job b)."""

import json
from typing import Any, Dict, Iterable, List

import pulumi
import pulumi_kubernetes as k8s

from ..children import Children
from .admission import admission_objects
from .copies import RBAC, copy_objects
from .probe import INVOKE, invoke_args, missing, read_answer, unchecked
from .selection import select
from .settings import SelectedNamespaces


class UnservedApiError(pulumi.RunError):
    """The cluster does not serve an API the selection needs. Not a ValueError, so the SDK does not wrap it on the
    way out: the engine prints the message alone."""

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        many = f"{len(problems)} APIs are missing from this cluster:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(problems[0] if len(problems) == 1 else many)


def check_apis(children: Children, settings: SelectedNamespaces) -> pulumi.Output:
    """Ask the cluster which APIs it serves: an Output that fails the run, naming each missing API, if one is.

    An invoke after a resource that is not created yet (the component's depends_on) is unknown in preview
    (`invoke_output`), and the check then runs at `up`, before anything of ours is created.
    """
    answer = pulumi.runtime.invoke_output(INVOKE, {"jsonOpts": json.dumps(invoke_args(settings))},
                                          opts=children.invoke_opts())

    def judge(value: Any) -> str:
        served = read_answer(value)
        if not served.discovered:
            children.warn(unchecked(settings))
        problems = missing(settings, served)
        if problems:
            raise UnservedApiError(*problems)
        return served.version

    return answer.apply(judge)


def build_selected(children: Children, settings: SelectedNamespaces, served: Iterable[str],
                   data: pulumi.Output) -> k8s.core.v1.Secret:
    """Register the selection (`served`: the namespaces the component serves itself); return the source Secret."""
    identity = f"{pulumi.get_project()}/{pulumi.get_stack()}/{children.name}"
    selection = select(settings, children.secret_name, identity, served)
    source = settings.source_namespace
    namespace = children.namespace(source) if settings.create_source_namespace else None
    secret = children.secret(source, data, [namespace])
    # Each object after the ones before it: the engine's access before its policy, the copy before the reference.
    after: List[pulumi.Resource] = [secret]
    for manifest in [*copy_objects(selection, children.labels), *admission_objects(selection, children.labels)]:
        after.append(_register(children, manifest, after))
    return secret


def _register(children: Children, manifest: Dict[str, Any], after: List[pulumi.Resource]) -> pulumi.Resource:
    api_version, kind, meta = manifest["apiVersion"], manifest["kind"], manifest["metadata"]
    namespace = meta.get("namespace")
    child = f"{children.name}:{f'{namespace}/' if namespace else ''}{kind}/{meta['name']}"
    metadata = k8s.meta.v1.ObjectMetaArgs(name=meta["name"], namespace=namespace,
                                          labels=children.after_checks(meta["labels"]))
    opts = children.opts(*after)
    if (api_version, kind) == ("v1", "ServiceAccount"):
        return k8s.core.v1.ServiceAccount(child, metadata=metadata, opts=opts)
    if (api_version, kind) == (RBAC, "ClusterRole"):
        return k8s.rbac.v1.ClusterRole(child, metadata=metadata, rules=manifest["rules"], opts=opts)
    if (api_version, kind) == (RBAC, "Role"):
        return k8s.rbac.v1.Role(child, metadata=metadata, rules=manifest["rules"], opts=opts)
    if (api_version, kind) == (RBAC, "RoleBinding"):
        return k8s.rbac.v1.RoleBinding(child, metadata=metadata, role_ref=manifest["roleRef"],
                                       subjects=manifest["subjects"], opts=opts)
    # The admission API and the engines' kinds: the same type token as a typed class would register
    # (`kubernetes:<apiVersion>:<Kind>`), on every pulumi-kubernetes the project supports.
    return k8s.apiextensions.CustomResource(child, api_version=api_version, kind=kind, metadata=metadata,
                                            spec=manifest["spec"], opts=opts)
