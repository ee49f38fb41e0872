"""The one exception type for invalid configuration."""


class ConfigError(ValueError):
    """An invalid configuration: the message names the field and how to fix it, never a credential."""
