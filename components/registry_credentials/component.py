"""The RegistryCredentials component: wires the pure credential model to Kubernetes resources."""

import asyncio
import hashlib
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .errors import ConfigError
from .credentials.dockerconfig import encode_secret_data, render_entries
from .credentials.keyring import diagnose_keys
from .checks.names import check_dns_subdomain, label_value
from .node.settings import (
    AGENT_ANNOTATION,
    PRIVILEGED_LABELS,
    ROLLOUT_ANNOTATION,
    NodeBootstrap,
    agent_digest,
    agent_script,
    check_node_bootstrap,
    pod_spec,
    selector_labels,
    update_strategy,
)
from .service_accounts.pull_secrets import (
    KEEP,
    PullSecretPlan,
    field_of,
    keep_warning,
    list_owners,
    live_names,
    plan_pull_secrets,
)
from .args import NamespaceArgs, RegistryCredentialsArgs
from .pod.image_check import image_check_transform
from .pod.transform import pull_secret_transform
from .config.checker import check_args_keys, check_namespace_args, check_registry_args
from .verify.program import prepare as prepare_verification

TYPE_TOKEN = "registry-credentials:index:RegistryCredentials"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF_LABEL = "app.kubernetes.io/part-of"
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
FORCE_ANNOTATION = "pulumi.com/patchForce"
KEPT_ANNOTATION = "registry-credentials.pulumi.com/kept-pull-secrets"


class InvalidConfigError(ConfigError, pulumi.RunError):
    """A ConfigError that `pulumi preview` prints as one clear line, without a stack trace."""


class UnsafePatchError(pulumi.RunError):
    """Live state makes a ServiceAccount patch unsafe. Not a ValueError, so the SDK does not wrap it on the way out."""


@contextmanager
def reported_at_preview() -> Iterator[None]:
    """Re-raise ConfigError as InvalidConfigError so the engine shows just the message."""
    try:
        yield
    except InvalidConfigError:
        raise
    except ConfigError as err:
        raise InvalidConfigError(str(err)) from None


def field_manager(name: str) -> str:
    """The server-side-apply field manager of one component instance in one stack: the same on every run."""
    manager = f"pulumi-{pulumi.get_project()}-{pulumi.get_stack()}-{name}"
    if len(manager) <= 128:
        return manager
    # The API server caps field manager names at 128 characters; keep them unique when shortening.
    return f"{manager[:111]}-{hashlib.sha256(manager.encode()).hexdigest()[:16]}"


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
            check_args_keys(args)
            checked = check_registry_args(args.get("registries"))
            # The verify settings checked, and plain passwords checked against their registries, before registration.
            verification = prepare_verification(args, checked)
            namespaces = check_namespace_args(args.get("namespaces"))
            node = check_node_bootstrap(args.get("node_bootstrap"))
            if node and node.namespace in {ns["name"] for ns in namespaces}:
                raise ConfigError(
                    f"node_bootstrap.namespace: {node.namespace!r} is also in namespaces; the node agent runs a "
                    "privileged workload, so give it a namespace of its own"
                )
            if "secret_name" in args:
                secret_name = check_dns_subdomain("secret_name", args["secret_name"])
            else:
                secret_name = _default_secret_name(name)
            labels = {
                MANAGED_BY_LABEL: "pulumi",
                PART_OF_LABEL: "registry-credentials",
                INSTANCE_LABEL: label_value(name),
            }
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name = name
        self._secret_name = secret_name
        self._labels = labels
        # Children get the component's depends_on too, so whatever the caller orders us after comes first.
        self._depends_on = opts.depends_on if opts else None
        for warning in (*checked.warnings, *(node.warnings if node else ())):
            pulumi.log.warn(warning, resource=self)
        self._keys = [entry.key for entry in checked.entries]
        for problem in diagnose_keys(self._keys):
            pulumi.log.warn(f"registry key {problem.key!r}: {problem.message}", resource=self)

        verification.report(self)
        passwords = verification.gate([pulumi.Output.secret(r["password"]) for r in args["registries"]], self)
        self.dockerconfigjson = pulumi.Output.secret(
            pulumi.Output.all(*passwords).apply(lambda values: render_entries(checked.entries, values))
        )
        data = self.dockerconfigjson.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})

        secrets: Dict[str, k8s.core.v1.Secret] = {}
        accounts: Dict[str, List[str]] = {}
        for namespace in namespaces:
            ns = namespace["name"]
            created = self._namespace(namespace)
            secrets[ns] = self._secret(ns, data, created)
            accounts[ns] = self._service_accounts(namespace, secrets[ns])
        daemonset = ""
        if node:
            secrets[node.namespace] = self._node_bootstrap(node, data)
            daemonset = f"{node.namespace}/{node.name}"

        # Output.all() of no keyword arguments is a list, not a dict, so a node-only setup needs the empty map.
        names = {ns: s.metadata.name for ns, s in secrets.items()}
        self.secret_names = pulumi.Output.all(**names) if names else pulumi.Output.from_input({})
        self.image_pull_secrets = self.secret_names.apply(
            lambda names: {ns: [{"name": secret}] for ns, secret in names.items()}
        )
        self.service_accounts = pulumi.Output.from_input(accounts)
        self.node_daemonset = pulumi.Output.from_input(daemonset)
        self._managed = {ns: self._secret_name for ns in secrets}
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

    def _opts(self, *depends_on: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
        deps = [d for d in depends_on if d is not None]
        opts = pulumi.ResourceOptions(parent=self, depends_on=deps or None, **extra)
        if self._depends_on is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=self._depends_on))
        return opts

    def _namespace(self, namespace: NamespaceArgs) -> Optional[k8s.core.v1.Namespace]:
        if not namespace.get("create"):
            return None
        ns = namespace["name"]
        return k8s.core.v1.Namespace(
            f"{self._name}:{ns}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels=self._labels),
            opts=self._opts(),
        )

    def _secret(self, ns: str, data: pulumi.Output, created: Optional[k8s.core.v1.Namespace]) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{self._name}:{ns}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=self._secret_name, namespace=ns, labels=self._labels),
            type="kubernetes.io/dockerconfigjson",
            data=data,
            opts=self._opts(created),
        )

    def _service_accounts(self, namespace: NamespaceArgs, secret: k8s.core.v1.Secret) -> List[str]:
        ns = namespace["name"]
        for account in namespace.get("service_accounts") or []:
            # We own these outright, so a plain ServiceAccount (AlreadyExists if someone else made it first).
            k8s.core.v1.ServiceAccount(
                f"{self._name}:{ns}/{account}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=account, namespace=ns, labels=self._labels),
                image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=self._secret_name)],
                opts=self._opts(secret),
            )
        patched = list(namespace.get("patch_service_accounts") or [])
        if namespace.get("default_service_account", True):
            patched.insert(0, "default")
        mode = namespace.get("foreign_pull_secrets", "fail")
        for account in patched:
            self._patch_service_account(ns, account, mode, bool(namespace.get("create")), secret)
        return [*patched, *(namespace.get("service_accounts") or [])]

    def _patch_service_account(self, ns: str, account: str, mode: str, created: bool, secret: pulumi.Resource) -> None:
        base = f"{self._name}:{ns}/{account}"
        if created:
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
                opts=self._opts(secret),
            )
            # Read by the ensure patch's id, not by its name: a Patch resource's id is empty in preview (provider.go
            # Create, preview branch), so on the first preview the read is skipped, all its outputs unknown, instead
            # of failing on a namespace that does not exist yet. On later runs the id is known and the read runs.
            live = k8s.core.v1.ServiceAccount.get(f"{base}:live", ensure.id, opts=self._opts(ensure))
        else:
            live = k8s.core.v1.ServiceAccount.get(f"{base}:live", f"{ns}/{account}", opts=self._opts())
        plan = pulumi.Output.all(_read_list(live), live.metadata).apply(
            lambda values: self._plan(f"{ns}/{account}", values[0], values[1], mode)
        )
        k8s.core.v1.ServiceAccountPatch(
            base,
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=account,
                namespace=ns,
                annotations={
                    FIELD_MANAGER_ANNOTATION: field_manager(self._name),
                    FORCE_ANNOTATION: plan.apply(lambda p: "true" if p.force else "false"),
                    # Which entries were someone else's when we took the list over: on later runs our own old
                    # entries (a renamed Secret) can then be told apart from theirs.
                    KEPT_ANNOTATION: plan.apply(lambda p: ",".join(p.foreign)),
                },
            ),
            image_pull_secrets=plan.apply(lambda p: [{"name": n} for n in p.names]),
            # Keeping foreign entries means owning their list; relinquishing it on destroy would delete them.
            opts=self._opts(secret, retain_on_delete=(mode == KEEP)),
        )

    def _node_bootstrap(self, node: NodeBootstrap, data: pulumi.Output) -> k8s.core.v1.Secret:
        """Method 1: the agent's namespace, its own copy of the Secret, the script, and the DaemonSet."""
        base = f"{self._name}:{node.namespace}"
        namespace = None
        if node.create_namespace:
            namespace = k8s.core.v1.Namespace(
                base,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=node.namespace, labels={**self._labels, **PRIVILEGED_LABELS}),
                opts=self._opts(),
            )
        # The pod pulls its own image with this Secret too, so the image can live in the private registry.
        secret = self._secret(node.namespace, data, namespace)
        script = k8s.core.v1.ConfigMap(
            f"{base}/{node.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=node.name, namespace=node.namespace, labels=self._labels),
            data={"node_agent.py": agent_script()},
            opts=self._opts(namespace),
        )
        # A new credentials digest replaces the RandomId, whose random hex then rolls the pods. The keeper is
        # secret (derived from the credentials) and stays in state; only the random token reaches the spec.
        digest = self.dockerconfigjson.apply(lambda text: hashlib.sha256(text.encode("utf-8")).hexdigest())
        # The keeper map only contains a secret; the engine keeps an output secret by itself only when the same
        # top-level input was (pulumi step_executor.go), so name it, lest the digest land in state in plaintext.
        rollout = random.RandomId(
            f"{base}/rollout", byte_length=8, keepers={"credentials": digest},
            opts=self._opts(additional_secret_outputs=["keepers"]),
        )
        selector = selector_labels(node, label_value(self._name))
        k8s.apps.v1.DaemonSet(
            f"{base}/{node.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=node.name, namespace=node.namespace, labels=self._labels),
            spec={
                "selector": {"matchLabels": selector},
                "updateStrategy": update_strategy(node),
                "template": {
                    "metadata": {
                        "labels": {**self._labels, **selector},
                        "annotations": {
                            ROLLOUT_ANNOTATION: pulumi.Output.unsecret(rollout.hex),
                            AGENT_ANNOTATION: agent_digest(),
                        },
                    },
                    "spec": pod_spec(node, self._secret_name),
                },
            },
            opts=self._opts(secret, script),
        )
        return secret

    def _plan(self, account: str, entries: Any, metadata: Any, mode: str) -> PullSecretPlan:
        owners = list_owners(field_of(metadata, "managed_fields", "managedFields"))
        annotations = field_of(metadata, "annotations") or {}
        kept = [n for n in str(annotations.get(KEPT_ANNOTATION) or "").split(",") if n]
        try:
            plan = plan_pull_secrets(
                account, live_names(entries), self._secret_name, mode,
                owned_by_us=bool(owners) and set(owners) == {field_manager(self._name)}, kept=kept,
            )
        except ConfigError as err:
            raise UnsafePatchError(str(err)) from None
        if plan.force:
            pulumi.log.warn(keep_warning(account, plan), resource=self)
        return plan


def _default_secret_name(name: str) -> str:
    """The component's name as the Secret's name, or a message that says to set secret_name."""
    try:
        return check_dns_subdomain("secret_name", name)
    except ConfigError:
        raise ConfigError(
            f"secret_name: not set, and the component name {name!r} is not a valid Kubernetes Secret name (lowercase "
            "letters, digits, '-' and '.'); set secret_name, e.g. 'registry-credentials'"
        ) from None


def _read_list(live: k8s.core.v1.ServiceAccount) -> pulumi.Output:
    """The read's imagePullSecrets, empty (not unknown) when a read that ran found none.

    In preview the SDK resolves an output the engine did not return as unknown (pulumi `runtime/rpc.py`,
    resolve_properties), so a clean ServiceAccount would make the whole patch unknown. A read that ran always returns
    `metadata`; a skipped read (unknown id) returns nothing, and then the list stays unknown.
    """
    entries = live.image_pull_secrets

    async def value() -> Any:
        return await entries.future() if await entries.is_known() else []

    async def known() -> bool:
        return bool(await entries.is_known() or await live.metadata.is_known())

    async def resources() -> Any:
        return await entries.resources()

    return pulumi.Output(resources(), asyncio.ensure_future(value()), asyncio.ensure_future(known()),
                         entries.is_secret())


__all__ = ["InvalidConfigError", "RegistryCredentials", "UnsafePatchError", "TYPE_TOKEN", "field_manager"]
