"""Registry credentials: servers, the `.dockerconfigjson` they render to, and the kubelet's matching of keys."""
