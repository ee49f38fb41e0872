"""The credentials check against the registries (`verify`): settings, login handshake, program hook, CLI."""
