"""The stack program's entry: `load_args(pulumi.Config())` reads this stack's config into the component's args.

    from registry_credentials import RegistryCredentials
    from registry_credentials.stack_config import load_args

    RegistryCredentials("registry-credentials", load_args(pulumi.Config()))
"""

from typing import Iterable, Optional

import pulumi
from pulumi.runtime import config as runtime_config

from . import pulumi_internals
from .args import RegistryCredentialsArgs
from .config.plan import StackArgs
from .config.reader import read_plan
from .run_errors import reported_at_preview


class PulumiValues:
    """The running program's config (what `pulumi.Config` reads), as config.reader.ConfigValues."""

    def __init__(self, config: pulumi.Config) -> None:
        self.project = config.name
        self.stack_name = pulumi.get_stack()

    def raw(self, key: str) -> Optional[str]:
        """The value's text, or None when unset."""
        value = runtime_config.get_config(f"{self.project}:{key}")
        return None if value is None else str(value)

    def is_secret(self, key: str) -> bool:
        """True when the engine marked the key secret."""
        return runtime_config.is_config_secret(f"{self.project}:{key}")

    def keys(self) -> Iterable[str]:
        """Every set key, every namespace."""
        return pulumi_internals.config_keys()


def load_args(config: pulumi.Config) -> RegistryCredentialsArgs:
    """The component's args from stack config, checked once; passwords come only from the secret `passwords` object.

    Every problem is reported at once, named as the stack file spells it, and nothing is registered. The args carry
    their checked plan, so the component does not check them again.
    """
    with reported_at_preview():
        plan = read_plan(PulumiValues(config))
    # Secret from the moment they leave config: nothing downstream ever sees a password as a plain value.
    return StackArgs(plan.args(pulumi.Output.secret), plan)  # type: ignore[return-value]
