"""The import rule of docs/architecture.md, enforced on every module: layers, siblings, pure modules, no cycles.

The rule is stated once, as the table in docs/architecture.md; this test reads that table, so the document and the
code cannot drift apart.
"""

import ast
import re
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "components" / "registry_credentials"
NAME = "registry_credentials"
PULUMI = {"pulumi", "pulumi_kubernetes", "pulumi_random"}
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| [^|]+ \| ([^|]+) \|$")
AGENT = f"{NAME}.node.agent"

Graph = Mapping[str, Set[str]]


def rules() -> Dict[str, Tuple[int, str]]:
    """Unit (`node/` or `errors.py`) -> (layer, which of its modules may import Pulumi: yes, no or file names)."""
    found = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            found[match.group(2)] = (int(match.group(1)), match.group(3).strip())
    return found


def modules() -> Dict[str, Path]:
    """Dotted name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([NAME, *parts])] = path
    return found


def unit(module: str) -> str:
    """The table row a module falls under."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__.py"
    return f"{parts[0]}/" if (PACKAGE / parts[0]).is_dir() else f"{parts[0]}.py"


def imports(module: str, path: Path, known: Set[str]) -> Tuple[Set[str], Set[str]]:
    """(modules of the package, top-level names of everything else) that `module` imports, anywhere in the file."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    internal, external = set(), set()

    def add(name: str) -> None:
        if name == NAME or name.startswith(f"{NAME}."):
            # `from .x import y` imports module x.y when y is a module, else x.
            internal.add(name if name in known else name.rsplit(".", 1)[0])
        else:
            external.add(name.split(".")[0])

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == NAME or target.startswith(f"{NAME}."):
                for alias in node.names:
                    add(f"{target}.{alias.name}")
            else:
                add(target)
    internal.discard(module)
    return internal, external


def graph() -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
    """Package-internal import edges and external imports, per module."""
    found = modules()
    internal, external = {}, {}
    for module, path in found.items():
        internal[module], external[module] = imports(module, path, set(found))
    return internal, external


def violations(internal: Graph, external: Graph) -> List[str]:
    """Every way the package breaks the table's rule."""
    table = rules()
    problems = []
    for module in internal:
        if unit(module) not in table:
            problems.append(f"{module}: not in the table of docs/architecture.md")
    for module, targets in internal.items():
        layer, _ = table.get(unit(module), (0, ""))
        for target in targets:
            if unit(target) == unit(module):
                continue
            target_layer, _ = table.get(unit(target), (0, ""))
            if target_layer >= layer:
                problems.append(f"{module} imports {target}: layer {target_layer} is not below {layer}")
    for module, names in external.items():
        _, allowed = table.get(unit(module), (0, "no"))
        leaf = f"{module.rsplit('.', 1)[-1]}.py"
        if names & PULUMI and allowed != "yes" and f"`{leaf}`" not in allowed:
            problems.append(f"{module} imports {sorted(names & PULUMI)} but is pure")
    # hashlib's C accelerators (`_sha2` from 3.12, `_sha256` before) ship with CPython but are not in
    # sys.stdlib_module_names (python/cpython#101924 renamed them; the list leaves private C modules out).
    stdlib = set(sys.stdlib_module_names) | {"_sha2", "_sha256"}
    beyond_stdlib = internal.get(AGENT, set()) | (external.get(AGENT, set()) - stdlib)
    if beyond_stdlib:
        problems.append(f"{AGENT} imports {sorted(beyond_stdlib)}")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(internal)]
    return problems


def cycles(internal: Graph) -> List[List[str]]:
    """Import cycles among the package's modules (each reported once, from where it was found)."""
    found, state = [], {}

    def visit(module: str, stack: List[str]) -> None:
        state[module] = "open"
        for target in sorted(internal.get(module, ())):
            if state.get(target) == "open":
                found.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(internal):
        if module not in state:
            visit(module, [module])
    return found


def test_the_package_follows_the_import_rule():
    internal, external = graph()
    assert violations(internal, external) == []


def test_every_row_of_the_table_names_a_module_or_folder_that_exists():
    assert {name for name in rules() if not (PACKAGE / name).exists()} == set()


def test_the_rule_catches_each_kind_of_breach():
    internal, external = graph()
    planted = {module: set(targets) for module, targets in internal.items()}
    planted[f"{NAME}.checks.values"].add(f"{NAME}.component")  # upwards
    planted[f"{NAME}.pod.wire"].add(f"{NAME}.node.settings")  # a sibling folder
    planted[f"{NAME}.credentials.servers"].add(f"{NAME}.credentials.registries")  # a cycle within a folder
    impure = {module: set(names) for module, names in external.items()}
    impure[f"{NAME}.service_accounts.pull_secrets"].add("pulumi")
    impure[AGENT].add("requests")
    found = "\n".join(violations(planted, impure))
    assert "checks.values imports registry_credentials.component" in found
    assert "pod.wire imports registry_credentials.node.settings" in found
    assert "import cycle" in found and "credentials.servers" in found
    assert "service_accounts.pull_secrets imports ['pulumi'] but is pure" in found
    assert "node.agent imports ['requests']" in found
