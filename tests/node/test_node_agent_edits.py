"""The agent's edits of config.json: foreign bytes stay as they were, Go reads the result, and undoing gives it back.

Each foreign document gets our entry added (a new key) and taken over (an existing key), then the edit undone, in
process through the agent's NodeFile. Go's encoding/json, decoding into the kubelet's types (support/kubelet_oracle),
judges every file written: it must read, hold the foreign entries exactly as before plus ours, and nothing else.
"""

import json
from typing import Dict, List, Tuple

import pytest

from support import kubelet_oracle
from support.agent import agent_module

AGENT = agent_module()
UP = "dTpw"  # base64("u:p")
OURS = {"username": "robot", "password": "edits-S3cret", "auth": "cm9ib3Q6ZWRpdHMtUzNjcmV0"}
OURS_CREDENTIALS = ("robot", "edits-S3cret", "")
NEW_KEY = "ours.example"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


# (id, document, does undoing an added key give the exact bytes back)
DOCUMENTS: List[Tuple[str, bytes, bool]] = [
    ("compact", b'{"auths":{"a":{"auth":"dTpw"}}}', True),
    ("spaced", json.dumps({"auths": {"a": {"auth": UP}}, "credsStore": "x"}).encode(), True),
    ("indented-4", json.dumps({"auths": {"a": {"auth": UP}, "b": {"auth": UP}}, "HttpHeaders": {"U": "v"}},
                              indent=4).encode() + b"\n", True),
    ("tabs-crlf", b'{\r\n\t"auths": {\r\n\t\t"a": {"auth": "dTpw"}\r\n\t},\r\n\t"x": 1\r\n}\r\n', True),
    ("irregular-gaps", b'{ "auths" :{"a":{} ,  "b" :{"auth":"dTpw"}\n\n} , "z":[] }', True),
    ("auths-twice", b'{"auths":{"a":{"auth":"dTpw"}},"auths":{"b":{"auth":"dTpw"}}}', True),
    ("Auths-only", b'{"Auths":{"a":{"auth":"dTpw"}}}', True),
    ("auths-and-Auths", b'{"Auths":{"a":{"auth":"dTpw"}},\n"auths":{"b":{}}}', True),
    ("dead-repeat-of-a-key", b'{"auths":{"a":{"username":"old"},"a":{"auth":"dTpw"}}}', True),
    ("entries-before-a-null-reset", b'{"auths":{"a":{"username":"dead"}},"auths":null,"auths":{"b":{}}}', True),
    ("auths-null-beside-keys", b'{"auths": null, "HttpHeaders": {"U": "v"}, "a": 1}', False),
    ("null-after-entries", b'{"auths":{"a":{"username":"dead"}},"auths":null,"x":2}', False),
    ("no-auths", b'{\n  "HttpHeaders": {"U": "v"}\n}\n', False),
    ("empty-top", b"{}", False),
    ("empty-auths-spaced", b'{"auths": { }, "x": 1}', False),  # an emptied object is written `{}`
    ("numbers-go-keeps", b'{"auths":{"a":{"auth":"dTpw","n":1e999,"m":-0.0e-5,"k":1234567890123456789012345}},'
                         b'"x":1e999,"y":[-1E+400]}', True),
    ("latin1-byte", b'{"auths":{"a":{"auth":"dTpw","note":"caf\xe9"}},"k":"\xff\xfe"}', True),
    ("lone-surrogates", b'{"auths":{"a":{"auth":"dTpw","note":"\\ud800"},"\\udfff":{}},"k":"\\udc00"}', True),
    ("deep-5000", b'{"auths":{"a":{"auth":"dTpw","n":' + deep(4_000) + b'}},"x":' + deep(5_000) + b"}", True),
    ("escaped-keys", b'{"\\u0061uths":{"\\u0061":{"auth":"dTpw"}}}', True),
    ("odd-ascii-key", b'{"auths":{"a\\nb\\"c":{"auth":"dTpw"},"a":{}}}', True),
]


def go(data: bytes) -> Dict[str, Tuple[str, str, str]]:
    got = kubelet_oracle.credentials(data)
    assert got is not None, f"Go (the kubelet's reader) rejects what the agent would write: {data[:200]!r}"
    return got


def foreign_values(data: bytes) -> Dict[str, bytes]:
    """Each entry that counts, as its exact bytes."""
    view = AGENT.kubelet_view(data)
    return {key: data[view.value(key).start:view.value(key).end] for key in view.entries}


def others(data: bytes) -> List[bytes]:
    view = AGENT.kubelet_view(data)
    return AGENT._others(view)


def edited(data: bytes, edit) -> bytes:
    node = AGENT.NodeFile(AGENT.kubelet_view(data))
    edit(node)
    rendered, _ = AGENT.checked_render(node, AGENT.kubelet_view(data))
    return rendered


@pytest.mark.parametrize("name, document, exact", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_adding_our_entry_keeps_every_foreign_byte_and_undoing_it_gives_the_file_back(
        name: str, document: bytes, exact: bool) -> None:
    before = go(document)

    added = edited(document, lambda node: node.set_entry(NEW_KEY, OURS))

    assert go(added) == {**before, NEW_KEY: OURS_CREDENTIALS}
    values = foreign_values(added)
    assert {k: v for k, v in values.items() if k != NEW_KEY} == foreign_values(document)
    assert others(added) == others(document)
    undone = edited(added, lambda node: node.remove(NEW_KEY))
    assert go(undone) == before
    if exact:
        assert undone == document


# Documents where an entry "a" counts for the kubelet (in the others it is absent, or dead after a null).
TAKE_OVERS = [d for d in DOCUMENTS if d[0] not in ("auths-null-beside-keys", "null-after-entries", "no-auths",
                                                    "empty-top", "empty-auths-spaced", "entries-before-a-null-reset")]


@pytest.mark.parametrize("name, document, exact", TAKE_OVERS, ids=[d[0] for d in TAKE_OVERS])
def test_a_take_over_replaces_the_entry_that_counts_and_putting_it_back_is_exact(
        name: str, document: bytes, exact: bool) -> None:
    before = go(document)
    assert "a" in before, f"{name}: the table's document has no entry 'a' that counts"
    displaced = foreign_values(document)["a"]

    taken = edited(document, lambda node: node.set_entry("a", OURS))

    assert go(taken) == {**before, "a": OURS_CREDENTIALS}
    assert {k: v for k, v in foreign_values(taken).items() if k != "a"} == {
        k: v for k, v in foreign_values(document).items() if k != "a"}
    restored = edited(taken, lambda node: node.set_raw("a", displaced))
    assert restored == document


def test_a_new_file_is_laid_out_as_json_dumps_indent_2() -> None:
    node = AGENT.NodeFile(None)
    node.set_entry(NEW_KEY, OURS)
    node.set_entry("second.example", {"auth": UP})

    rendered, texts = node.render()

    assert rendered == (json.dumps({"auths": {NEW_KEY: OURS, "second.example": {"auth": UP}}}, indent=2) +
                        "\n").encode()
    assert go(rendered) == {NEW_KEY: OURS_CREDENTIALS, "second.example": ("u", "p", "")}
    assert node.render(compact=True)[0] == (json.dumps({"auths": {NEW_KEY: OURS, "second.example": {"auth": UP}}},
                                                       separators=(",", ":")) + "\n").encode()


def test_our_entry_follows_the_indentation_of_its_neighbours() -> None:
    document = b'{\n    "auths": {\n        "a": {"auth": "dTpw"}\n    }\n}\n'

    added = edited(document, lambda node: node.set_entry(NEW_KEY, {"auth": UP}))

    assert added == (b'{\n    "auths": {\n        "a": {"auth": "dTpw"},\n        "ours.example": {\n'
                     b'            "auth": "dTpw"\n        }\n    }\n}\n')


def test_a_null_auths_is_replaced_in_place_so_no_key_is_repeated() -> None:
    added = edited(b'{"auths": null, "x": 1}', lambda node: node.set_entry(NEW_KEY, {"auth": UP}))

    assert added == b'{"auths": {"ours.example": {"auth": "dTpw"}}, "x": 1}'


def test_a_null_that_empties_earlier_entries_is_followed_not_replaced() -> None:
    # Replacing this null would bring the dead entry "a" back to life.
    document = b'{"auths":{"a":{"auth":"dTpw"}},"auths":null}'

    added = edited(document, lambda node: node.set_entry(NEW_KEY, {"auth": UP}))

    assert go(added) == {NEW_KEY: ("u", "p", "")}
    assert added.startswith(document[:-1])


def test_a_write_that_would_not_read_back_is_refused() -> None:
    # A displaced value the kubelet cannot read (planted): the read-back check refuses before anything is written.
    node = AGENT.NodeFile(AGENT.kubelet_view(b'{"auths":{"a":{}}}'))
    node.set_raw("a", b'{"auth": NaN}')

    with pytest.raises(AGENT.AgentError, match="internal check failed"):
        AGENT.checked_render(node, AGENT.kubelet_view(b'{"auths":{"a":{}}}'))
