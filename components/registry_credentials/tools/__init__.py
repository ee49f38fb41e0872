"""Tools: the CLIs, the offline render and its mock runtime and platform model, the node agent."""
