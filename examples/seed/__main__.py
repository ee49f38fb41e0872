"""Seed scenarios: the pull Secret reaching pods through a named ServiceAccount, a namespace's default
ServiceAccount, a Pod's own imagePullSecrets, and a Deployment template filled in by the transform."""

import pulumi
import pulumi_kubernetes as k8s

from registry_credentials import RegistryCredentials
from registry_credentials.stack_config import load_args

PRIVATE_NGINX = "harbor.dev.example.com/library/nginx:1.27"

# Registries, passwords, the Secret's name and the namespaces (one per method) come from stack config.
credentials = RegistryCredentials("seed", load_args(pulumi.Config()))
after_credentials = pulumi.ResourceOptions(depends_on=[credentials])
# Preview warns about any workload below, in a managed namespace, whose image no configured key covers.
pulumi.runtime.register_resource_transform(credentials.image_check_transform())


def deployment(name: str, namespace: str, spec: dict, opts: pulumi.ResourceOptions) -> k8s.apps.v1.Deployment:
    """A one-replica Deployment of the private nginx image."""
    labels = {"app": name}
    return k8s.apps.v1.Deployment(
        name,
        metadata={"name": name, "namespace": namespace},
        spec={
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": PRIVATE_NGINX}], **spec},
            },
        },
        opts=opts,
    )


# Method 2: nginx runs as service1, whose imagePullSecrets list docker-reader-secret.
deployment("nginx", "basic", {"serviceAccountName": "service1"}, after_credentials)

# Method 3: no serviceAccountName, so the pod gets the patched default ServiceAccount's pull secrets.
deployment("hello", "defaults", {}, after_credentials)

# Method 4, by hand: Pod foo names the Secret from the component's output.
k8s.core.v1.Pod(
    "foo",
    metadata={"name": "foo", "namespace": "awesomeapps"},
    spec={
        "containers": [{"name": "foo", "image": PRIVATE_NGINX}],
        "imagePullSecrets": credentials.image_pull_secrets.apply(lambda refs: refs["awesomeapps"]),
    },
    opts=after_credentials,
)

# Method 4, by transform: the Deployment declares no pull secret; the transform adds it to its template.
deployment(
    "web",
    "awesomeapps",
    {},
    pulumi.ResourceOptions.merge(
        after_credentials, pulumi.ResourceOptions(transforms=[credentials.pull_secret_transform()])
    ),
)

# A public tool from a registry we hold no credentials for: preview warns that it is pulled anonymously.
k8s.batch.v1.CronJob(
    "report",
    metadata={"name": "report", "namespace": "defaults"},
    spec={
        "schedule": "0 6 * * *",
        "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure",
            "containers": [{"name": "report", "image": "ghcr.io/example/report:2.1"}],
        }}}},
    },
    opts=after_credentials,
)

pulumi.export("imagePullSecrets", credentials.image_pull_secrets)
pulumi.export("serviceAccounts", credentials.service_accounts)
