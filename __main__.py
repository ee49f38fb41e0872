"""Stack program: read this stack's config, build the component, export what consumers need."""

import pulumi

from registry_credentials import RegistryCredentials
from registry_credentials.stack_config import load_args

credentials = RegistryCredentials("registry-credentials", load_args(pulumi.Config()))

pulumi.export("secretNames", credentials.secret_names)
pulumi.export("imagePullSecrets", credentials.image_pull_secrets)
pulumi.export("serviceAccounts", credentials.service_accounts)
pulumi.export("nodeDaemonset", credentials.node_daemonset)
pulumi.export("dockerconfigjson", credentials.dockerconfigjson)
