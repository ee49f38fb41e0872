"""The Pulumi wiring: the component, its args, checks, transforms, stack config and the plugin."""
