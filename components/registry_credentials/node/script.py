"""The node agent (node/agent.py) as the rest of the package sees it: its source text, digest and constants."""

import ast
import functools
import hashlib
from importlib import resources
from typing import Any, Mapping

SCRIPT_KEY = "node_agent.py"
"""The agent's file name in its ConfigMap, and so on the nodes."""


@functools.lru_cache(maxsize=None)
def agent_script() -> str:
    """The node agent's source (node/agent.py), shipped to the nodes in a ConfigMap."""
    return resources.files(__package__).joinpath("agent.py").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def agent_constants() -> Mapping[str, Any]:
    """The agent's module-level constants (`NAME = literal`): the agent is their one home.

    Read from its source rather than imported: the agent is written for the nodes (it needs fcntl, which Windows,
    where a stack program may run, lacks).
    """
    constants = {}
    for node in ast.parse(agent_script()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # an expression, not a literal
    return constants


def agent_digest() -> str:
    """sha256 of the agent script: a new script rolls the DaemonSet."""
    return hashlib.sha256(agent_script().encode("utf-8")).hexdigest()
