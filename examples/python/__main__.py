"""A cluster stack as a platform team writes one: two namespaces, two apps, and the private-registry credentials
that let the apps pull, from RegistryCredentials composed in. The apps consume its outputs; the stack exports them.
"""

from typing import Any, Dict, Optional

import pulumi
import pulumi_kubernetes as k8s

from registry_credentials import RegistryCredentials

config = pulumi.Config()
registry = config.require("harborServer")

credentials = RegistryCredentials(
    "harbor",
    {
        "registries": [
            {"server": registry, "username": config.require("harborUsername"),
             "password": config.require_secret("harborPassword")},
        ],
        "namespaces": [
            # Method 3: the `default` ServiceAccount lists the Secret, so the storefront's pods name nothing.
            {"name": "storefront", "create": True},
            # Method 2: only pods running as `payments-api` get the Secret; `default` is left alone.
            {"name": "payments", "create": True, "default_service_account": False,
             "service_accounts": ["payments-api"]},
        ],
        "secret_name": "harbor-pull",
    },
)
# Preview warns about any app below, in those namespaces, whose image no configured registry covers.
pulumi.runtime.register_resource_transform(credentials.image_check_transform())
# The apps come after the component: their namespaces, Secrets and ServiceAccounts exist before their pods do.
after_credentials = pulumi.ResourceOptions(depends_on=[credentials])


def app(name: str, namespace: str, image: str,
        service_account: Optional[pulumi.Input[str]] = None) -> k8s.apps.v1.Deployment:
    """A one-replica Deployment of a private image, running as `service_account` (else the namespace's default)."""
    labels = {"app": name}
    pod: Dict[str, Any] = {"containers": [{"name": name, "image": image}]}
    if service_account is not None:
        pod["serviceAccountName"] = service_account
    return k8s.apps.v1.Deployment(
        name,
        metadata={"name": name, "namespace": namespace, "labels": labels},
        spec={
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": pod,
            },
        },
        opts=after_credentials,
    )


storefront = app("storefront", "storefront", f"{registry}/shop/storefront:1.4")
# The app runs as the ServiceAccount the component reports for its namespace: the one that carries the Secret.
payments = app("payments-api", "payments", f"{registry}/shop/payments-api:2.0",
               credentials.service_accounts.apply(lambda accounts: accounts["payments"][0]))

pulumi.export("pullSecrets", credentials.secret_names)
pulumi.export("imagePullSecrets", credentials.image_pull_secrets)  # for other stacks' pod specs (StackReference)
pulumi.export("apps", {"storefront": storefront.metadata.name, "payments-api": payments.metadata.name})
