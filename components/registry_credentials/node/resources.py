"""Method 1, resources: the agent's namespace, its own copy of the pull Secret, the script, and the DaemonSet."""

import hashlib
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..children import Children
from .daemonset import (
    AGENT_ANNOTATION,
    PRIVILEGED_LABELS,
    ROLLOUT_ANNOTATION,
    pod_spec,
    selector_labels,
    update_strategy,
)
from .script import SCRIPT_KEY, agent_digest, agent_script
from .settings import NodeBootstrap


def build_node_bootstrap(children: Children, node: NodeBootstrap, data: pulumi.Output,
                         dockerconfigjson: pulumi.Output,
                         annotations: Optional[Mapping[str, str]] = None) -> k8s.core.v1.Secret:
    """Register method 1 for `node` (enabled); return the Secret in the agent's namespace.

    `dockerconfigjson` is what the node file is to hold (during a rotation window, the outgoing credentials too).
    """
    base = f"{children.name}:{node.namespace}"
    namespace = children.namespace(node.namespace, PRIVILEGED_LABELS) if node.create_namespace else None
    # The pod pulls its own image with this Secret too, so the image can live in the private registry.
    secret = children.secret(node.namespace, data, [namespace], annotations)
    script = k8s.core.v1.ConfigMap(
        f"{base}/{node.name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=node.name, namespace=node.namespace, labels=children.labels),
        data=children.after_checks({SCRIPT_KEY: agent_script()}),
        opts=children.opts(namespace),
    )
    # A new credentials digest replaces the RandomId, whose random hex then rolls the pods. The keeper is
    # secret (derived from the credentials) and stays in state; only the random token reaches the spec.
    digest = children.after_checks(dockerconfigjson).apply(
        lambda text: hashlib.sha256(text.encode("utf-8")).hexdigest())
    # The keeper map only contains a secret; the engine keeps an output secret by itself only when the same
    # top-level input was (pulumi step_executor.go), so name it, lest the digest land in state in plaintext.
    rollout = random.RandomId(
        f"{base}/rollout", byte_length=8, keepers={"credentials": digest},
        opts=children.opts(additional_secret_outputs=["keepers"]),
    )
    selector = selector_labels(node, children.instance)
    k8s.apps.v1.DaemonSet(
        f"{base}/{node.name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=node.name, namespace=node.namespace, labels=children.labels),
        spec={
            "selector": {"matchLabels": selector},
            "updateStrategy": update_strategy(node),
            "template": {
                "metadata": {
                    "labels": {**children.labels, **selector},
                    "annotations": {
                        ROLLOUT_ANNOTATION: pulumi.Output.unsecret(rollout.hex),
                        AGENT_ANNOTATION: agent_digest(),
                    },
                },
                "spec": pod_spec(node, children.secret_name),
            },
        },
        opts=children.opts(secret, script),
    )
    return secret
