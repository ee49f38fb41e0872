"""The plugin package: RegistryCredentials served to every Pulumi language."""
