"""What every child of one RegistryCredentials shares: its parent and ordering, its labels, and the pull Secret."""

from typing import Any, Mapping, Optional, Sequence, Tuple

import pulumi
import pulumi_kubernetes as k8s

from .checks.names import label_value
from .outputs import after, without_resources

INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF_LABEL = "app.kubernetes.io/part-of"


class Children:
    """Creates the component's children: `parent=self` on each, and the component's own `depends_on` too."""

    def __init__(self, component: pulumi.ComponentResource, name: str, secret_name: str,
                 opts: Optional[pulumi.ResourceOptions]) -> None:
        self.component = component
        self.name = name
        """The component's name: every child's name starts with it."""
        self.secret_name = secret_name
        self.pull_secrets: Tuple[str, ...] = (secret_name,)
        """What every ServiceAccount and pod we touch lists, in the order the kubelet tries them: our Secret, and
        while a rotation window is live the `-previous` one after it."""
        self.retired_pull_secrets: Tuple[str, ...] = ()
        """Names of ours that are not wanted now (the `-previous` Secret once no window is live)."""
        self.instance = label_value(name)
        self.labels = {MANAGED_BY_LABEL: "pulumi", PART_OF_LABEL: "registry-credentials", INSTANCE_LABEL: self.instance}
        # Children get the component's depends_on too, so whatever the caller orders us after comes first.
        self._depends_on = opts.depends_on if opts else None
        self._gate: Optional[pulumi.Output] = None

    def hold_until(self, checks: Sequence[pulumi.Output]) -> None:
        """Register nothing that changes the cluster until `checks` resolve: if one fails, nothing is changed.

        The live-state checks (a ServiceAccount's foreign pull secrets) run on reads; without this, `pulumi up
        --skip-preview` (the Automation API's `up`) created the Secrets before a check stopped the run.
        One gate Output joins them all, once: joining every check into every guarded value made each namespace's
        Secret wait on every namespace's checks, O(n²) in namespaces (16.8 s of a 300-namespace render).
        The gate carries no resources: waiting for its value is the hold, and dependency edges from every Secret to
        every read would be n² edges in the engine's state (reads are never deleted, so no order needs them).
        """
        if not checks:
            self._gate = None
            return
        self._gate = without_resources(pulumi.Output.all(*checks).apply(lambda _: None))

    def after_checks(self, value: Any) -> Any:
        """`value`, as an Output that resolves only once every live-state check has passed."""
        if self._gate is None:
            return value
        return after(self._gate, value)

    def opts(self, *depends_on: Optional[pulumi.Resource], **extra: Any) -> pulumi.ResourceOptions:
        """Options of one child: parented to the component, after `depends_on` and the component's own."""
        deps = [d for d in depends_on if d is not None]
        opts = pulumi.ResourceOptions(parent=self.component, depends_on=deps or None, **extra)
        if self._depends_on is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=self._depends_on))
        return opts

    def invoke_opts(self) -> pulumi.InvokeOutputOptions:
        """Options of an invoke: the component's provider (through its parent), after the component's depends_on."""
        return pulumi.InvokeOutputOptions(parent=self.component, depends_on=self._depends_on)

    def warn(self, message: str) -> None:
        """A preview warning attached to the component."""
        pulumi.log.warn(message, resource=self.component)

    def namespace(self, namespace: str, labels: Mapping[str, str] = ()) -> k8s.core.v1.Namespace:
        """A namespace the component creates (child name `<name>:<namespace>`)."""
        return k8s.core.v1.Namespace(
            f"{self.name}:{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace,
                                                labels=self.after_checks({**self.labels, **dict(labels)})),
            opts=self.opts(),
        )

    def secret(self, namespace: str, data: pulumi.Output,
               after: Sequence[Optional[pulumi.Resource]] = (), annotations: Optional[Mapping[str, str]] = None,
               previous: bool = False) -> k8s.core.v1.Secret:
        """The pull Secret in one namespace (child name `<name>:<namespace>`), or with `previous` its `-previous`
        Secret of the credentials being rotated out (child name `<name>:<namespace>:previous`)."""
        return k8s.core.v1.Secret(
            f"{self.name}:{namespace}{':previous' if previous else ''}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.pull_secrets[1] if previous else self.secret_name, namespace=namespace,
                labels=self.labels, annotations=dict(annotations) if annotations else None),
            type="kubernetes.io/dockerconfigjson",
            data=self.after_checks(data),
            opts=self.opts(*after),
        )
