"""The RegistryCredentials component: check once, create the pull Secret, and hand the plan to each method.

Methods 2 and 3 live in service_accounts/, method 1 in node/, method 4 (transforms) in pod/.
"""

from typing import Callable, Dict, List, Mapping, Optional, Sequence

import pulumi

from .args import RegistryCredentialsArgs
from .children import Children
from .config.checker import check_args, default_secret_name
from .config.plan import Plan, StackArgs
from .credentials.dockerconfig import encode_secret_data, render_entries
from .credentials.keyring import diagnose_keys
from .credentials.registries import check_password
from .node.resources import build_node_bootstrap
from .node.settings import check_agent_source
from .pod.image_check import image_check_transform
from .pod.transform import pull_secret_transform
from .run_errors import reported_at_preview, reported_when_resolved
from .service_accounts.resources import build_service_accounts, check_live
from .verify.program import prepare as prepare_verification

TYPE_TOKEN = "registry-credentials:index:RegistryCredentials"


class RegistryCredentials(pulumi.ComponentResource):
    """Private-registry pull credentials for a Kubernetes cluster, from one set of registry credentials."""

    secret_names: pulumi.Output[Mapping[str, str]]
    """Namespace -> name of the pull Secret in it."""
    image_pull_secrets: pulumi.Output[Mapping[str, Sequence[Mapping[str, str]]]]
    """Namespace -> `[{name: ...}]`, ready for a pod spec's imagePullSecrets."""
    service_accounts: pulumi.Output[Mapping[str, Sequence[str]]]
    """Namespace -> ServiceAccounts that carry the pull Secret (created and patched)."""
    node_daemonset: pulumi.Output[str]
    """`namespace/name` of the node-bootstrap DaemonSet, or "" when node bootstrap is off."""
    dockerconfigjson: pulumi.Output[str]
    """The rendered `.dockerconfigjson` (secret)."""

    def __init__(
        self, name: str, args: RegistryCredentialsArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        # Everything is checked before super().__init__ so a bad configuration registers nothing at all.
        with reported_at_preview():
            plan = _checked(args, name)
            # Stack config cannot know the component's name: its plan leaves the default to here.
            secret_name = plan.secret_name or default_secret_name("secret_name", name)
            registries = plan.registries
            # Credentials known now are checked against their registries now; Output ones when they resolve.
            verification = prepare_verification(registries.entries, registries.passwords, plan.checks,
                                                plan.never_verified)
        super().__init__(TYPE_TOKEN, name, None, opts)
        children = Children(self, name, secret_name, opts)
        for warning in plan.warnings:
            children.warn(warning)
        self._keys = [entry.key for entry in registries.entries]
        for problem in diagnose_keys(self._keys):
            children.warn(f"registry key {problem.key!r}: {problem.message}")
        verification.report(self)
        self.dockerconfigjson = pulumi.Output.secret(_rendered(plan, verification.gate, self))
        data = self.dockerconfigjson.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})

        # Read and check the live ServiceAccounts first, and change nothing until every check has passed.
        live = {namespace.name: check_live(children, namespace) for namespace in plan.namespaces}
        children.hold_until([check for checks in live.values() for check in checks.values()])
        secrets: Dict[str, pulumi.Resource] = {}
        accounts: Dict[str, List[str]] = {}
        for namespace in plan.namespaces:
            created = children.namespace(namespace.name) if namespace.create else None
            secrets[namespace.name] = children.secret(namespace.name, data, [created])
            accounts[namespace.name] = build_service_accounts(children, namespace, secrets[namespace.name],
                                                              live[namespace.name])
        daemonset = ""
        node = plan.node_enabled
        if node:
            secrets[node.namespace] = build_node_bootstrap(children, node, data, self.dockerconfigjson)
            daemonset = f"{node.namespace}/{node.name}"

        # Output.all() of no keyword arguments is a list, not a dict, so a node-only setup needs the empty map.
        names = {ns: s.metadata.name for ns, s in secrets.items()}  # type: ignore[attr-defined]
        self.secret_names = pulumi.Output.all(**names) if names else pulumi.Output.from_input({})
        self.image_pull_secrets = self.secret_names.apply(
            lambda names: {ns: [{"name": secret}] for ns, secret in names.items()}
        )
        self.service_accounts = pulumi.Output.from_input(accounts)
        self.node_daemonset = pulumi.Output.from_input(daemonset)
        self._managed = {ns: secret_name for ns in secrets}
        self.register_outputs(
            {
                "secret_names": self.secret_names,
                "image_pull_secrets": self.image_pull_secrets,
                "service_accounts": self.service_accounts,
                "node_daemonset": self.node_daemonset,
                "dockerconfigjson": self.dockerconfigjson,
            }
        )

    def pull_secret_transform(self, default_namespace: str = "default") -> pulumi.ResourceTransform:
        """A transform adding this component's Secret to every Pod and pod template in its namespaces (method 4)."""
        return pull_secret_transform(self._managed, default_namespace=default_namespace)

    def image_check_transform(self, default_namespace: str = "default") -> pulumi.ResourceTransform:
        """A read-only transform that warns at preview when a workload in our namespaces uses an image no key covers."""
        return image_check_transform(
            self._keys, set(self._managed), lambda message: pulumi.log.warn(message, resource=self), default_namespace
        )


def _checked(args: RegistryCredentialsArgs, name: str) -> Plan:
    """The plan: the one stack config was checked into (unless the args changed since), else the args checked now."""
    if isinstance(args, StackArgs):
        plan = args.checked_plan()
        if plan is not None:
            return plan
    return check_args(args, component=name)


def _rendered(plan: Plan, gate: Callable[[List[pulumi.Output], pulumi.Resource], List[pulumi.Output]],
              resource: pulumi.Resource) -> pulumi.Output:
    """The `.dockerconfigjson`: rendered already when every password was known, else once the Outputs resolve."""
    registries = plan.registries
    if registries.rendered is not None:
        return pulumi.Output.from_input(registries.rendered)
    passwords = gate([pulumi.Output.secret(p) for p in registries.passwords], resource)
    fields = [None if isinstance(p, str) else f"{e.label()}.password"
              for e, p in zip(registries.entries, registries.passwords)]

    def render(values: List[str]) -> str:
        # The passwords that were Outputs are checked now that they are known; the others were checked already.
        # A problem is the engine's one-line error, as at preview, never a traceback.
        with reported_when_resolved():
            known = [value if where is None else check_password(where, value) for where, value in zip(fields, values)]
            text = render_entries(registries.entries, known)
            if plan.node_enabled:
                check_agent_source("registries", len(registries.entries), text)
        return text

    return pulumi.Output.all(*passwords).apply(render)
