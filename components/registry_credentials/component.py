"""The RegistryCredentials component: wires the pure credential model to Kubernetes resources."""

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from .args import NamespaceArgs, RegistryArgs, RegistryCredentialsArgs
from .dockerconfig import Checked, check_registries, encode_secret_data, render_entries
from .errors import ConfigError
from .names import check_dns_label, check_dns_subdomain, check_label_value, check_unique

TYPE_TOKEN = "registry-credentials:index:RegistryCredentials"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF_LABEL = "app.kubernetes.io/part-of"


class InvalidConfigError(ConfigError, pulumi.RunError):
    """A ConfigError that `pulumi preview` prints as one clear line, without a stack trace."""


@contextmanager
def reported_at_preview() -> Iterator[None]:
    """Re-raise ConfigError as InvalidConfigError so the engine shows just the message."""
    try:
        yield
    except InvalidConfigError:
        raise
    except ConfigError as err:
        raise InvalidConfigError(str(err)) from None


class RegistryCredentials(pulumi.ComponentResource):
    """Private-registry pull credentials for a Kubernetes cluster, from one set of registry credentials."""

    secret_names: pulumi.Output[Mapping[str, str]]
    """Namespace -> name of the pull Secret in it."""
    image_pull_secrets: pulumi.Output[Mapping[str, Sequence[Mapping[str, str]]]]
    """Namespace -> `[{name: ...}]`, ready for a pod spec's imagePullSecrets."""
    dockerconfigjson: pulumi.Output[str]
    """The rendered `.dockerconfigjson` (secret)."""

    def __init__(
        self, name: str, args: RegistryCredentialsArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        # Everything is checked before super().__init__ so a bad configuration registers nothing at all.
        with reported_at_preview():
            checked = _check_registries(args.get("registries"))
            namespaces = _check_namespaces(args.get("namespaces"))
            secret_name = check_dns_subdomain("secret_name", args.get("secret_name", name))
            labels = {
                MANAGED_BY_LABEL: "pulumi",
                PART_OF_LABEL: "registry-credentials",
                INSTANCE_LABEL: check_label_value("component name", name),
            }
        super().__init__(TYPE_TOKEN, name, None, opts)
        for warning in checked.warnings:
            pulumi.log.warn(warning, resource=self)

        passwords = [pulumi.Output.secret(r["password"]) for r in args["registries"]]
        self.dockerconfigjson = pulumi.Output.secret(
            pulumi.Output.all(*passwords).apply(lambda values: render_entries(checked.entries, values))
        )
        # Children get the component's depends_on too, so a namespace created in the same stack comes first.
        child_opts = pulumi.ResourceOptions(parent=self, depends_on=(opts.depends_on if opts else None))
        data = self.dockerconfigjson.apply(lambda text: {".dockerconfigjson": encode_secret_data(text)})
        secrets: Dict[str, k8s.core.v1.Secret] = {}
        for namespace in namespaces:
            ns = namespace["name"]
            secrets[ns] = k8s.core.v1.Secret(
                f"{name}:{ns}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=ns, labels=labels),
                type="kubernetes.io/dockerconfigjson",
                data=data,
                opts=child_opts,
            )

        self.secret_names = pulumi.Output.all(**{ns: s.metadata.name for ns, s in secrets.items()})
        self.image_pull_secrets = self.secret_names.apply(
            lambda names: {ns: [{"name": secret}] for ns, secret in names.items()}
        )
        self.register_outputs(
            {
                "secret_names": self.secret_names,
                "image_pull_secrets": self.image_pull_secrets,
                "dockerconfigjson": self.dockerconfigjson,
            }
        )


def _check_registries(registries: Any) -> Checked:
    if isinstance(registries, pulumi.Output):
        raise ConfigError("registries: must be a plain list (it decides which keys exist); pass passwords as Outputs")
    checked = check_registries(registries or [], passwords_known=False)
    for entry in checked.entries:
        password = registries[entry.index].get("password")
        if password is None or isinstance(password, str) and not password:
            raise ConfigError(f"{entry.label()}.password: must not be empty; set it as a secret")
    return checked


def _check_namespaces(namespaces: Any) -> List[NamespaceArgs]:
    if isinstance(namespaces, pulumi.Output) or isinstance(namespaces, (str, bytes)):
        raise ConfigError("namespaces: must be a plain list of {name: ...} entries")
    result = []
    for index, namespace in enumerate(namespaces or []):
        if not isinstance(namespace, Mapping):
            raise ConfigError(f"namespaces[{index}]: expected a mapping like {{name: apps}}")
        check_dns_label(f"namespaces[{index}].name", namespace.get("name"))
        result.append(namespace)
    check_unique("namespaces", [ns["name"] for ns in result])
    return result


__all__ = ["InvalidConfigError", "RegistryCredentials", "RegistryCredentialsArgs", "RegistryArgs", "NamespaceArgs", "TYPE_TOKEN"]
