"""The RegistryCredentials component: check once, create the pull Secret, and hand the plan to each method.

Methods 2 and 3 live in service_accounts/, method 1 in node/, method 4 (transforms) in pod/.
"""

import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pulumi
import pulumi_random as random

from .args import RegistryCredentialsArgs
from .children import Children
from .config.checker import check_args, default_secret_name
from .config.plan import Plan, StackArgs
from .credentials.dockerconfig import Entry, encode_secret_data, render_entries
from .credentials.keyring import diagnose_keys
from .credentials.registries import Registries, check_password
from .credentials.rotation import (
    EXPIRES_ANNOTATION,
    UNTIL_ANNOTATION,
    Previous,
    earliest,
    lapsed_warning,
    past_until_problem,
    previous_name,
    same_credential_problem,
)
from .node.resources import build_node_bootstrap
from .node.settings import check_agent_source
from .pod.image_check import image_check_transform
from .pod.transform import pull_secret_transform
from .run_errors import ResolvedConfigError, reported_at_preview, reported_when_resolved
from .selected_namespaces.resources import build_selected, check_apis
from .service_accounts.resources import build_service_accounts, check_live
from .verify.program import prepare as prepare_verification
from .verify.program import watch_outgoing

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
                                                plan.never_verified, registries.outgoing())
        super().__init__(TYPE_TOKEN, name, None, opts)
        children = Children(self, name, secret_name, opts)
        # While a window is live every ServiceAccount and pod we touch lists `<secretName>-previous` second.
        outgoing = previous_name(secret_name)
        children.pull_secrets = (secret_name, outgoing) if registries.rotating else (secret_name,)
        children.retired_pull_secrets = () if registries.rotating else (outgoing,)
        for warning in plan.warnings:
            children.warn(warning)
        self._keys = [entry.key for entry in registries.entries]
        for problem in diagnose_keys(self._keys):
            children.warn(f"registry key {problem.key!r}: {problem.message}")
        verification.report(self)
        watch_outgoing(registries.outgoing(), plan.checks, self)
        # Output passwords wait for their credentials check (once), and every Secret built from them waits too.
        gated = (verification.gate([pulumi.Output.secret(p) for p in registries.passwords], self)
                 if registries.rendered is None else list(registries.passwords))
        self.dockerconfigjson = pulumi.Output.secret(_rendered(registries, gated, plan.node_enabled))
        data = self.dockerconfigjson.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})
        expires = earliest([entry.expires for entry in registries.entries])
        annotations = {EXPIRES_ANNOTATION: expires.isoformat()} if expires else None

        # Read and check the live ServiceAccounts and the rotation windows first, and change nothing until every
        # check has passed.
        live = {namespace.name: check_live(children, namespace) for namespace in plan.namespaces}
        windows = _windows(children, registries, outgoing)
        apis = [check_apis(children, plan.selected)] if plan.selected else []
        children.hold_until([*(check for checks in live.values() for check in checks.values()), *windows, *apis])
        previous_data = _previous_data(registries, gated) if registries.rotating else None
        until = earliest([p.until for p in registries.previous if p is not None and p.live])
        secrets: Dict[str, pulumi.Resource] = {}
        accounts: Dict[str, List[str]] = {}
        for namespace in plan.namespaces:
            created = children.namespace(namespace.name) if namespace.create else None
            if previous_data is None:
                secrets[namespace.name] = children.secret(namespace.name, data, [created], annotations)
                accounts[namespace.name] = build_service_accounts(children, namespace, secrets[namespace.name],
                                                                  live[namespace.name])
                continue
            # The outgoing credentials' Secret first, then the ServiceAccounts that list it second, then ours: a
            # Secret replaced with a fixed name is deleted before it is re-created (pulumi-kubernetes Diff), and
            # meanwhile pods pull with the `-previous` one, which the lists already name.
            previous = children.secret(namespace.name, previous_data, [created],
                                       {UNTIL_ANNOTATION: until.isoformat()} if until else None, previous=True)
            listers: List[pulumi.Resource] = []
            accounts[namespace.name] = build_service_accounts(children, namespace, previous, live[namespace.name],
                                                              listers)
            secrets[namespace.name] = children.secret(namespace.name, data, [created, previous, *listers],
                                                      annotations)
        daemonset = ""
        node = plan.node_enabled
        if node:
            node_text = _node_text(registries, gated) if registries.rotating else self.dockerconfigjson
            node_data = node_text.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})
            secrets[node.namespace] = build_node_bootstrap(children, node, node_data, node_text, annotations)
            daemonset = f"{node.namespace}/{node.name}"
        if plan.selected:
            # Namespaces selected by label get the Secret from the engine, copied from this source.
            secrets[plan.selected.source_namespace] = build_selected(children, plan.selected, list(secrets), data)

        # Output.all() of no keyword arguments is a list, not a dict, so a node-only setup needs the empty map.
        names = {ns: s.metadata.name for ns, s in secrets.items()}  # type: ignore[attr-defined]
        self.secret_names = pulumi.Output.all(**names) if names else pulumi.Output.from_input({})
        self._managed = {ns: (children.pull_secrets if ns in accounts else (secret_name,)) for ns in secrets}
        managed = dict(self._managed)
        self.image_pull_secrets = self.secret_names.apply(
            lambda names: {ns: [{"name": secret} for secret in managed[ns]] for ns in names}
        )
        self.service_accounts = pulumi.Output.from_input(accounts)
        self.node_daemonset = pulumi.Output.from_input(daemonset)
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


def _windows(children: Children, registries: Registries, outgoing: str) -> List[pulumi.Output]:
    """Record each rotation window, and check the ones whose `until` has passed: Outputs that fail the run.

    Whether a past `until` is a window that has ended (warn, drop the credential) or a date that was already past
    when the window was first deployed (an error: there would be no overlap) is a question about earlier runs, which
    a program can only ask its state. So each window has a record (a RandomId, state only, nothing in the cluster)
    whose keeper is the day it was first deployed, frozen by ignore_changes: its output is that day on every later
    run, and today on the first. The name carries the window's registry key and `until`, so a new window starts a
    new record.
    """
    today = registries.today or datetime.date.today()
    checks = []
    for position, entry in enumerate(registries.entries):
        previous = registries.previous_of(position)
        if previous is None:
            continue
        record = random.RandomId(
            f"{children.name}:previous:{entry.key}@{previous.until.isoformat()}",
            byte_length=4,
            keepers={"firstSeen": today.isoformat()},
            opts=children.opts(ignore_changes=["keepers"]),
        )
        if not previous.live:
            checks.append(record.keepers.apply(
                lambda keepers, entry=entry, previous=previous: _ended(children, entry, previous, keepers, today,
                                                                       outgoing)))
    return checks


def _ended(children: Children, entry: Entry, previous: Previous, keepers: Any, today: datetime.date,
           outgoing: str) -> bool:
    """A window whose `until` has passed: a warning when it was deployed before, else the error that stops the run."""
    seen = keepers.get("firstSeen") if isinstance(keepers, Mapping) else None
    first = datetime.date.fromisoformat(seen) if isinstance(seen, str) else today
    if first > previous.until:
        raise ResolvedConfigError(past_until_problem(previous, first, today, f"{entry.label()}.previous.until"))
    children.warn(lapsed_warning(entry, previous, today, outgoing))
    return True


def _previous_data(registries: Registries, gated: Sequence[Any]) -> pulumi.Output:
    """The `-previous` Secret's data: the live outgoing credentials, each under its registry's own key."""
    items = [(entry, password, password, f"{entry.label()}.previous.password")
             for entry, password in registries.outgoing()]
    text = pulumi.Output.secret(_render_known(registries.rendered_previous, items, registries, gated))
    return text.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})


def _node_text(registries: Registries, gated: Sequence[Any]) -> pulumi.Output:
    """The node file's credentials during a window: the current ones and, under a second spelling, the outgoing."""
    items = _current_items(registries, gated)
    items += [(entry, password, password, f"{entry.label()}.previous.password")
              for entry, password in registries.node_credentials()[len(registries.entries):]]
    return pulumi.Output.secret(_render_known(registries.rendered_node, items, registries, gated, node_file=True))


def _render_known(rendered: Optional[str], items: Sequence[Tuple[Entry, Any, Any, str]], registries: Registries,
                  gated: Sequence[Any], node_file: bool = False) -> pulumi.Output:
    """Rendered already when every password was known, else once the Outputs resolve.

    `items`: (entry, its password as given, the value to render, its field). A password given as an Output is
    checked once known, and an outgoing one must then differ from its registry's current credential. `gated`: the
    current passwords, held until the pending credentials checks have passed, so nothing renders before them.
    `node_file`: the text is the node agent's source, held to the agent's limits.
    """
    if rendered is not None:
        return pulumi.Output.from_input(rendered)
    usernames = [entry.username for entry in registries.entries]
    position = {entry.index: i for i, entry in enumerate(registries.entries)}

    def render(values: List[Any]) -> str:
        known, currents = values[:len(items)], values[len(items):]
        with reported_when_resolved():  # a problem is the engine's one-line error, as at preview
            for (entry, given, _, where), value in zip(items, known):
                if isinstance(given, str):
                    continue  # checked when the configuration was
                check_password(where, value)
                mine = position[entry.index]
                if (where.endswith(".previous.password")
                        and (entry.username, value) == (usernames[mine], currents[mine])):
                    raise ResolvedConfigError(same_credential_problem(f"{entry.label()}.previous"))
            text = render_entries([entry for entry, *_ in items], known)
            if node_file:
                check_agent_source("registries", len(items), text)
        return text

    everything = [*(value for _, _, value, _ in items), *gated]
    return pulumi.Output.all(*[pulumi.Output.secret(v) for v in everything]).apply(render)


def _rendered(registries: Registries, gated: Sequence[pulumi.Output], node_enabled: bool) -> pulumi.Output:
    """The `.dockerconfigjson`: rendered already when every password was known, else once the Outputs resolve
    (`gated`: the passwords, held until the pending credentials checks have passed)."""
    # During a window the node file is _node_text, held to the agent's limits there.
    return _render_known(registries.rendered, _current_items(registries, gated), registries, gated,
                         node_file=node_enabled and not registries.rotating)


def _current_items(registries: Registries, gated: Sequence[Any]) -> List[Tuple[Entry, Any, Any, str]]:
    """_render_known's items for the current credentials: each rendered from its gated password."""
    return [(entry, password, value, f"{entry.label()}.password")
            for entry, password, value in zip(registries.entries, registries.passwords, gated)]
