"""The render's apply order: the heap-based order is the very order of the plain Kahn's scan it replaced."""

import random
from typing import Dict, List, Set

import pytest

from registry_credentials.cli.render import Manifest, _apply_order, _topological

KINDS = ("Namespace", "Secret", "ServiceAccount", "ConfigMap", "DaemonSet", "Role")


def scanned_order(found: Dict[str, Manifest], depends: Dict[str, Set[str]]) -> List[Manifest]:
    """The order render had before the heap, kept as the reference: re-scan every waiting node at each step."""
    waiting = {key: {d for d in deps if d in found and d != key} for key, deps in depends.items()}
    result = []
    while waiting:
        ready = [key for key, deps in waiting.items() if not deps] or list(waiting)
        key = min(ready, key=lambda k: _apply_order(found[k]))
        result.append(found[key])
        del waiting[key]
        for deps in waiting.values():
            deps.discard(key)
    return result


def graph(seed: int, size: int, edges: float, cycles: bool, names: int):
    """A random registration: manifests with few distinct names (so order ties happen), random dependencies."""
    rng = random.Random(seed)
    found, depends = {}, {}
    keys = [f"urn:{i}" for i in range(size)]
    rng.shuffle(keys)  # registration order is not the dependency order
    for position, key in enumerate(keys):
        kind = rng.choice(KINDS)
        typ = f"kubernetes:core/v1:{kind}{'Patch' if rng.random() < 0.2 else ''}"
        body = {"kind": kind, "metadata": {"name": f"n{rng.randrange(names)}",
                                           "namespace": f"ns{rng.randrange(names)}"}}
        found[key] = Manifest(typ, f"rc:{rng.randrange(names)}", body)
        earlier = keys[:position] if not cycles else keys
        depends[key] = {d for d in earlier if rng.random() < edges}
        if rng.random() < 0.1:
            depends[key].add("urn:not-a-manifest")  # a read or a component: not in found
    return found, depends


CASES = [
    # (size, edge probability, cycles allowed, distinct names)
    (1, 0.0, False, 1),
    (30, 0.0, False, 2),  # no dependencies: pure apply order with ties
    (30, 0.1, False, 2),
    (60, 0.3, False, 3),
    (60, 0.05, True, 2),  # cycles: the least of all that is left goes next
    (120, 0.02, True, 50),
]


@pytest.mark.parametrize("size,edges,cycles,names", CASES)
@pytest.mark.parametrize("seed", range(8))
def test_heap_order_is_the_scanned_order(seed, size, edges, cycles, names):
    found, depends = graph(seed, size, edges, cycles, names)
    assert _topological(found, depends) == scanned_order(found, depends)


def test_dependencies_come_first_even_against_kind_order():
    found = {
        "ns": Manifest("kubernetes:core/v1:Namespace", "a", {"kind": "Namespace", "metadata": {"name": "a"}}),
        "sa": Manifest("kubernetes:core/v1:ServiceAccount", "b", {"kind": "ServiceAccount", "metadata": {"name": "b"}}),
    }
    order = _topological(found, {"ns": {"sa"}, "sa": set()})
    assert [m.logical_name for m in order] == ["b", "a"]
