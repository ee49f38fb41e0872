"""The reader's fast path (fast_top: the C json scanner where it provably agrees with Go) against the exact reader.

fast_top either declines (None: the exact reader decides) or returns the very tree the exact reader builds: the same
byte spans, kinds, members and decoded strings, and so the same KubeletView (fields, entries, errors). Checked on
every hostile document of the agent's tests (the kubelet table, the input, edit and source cases) and on random
documents, well-formed and mutated byte by byte; planted divergences from Go must go to the exact reader.
"""

import json
import random
from typing import Any, Callable, List, Optional, Tuple

import pytest

import test_node_agent_edits as edits_tests
import test_node_agent_input as input_tests
import test_node_agent_kubelet_json as table_tests
from support.agent import agent_module

AGENT = agent_module()


def tree(raw: bytes, node: Any) -> Tuple[Any, ...]:
    """Everything the readers' consumers can see of a node: spans, kind, members (fast ones made on demand),
    and for an object looked into its members' decoded strings."""
    members = node.members
    if members is None:
        return node.start, node.end, node.kind, None, None
    return (node.start, node.end, node.kind,
            tuple((m.key_start, m.key_end, m.key, tree(raw, m.value)) for m in members),
            tuple(node.strings(raw)))


def exact_top(raw: bytes) -> Any:
    return AGENT.parse_value(raw, 1, AGENT._top_levels)


def view_facts(raw: bytes) -> Tuple[Any, ...]:
    """What kubelet_view makes of raw, or the rejection it raises (message and kind)."""
    try:
        view = AGENT.kubelet_view(raw)
    except AGENT.KubeletRejects as err:
        return "rejects", str(err), err.syntax
    entries = tuple((key, obj.start, index, tree(raw, view.value(key))) for key, (obj, index) in view.entries.items())
    auths = tuple((m.key_start, m.value.start, m.value.end) for m in view.auths_members)
    return tree(raw, view.top), entries, tuple(view.fields.items()), auths


def check(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Assert the fast path agrees with the exact one on raw; True when it took raw (did not decline)."""
    fast = AGENT.fast_top(raw, AGENT._top_levels)
    if fast is not None:
        # It took the document: the exact reader must accept it and build the same tree.
        assert tree(raw, fast) == tree(raw, exact_top(raw))
    with_fast = view_facts(raw)
    with monkeypatch.context() as patch:
        patch.setattr(AGENT, "fast_top", lambda _raw, _select: None)
        assert view_facts(raw) == with_fast
    return fast is not None


def hostile_documents() -> List[Tuple[str, bytes]]:
    """Every config.json-like document of the agent's tests (entries alone are put in an auths object)."""
    def wrap(entry: str) -> bytes:
        return b'{"auths":{"x.example":%s}}' % entry.encode("utf-8", "surrogatepass")

    found = [(f"table-{name}", data) for name, data, _ in table_tests.CASES]
    found += [(f"legacy-{name}", data) for name, data, _ in table_tests.LEGACY_CASES]
    found += [(f"repeats-{row[0]}", row[1].encode()) for row in input_tests.REPEATS]
    found += [(f"reads-{name}", data) for name, data in input_tests.KUBELET_READS]
    found += [(f"rejects-{name}", data) for name, data in input_tests.KUBELET_REJECTS]
    found += [(f"hand-edit-{row[0]}", wrap(row[1])) for row in input_tests.HAND_EDITS]
    found += [(f"source-{row[0]}", row[1].encode("utf-8", "surrogatepass")) for row in input_tests.SOURCES]
    found += [(f"number-{number}", wrap('{"auth":"dTpw","n":%s}' % number)) for number in input_tests.GO_NUMBERS]
    found += [(f"edits-{row[0]}", row[1]) for row in edits_tests.DOCUMENTS]
    return found


HOSTILE = hostile_documents()


def test_the_hostile_set_is_large() -> None:
    assert len(HOSTILE) > 150 and len({name for name, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("name, raw", HOSTILE, ids=[name for name, _ in HOSTILE])
def test_the_fast_path_reads_every_hostile_document_as_the_exact_reader(name: str, raw: bytes,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    check(raw, monkeypatch)


def test_the_fast_path_takes_most_hostile_documents_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not vacuous: plain ASCII documents (repeats, nulls, case folds, numbers, odd spacing) go the fast way. (Deep
    # ones, like depth-5000, may not: the C scanner's recursion guard stops short of Go's 10000 on some Pythons.)
    taken = [name for name, raw in HOSTILE if check(raw, monkeypatch)]
    assert len(taken) > 60, taken
    for name in ("table-auths-twice-merges", "table-registry-twice-last-wins-whole", "table-field-twice-last-wins",
                 "table-AUTHS-then-auths-same-key-last-wins", "table-escaped-key-is-decoded",
                 "table-1e999-ignored-field", "table-big-integer", "edits-tabs-crlf", "edits-irregular-gaps"):
        assert name in taken


# Where Python's json and Go's encoding/json read the same bytes differently, or the C scanner could accept what Go
# refuses: each must leave the document to the exact reader.
DIVERGENCES = [
    ("invalid-utf8", b'{"auths":{"a":{"username":"caf\xe9"}}}'),
    ("valid-utf8", '{"auths":{"a":{"username":"żółw"}}}'.encode()),
    ("lone-surrogate-escape", b'{"auths":{"a":{"username":"\\ud800"}}}'),
    ("low-surrogate-escape-in-key", b'{"auths":{"a":{"\\uDC00":"x"}}}'),
    ("surrogate-pair-escape", b'{"auths":{"a":{"username":"\\ud83d\\ude00"}}}'),
    ("nan", b'{"auths":{},"x":NaN}'),
    ("infinity-in-entry", b'{"auths":{"a":{"x":Infinity}}}'),
    ("minus-infinity", b'{"auths":{},"x":[-Infinity]}'),
    ("deep-10001", b'{"auths":{},"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
    ("many-containers", b'{"auths":{},"x":[' + b"[]," * 10_000 + b"[]]}"),
    ("top-array", b"[]"),
    ("top-null", b"null"),
    ("trailing-comma", b'{"auths":{"a":{"auth":"dTpw",}}}'),
    ("trailing-data", b'{"auths":{}} x'),
]


@pytest.mark.parametrize("name, raw", DIVERGENCES, ids=[name for name, _ in DIVERGENCES])
def test_a_planted_divergence_goes_to_the_exact_reader(name: str, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert AGENT.fast_top(raw, AGENT._top_levels) is None
    check(raw, monkeypatch)


def test_repeated_keys_are_read_by_the_fast_path_as_go_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # The C scanner hands over every (key, value) pair in file order, so repeats need no detour.
    raw = b'{"auths":{"a":{"username":"1","USERNAME":"2","username":null}},"Auths":{"a":{"auth":"dTpw"},"a":{}}}'
    assert check(raw, monkeypatch)
    assert AGENT.kubelet_view(raw).fields == {"a": {}}


def test_the_check_would_catch_a_missing_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the surrogate guard, the C scanner's "\ud800" (a lone surrogate) differs from Go's U+FFFD: the
    # comparison above sees it. (A guard of the differential test itself.)
    raw = b'{"auths":{"a":{"username":"\\ud800"}}}'
    monkeypatch.setattr(AGENT, "_SURROGATE_ESCAPE", AGENT.re.compile(rb"(?!)"))
    fast = AGENT.fast_top(raw, AGENT._top_levels)
    assert fast is not None and tree(raw, fast) != tree(raw, exact_top(raw))


# ---------------------------------------------------------------------------------------------- random documents

KEYS = ["auths", "Auths", "AUTHS", "auth\u017f", "\\u0061uths", "HttpHeaders", "httpheaders", "credsStore", "x", "",
        "username", "password", "email", "auth", "Username", "PASSWORD", "identitytoken", "a", "a", "r.example"]
STRING_PIECES = ["a", "robot", "dTpw", "cm9ib3Q6cHc=", "%", " ", "\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\u00e9",
                 "\\u0000", "\\u20ac", "\\ud800", "\\udc00x", "\\ud83d\\ude00", "\u00e9", "\u017f", "\x7f", ":", "{[,"]
NUMBERS = ["0", "-0", "1", "-12", "1.5", "1e999", "-1E+400", "4.9e-400", "123456789012345678901234567890", "0.0e-0"]
SPACES = ["", "", "", " ", "\n", "\t", "\r\n", "  "]


class Maker:
    """Random JSON text shaped like a config.json: auths objects, entries, headers and foreign values."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def ws(self) -> str:
        return self.rng.choice(SPACES)

    def string(self) -> str:
        return '"' + "".join(self.rng.choice(STRING_PIECES) for _ in range(self.rng.randint(0, 4))) + '"'

    def key(self) -> str:
        return '"' + self.rng.choice(KEYS) + '"' if self.rng.random() < 0.8 else self.string()

    def value(self, depth: int) -> str:
        roll = self.rng.random()
        if depth > 4 or roll < 0.35:
            return self.string()
        if roll < 0.5:
            return self.rng.choice(NUMBERS)
        if roll < 0.6:
            return self.rng.choice(["null", "true", "false"])
        if roll < 0.8:
            return self.obj(depth + 1, self.value)
        return "[" + self.ws() + ("," + self.ws()).join(self.value(depth + 1) for _ in range(self.rng.randint(0, 3))) \
            + self.ws() + "]"

    def obj(self, depth: int, member: Callable[[int], str]) -> str:
        parts = [self.ws() + self.key() + self.ws() + ":" + self.ws() + member(depth) + self.ws()
                 for _ in range(self.rng.randint(0, 4))]
        return "{" + ",".join(parts) + (self.ws() if not parts else "") + "}"

    def entry(self, depth: int) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return self.rng.choice(["null", "1", '"x"', "[]"])
        return self.obj(depth, lambda d: self.string() if self.rng.random() < 0.7 else self.value(d))

    def auths(self, depth: int) -> str:
        return self.obj(depth, self.entry) if self.rng.random() < 0.9 else self.rng.choice(["null", "[]", '"x"'])

    def document(self) -> str:
        return self.ws() + self.obj(0, lambda d: self.auths(d + 1) if self.rng.random() < 0.6 else self.value(d)) \
            + self.ws()


MUTATIONS = list(b'{}[],:"\\ 0123456789eE+-.ntfNIu\x00\x1f\x7f') + [0xC3, 0xE9, 0xFF]


def mutated(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    roll = rng.random()
    if roll < 0.4 and at < len(data):
        return data[:at] + data[at + 1:]
    if roll < 0.7:
        return data[:at] + bytes([rng.choice(MUTATIONS)]) + data[at:]
    return data[:at] + bytes([rng.choice(MUTATIONS)]) + data[at + 1:]


def test_random_documents_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(20261202)
    maker = Maker(rng)
    taken = plain = 0
    for _ in range(1500):
        text = maker.document()
        data = text.encode("utf-8")
        taken += check(data, monkeypatch)
        if data.isascii() and "\\ud" not in text:
            plain += 1
        for _ in range(3):
            data = mutated(rng, data)
            check(data, monkeypatch)
    assert taken > plain // 2 > 100, (taken, plain)  # the fast path was exercised, not only declined


def test_random_documents_from_json_dumps_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    # Documents as tools write them (json.dumps: indented or compact, escaped or not), with odd values inside.
    rng = random.Random(7)
    for number in range(200):
        auths = {f"r{n}.example": {"username": f"u{n}", "password": rng.choice(["p", "p\u00e9", 'q"\\', "\u20ac"]),
                                   "auth": "dTpw", **({"n": rng.choice([1, 2.5, -0.0, 10**30])} if n % 3 else {})}
                 for n in range(rng.randint(0, 6))}
        document = {"auths": auths, "HttpHeaders": {"U": "v"}, "x": [1, {"y": None}]}
        raw = json.dumps(document, indent=rng.choice([None, 2, "\t"]), ensure_ascii=number % 2 == 0).encode()
        assert check(raw, monkeypatch) == raw.isascii()
