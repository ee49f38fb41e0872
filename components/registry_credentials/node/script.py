"""The node agent (node/agent.py) as the rest of the package sees it: its source text, digest and constants."""

import __future__
import ast
import functools
import hashlib
import operator
from importlib import resources
from typing import Any, Callable, Dict, Mapping

SCRIPT_KEY = "node_agent.py"
"""The agent's file name in its ConfigMap, and so on the nodes."""

_OPERATORS: Dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
}


@functools.lru_cache(maxsize=None)
def agent_script() -> str:
    """The node agent's source (node/agent.py), shipped to the nodes in a ConfigMap."""
    return resources.files(__package__).joinpath("agent.py").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def agent_constants() -> Mapping[str, Any]:
    """The agent's module-level constants (`NAME = value`): the agent is their one home.

    Read from its source rather than imported: the agent is written for the nodes (it needs fcntl, which Windows,
    where a stack program may run, lacks). A value is a literal, or arithmetic (+ - * //) on literals and on the
    constants above it (`MAX_SOURCE_BYTES = 1024 * 1024 + 64 * 1024`, `MAX_STATE_ITEMS = 2 * MAX_JSON_ITEMS`).
    """
    constants: Dict[str, Any] = {}
    for node in ast.parse(agent_script()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = _value(node.value, constants)
            except ValueError:
                continue  # not a constant (a call, a lambda...)
    return constants


def _value(node: ast.expr, known: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.left, known), _value(node.right, known))
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    return ast.literal_eval(node)


@functools.lru_cache(maxsize=None)
def agent_function(name: str) -> Callable[..., Any]:
    """One of the agent's own checks (a function that uses only builtins and the agent's constants), so the
    component applies the agent's rule itself rather than a copy of it."""
    for node in ast.parse(agent_script()).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            code = compile(ast.Module(body=[node], type_ignores=[]), "node/agent.py", "exec",
                           flags=__future__.annotations.compiler_flag, dont_inherit=True)
            namespace: Dict[str, Any] = dict(agent_constants())
            exec(code, namespace)  # noqa: S102 -- our own agent's source, shipped in this package
            return namespace[name]
    raise KeyError(f"node/agent.py has no function {name}")


def agent_digest() -> str:
    """sha256 of the agent script: a new script rolls the DaemonSet."""
    return hashlib.sha256(agent_script().encode("utf-8")).hexdigest()
