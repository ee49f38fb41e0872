"""Pure logic, free of Pulumi: credentials, servers, the kubelet's matching, settings, plans."""
