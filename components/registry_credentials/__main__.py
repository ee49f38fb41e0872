"""Entry point for `python -m registry_credentials`, the same as the `registry-credentials` command."""

from .cli.main import entry

entry()
