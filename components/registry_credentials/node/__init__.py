"""Method 1, node level: a DaemonSet whose agent keeps `{kubelet root-dir}/config.json` on every node."""
