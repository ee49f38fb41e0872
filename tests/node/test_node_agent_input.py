"""The node agent on odd and hostile node files, as real processes: it reads what the kubelet reads, keeps every
foreign byte, never writes what the kubelet cannot parse, and a looping agent outlives anything it is given.

Go's encoding/json decoding into the kubelet's types (support/kubelet_oracle.py) judges every file the agent leaves.
The facts behind the tables are cited in test_node_agent_kubelet_json.py (golang/go src/encoding/json,
kubernetes/kubernetes pkg/credentialprovider/config.go).
"""

import json
import os
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from support import kubelet_oracle
from support.agent import STATE, Agent, SecretVolume, agent_module, auths, entry, read_json, run_once, wait_for

REG = "registry.example.com"
OURS = entry("robot", "input-S3cret-pw!")
FOREIGN = entry("someone", "input-Foreign-pw!")
FOREIGN_RAW = json.dumps(FOREIGN)
OURS_SEEN = ("robot", "input-S3cret-pw!", "")
FOREIGN_SEEN = ("someone", "input-Foreign-pw!", "")


@pytest.fixture
def volume(tmp_path: Path) -> SecretVolume:
    """A Secret volume publishing OURS for REG."""
    vol = SecretVolume(tmp_path / "secret")
    vol.publish({"auths": {REG: OURS}})
    return vol


def kept_aside(root: Path) -> List[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith("config.json.corrupt-"))


def kubelet_sees(root: Path) -> Dict[str, Tuple[str, str, str]]:
    """What the kubelet takes from root/config.json; fails when it would skip the file."""
    got = kubelet_oracle.credentials((root / "config.json").read_bytes())
    assert got is not None, "the kubelet (Go's encoding/json) cannot read the config.json the agent left"
    return got


def start(volume: SecretVolume, root: Path, tmp_path: Path, agents: List[Agent], owner: str = "pod-a") -> Agent:
    agent = Agent(volume.path, root, owner, tmp_path)
    agents.append(agent)
    wait_for(agent.ready_file.exists, what="first sync")
    return agent


# ------------------------------------------------------------------------------------------------ repeated keys

# (id, config.json text, foreign keys the kubelet sees in it): every entry of every object that fills Auths counts.
REPEATS = [
    ("auths-twice", '{"auths": {"a.example": %s}, "auths": {"b.example": %s}}' % (FOREIGN_RAW, FOREIGN_RAW),
     ["a.example", "b.example"]),
    ("Auths-alone", '{"Auths": {"a.example": %s}}' % FOREIGN_RAW, ["a.example"]),
    ("auths-and-AUTHS", '{"AUTHS": {"a.example": %s},\n "auths": {"b.example": %s}}' % (FOREIGN_RAW, FOREIGN_RAW),
     ["a.example", "b.example"]),
    ("long-s", '{"authſ": {"a.example": %s}}' % FOREIGN_RAW, ["a.example"]),
    ("escaped-key", '{"\\u0061uths": {"a.example": %s}}' % FOREIGN_RAW, ["a.example"]),
    ("registry-twice", '{"auths": {"a.example": {"username": "dead"}, "a.example": %s}}' % FOREIGN_RAW,
     ["a.example"]),
]


@pytest.mark.parametrize("name, document, foreign", REPEATS, ids=[r[0] for r in REPEATS])
def test_repeated_and_case_folded_auths_lose_nothing_and_release_gives_the_file_back(
        root: Path, volume: SecretVolume, tmp_path: Path, agents: List[Agent], name: str, document: str,
        foreign: List[str]) -> None:
    original = document.encode()
    (root / "config.json").write_bytes(original)
    assert kubelet_oracle.credentials(original) == {key: FOREIGN_SEEN for key in foreign}

    agent = start(volume, root, tmp_path, agents)

    assert kubelet_sees(root) == {**{key: FOREIGN_SEEN for key in foreign}, REG: OURS_SEEN}
    assert FOREIGN_RAW.encode() in (root / "config.json").read_bytes()
    assert not kept_aside(root) and "config-corrupt" not in agent.log()
    assert agent.terminate() == 0
    assert (root / "config.json").read_bytes() == original


def test_a_take_over_of_a_repeated_registry_replaces_the_one_that_counts(root: Path, volume: SecretVolume,
                                                                         tmp_path: Path, agents: List[Agent]) -> None:
    original = ('{"auths": {"%s": {"username": "dead"}},\n "Auths": {"%s": %s}}' % (REG, REG, FOREIGN_RAW)).encode()
    (root / "config.json").write_bytes(original)

    agent = start(volume, root, tmp_path, agents)

    assert kubelet_sees(root) == {REG: OURS_SEEN}
    agent.wait_for_log(f"take-over key={REG}")
    assert agent.terminate() == 0
    assert (root / "config.json").read_bytes() == original
    assert kubelet_sees(root) == {REG: FOREIGN_SEEN}


def test_a_source_read_as_the_kubelet_reads_a_pull_secret(root: Path, tmp_path: Path) -> None:
    # secrets.go reads a .dockerconfigjson into the same DockerConfigJSON type: repeats and case folding count.
    src = tmp_path / "src.json"
    src.write_text('{"auths": {"%s": %s}, "Auths": {"other.example": {"auth": "%s"}}}'
                   % (REG, json.dumps(OURS), OURS["auth"]))

    result = run_once(src, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert kubelet_sees(root) == {REG: OURS_SEEN, "other.example": ("robot", "input-S3cret-pw!", "")}


# ------------------------------------------------------------------------------------------------ numbers

GO_NUMBERS = ["1e999", "-1e999", "1E+400", "123456789012345678901234567890", "-0.0", "4.9e-400"]


@pytest.mark.parametrize("number", GO_NUMBERS)
def test_a_foreign_number_is_kept_as_written(root: Path, volume: SecretVolume, number: str) -> None:
    original = '{"auths": {"f.example": {"auth": "%s", "n": %s}}, "x": [%s]}' % (FOREIGN["auth"], number, number)
    (root / "config.json").write_text(original)

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    written = (root / "config.json").read_text()
    assert f'"n": {number}' in written and f'"x": [{number}]' in written
    assert "Infinity" not in written and "NaN" not in written
    assert kubelet_sees(root) == {"f.example": FOREIGN_SEEN, REG: OURS_SEEN}


# ------------------------------------------------------------------------------------------------ read fine: kept

# (id, config.json bytes) that the kubelet reads: never set aside, every foreign byte kept.
KUBELET_READS = [
    ("latin1-byte", b'{"auths": {"f.example": {"auth": "%s", "note": "caf\xe9"}}, "k": "\xff"}' % FOREIGN["auth"].encode()),
    ("auths-null-beside-keys", b'{"auths": null, "HttpHeaders": {"User-Agent": "node"}, "credsStore": "x"}'),
    ("deep-5000", b'{"auths": {"f.example": %s}, "x": %s}' % (FOREIGN_RAW.encode(), b"[" * 5000 + b"]" * 5000)),
    ("deep-9999-in-an-entry", b'{"auths": {"f.example": {"auth": "%s", "x": %s}}}'
     % (FOREIGN["auth"].encode(), b"[" * 9_997 + b"]" * 9_997)),
    ("lone-surrogates", b'{"auths": {"f.example": {"auth": "%s", "note": "\\ud800"}, "\\udfff": {}}}'
     % FOREIGN["auth"].encode()),
    ("top-level-null", b"null\n"),
    ("null-entry", b'{"auths": {"f.example": null}}'),
    ("unknown-entry-fields", b'{"auths": {"f.example": {"auth": "%s", "identitytoken": {"a": [1, {"b": null}]}}}}'
     % FOREIGN["auth"].encode()),
    ("crlf-and-tabs", b'{\r\n\t"auths": {\r\n\t\t"f.example": %s\r\n\t}\r\n}\r\n' % FOREIGN_RAW.encode()),
]


@pytest.mark.parametrize("name, original", KUBELET_READS, ids=[k[0] for k in KUBELET_READS])
def test_a_file_the_kubelet_reads_is_never_set_aside(root: Path, volume: SecretVolume, name: str,
                                                     original: bytes) -> None:
    (root / "config.json").write_bytes(original)
    before = kubelet_oracle.credentials(original)
    assert before is not None

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert not kept_aside(root) and "config-corrupt" not in result.stderr
    assert kubelet_sees(root) == {**before, REG: OURS_SEEN}
    view = agent_module().kubelet_view(original)
    written = (root / "config.json").read_bytes()
    for member in view.top.members or ():  # every top-level member but auths, byte for byte
        if agent_module().fills(member.key, ("auths",)) is None:
            assert original[member.key_start:member.value.end] in written
    for key in view.entries:  # every foreign entry, byte for byte
        assert original[view.value(key).start:view.value(key).end] in written


# (id, config.json bytes) that the kubelet rejects whole: it uses none of it, so it is set aside and replaced.
KUBELET_REJECTS = [
    ("nan", b'{"auths": {"f.example": %s}, "x": NaN}' % FOREIGN_RAW.encode()),
    ("infinity", b'{"auths": {"f.example": %s}, "x": [Infinity]}' % FOREIGN_RAW.encode()),
    ("minus-infinity", b'{"auths": {"f.example": {"auth": "%s", "n": -Infinity}}}' % FOREIGN["auth"].encode()),
    ("utf8-bom", b'\xef\xbb\xbf{"auths": {"f.example": %s}}' % FOREIGN_RAW.encode()),
    ("trailing-data", b'{"auths": {"f.example": %s}} {}' % FOREIGN_RAW.encode()),
    ("deep-10001", b'{"auths": {}, "x": %s}' % (b"[" * 10_000 + b"]" * 10_000)),
    ("bad-foreign-auth", b'{"auths": {"f.example": {"auth": "not-base64!"}, "g.example": %s}}' % FOREIGN_RAW.encode()),
    ("headers-not-strings", b'{"auths": {"f.example": %s}, "HttpHeaders": {"X-N": 1}}' % FOREIGN_RAW.encode()),
    ("control-byte", b'{"auths": {"f.example": {"auth": "%s", "note": "a\x01"}}}' % FOREIGN["auth"].encode()),
    ("single-quotes", b"{'auths': {}}"),
]


@pytest.mark.parametrize("name, original", KUBELET_REJECTS, ids=[k[0] for k in KUBELET_REJECTS])
def test_a_file_the_kubelet_rejects_is_set_aside_and_replaced_by_one_it_reads(root: Path, volume: SecretVolume,
                                                                             name: str, original: bytes) -> None:
    (root / "config.json").write_bytes(original)
    assert kubelet_oracle.credentials(original) is None

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    (kept,) = kept_aside(root)
    assert kept.read_bytes() == original
    assert "config-corrupt" in result.stderr and "the kubelet cannot read it" in result.stderr
    assert kubelet_sees(root) == {REG: OURS_SEEN}


# ------------------------------------------------------------------------------------------------ the loop lives on

# (id, what replaces our entry's value in config.json by hand): each reaches the code that once crashed the loop.
HAND_EDITS = [
    ("lone-surrogate", '{"auth": "%s", "note": "\\ud800"}' % FOREIGN["auth"]),
    ("deep-5000", '{"auth": "%s", "x": %s}' % (FOREIGN["auth"], "[" * 5000 + "]" * 5000)),
    ("1e999", '{"auth": "%s", "n": 1e999}' % FOREIGN["auth"]),
    ("latin1", '{"auth": "%s", "note": "caf\xe9"}' % FOREIGN["auth"]),
]


@pytest.mark.parametrize("name, value", HAND_EDITS, ids=[h[0] for h in HAND_EDITS])
def test_a_looping_agent_outlives_an_odd_hand_edit_and_keeps_its_lease(root: Path, volume: SecretVolume,
                                                                       tmp_path: Path, agents: List[Agent],
                                                                       name: str, value: str) -> None:
    agent = start(volume, root, tmp_path, agents)
    text = (root / "config.json").read_text()
    ours_at = text.index(f'"{REG}": ') + len(f'"{REG}": ')
    end = text.index("}", ours_at) + 1
    edited = (text[:ours_at] + value + text[end:]).encode("utf-8", "surrogateescape").replace(b"\xc3\xa9", b"\xe9")
    (root / "config.json").write_bytes(edited)

    agent.wait_for_log(f"hand-edited key={REG}")
    agent.wait_for_log(f"skippedHandEdited={REG}", times=3)

    assert agent.process.poll() is None, agent.log()[-2000:]
    assert (root / "config.json").read_bytes() == edited  # left as edited, byte for byte
    assert "pod-a" in read_json(root / STATE)["agents"]
    assert "Traceback" not in agent.log() and "sync-failed" not in agent.log()
    assert agent.terminate() == 0
    assert (root / "config.json").read_bytes() == edited  # not ours any more: the release leaves it


def test_a_looping_agent_outlives_a_node_file_too_deep_for_the_kubelet(root: Path, volume: SecretVolume,
                                                                       tmp_path: Path, agents: List[Agent]) -> None:
    agent = start(volume, root, tmp_path, agents)
    too_deep = b'{"auths": {"%s": %s}, "x": %s}' % (REG.encode(), json.dumps(OURS).encode(),
                                                     b"[" * 20_000 + b"]" * 20_000)
    (root / "config.json").write_bytes(too_deep)

    agent.wait_for_log("config-corrupt")
    agent.wait_for_log(" sync ", times=agent.count(" sync ") + 2)

    assert agent.process.poll() is None
    assert kept_aside(root)[0].read_bytes() == too_deep
    assert kubelet_sees(root) == {REG: OURS_SEEN}
    assert agent.terminate() == 0


def test_an_unforeseen_error_is_one_line_without_its_message_and_the_lease_is_kept(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    module = agent_module()
    src = tmp_path / "src.json"
    src.write_text(json.dumps({"auths": {REG: OURS}}))
    clock = {"now": 1000.0}
    monkeypatch.setattr(module, "boot_clock", lambda: ("boot-1", clock["now"]))
    module.sync(str(src), str(root), "pod-a", 300.0)
    assert read_json(root / STATE)["agents"]["pod-a"]["lease"]["until"] == 1300.0
    ready = tmp_path / "ready"
    ready.write_text("1")
    args = module.parse_args(["--source", str(src), "--kubelet-root", str(root), "--ready-file", str(ready)])

    def broken(*_args: object) -> None:
        raise RuntimeError(f"boom {OURS['password']}")

    monkeypatch.setattr(module, "sync", broken)
    clock["now"] = 1200.0  # past half the lease: a successful sync would renew it, and so must a failed one
    capsys.readouterr()

    assert module.sync_and_report(args, "pod-a", 300.0) == module.EXIT_INTERNAL

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ERROR sync-failed owner=pod-a" in err
    assert "internal error RuntimeError at line" in err and OURS["password"] not in err
    assert not ready.exists()
    assert read_json(root / STATE)["agents"]["pod-a"]["lease"]["until"] == 1500.0
    assert auths(root) == {REG: OURS}


# ------------------------------------------------------------------------------------------------ state file

VALID_DIGEST = "0" * 64
# (id, state text): hand edits of our own state file that once reached a crash; each is set aside and rebuilt.
STATE_EDITS = {
    "nan-seq": '{"version": 1, "created_config": false, "next_seq": NaN, "agents": {}, "keys": {}, "abandoned": {}}',
    "nan-in-unknown-field": '{"version": 1, "created_config": false, "next_seq": 1, "agents": {}, "keys": {}, '
                            '"abandoned": {}, "note": [NaN]}',
    "deep-unknown-field": '{"version": 1, "created_config": false, "next_seq": 1, "agents": {}, "keys": {}, '
                          '"abandoned": {}, "note": %s}' % ("[" * 500 + "]" * 500),
    "deep-past-python": '{"version": 1, "x": %s}' % ("[" * 50_000 + "]" * 50_000),
    "lease-not-object": '{"version": 1, "created_config": false, "next_seq": 2, "agents": {"pod-b": {"seq": 1, '
                        '"lease": 5}}, "keys": {}, "abandoned": {}}',
    "lease-until-infinite": '{"version": 1, "created_config": false, "next_seq": 2, "agents": {"pod-b": {"seq": 1, '
                            '"lease": {"boot": "b", "until": 1e999, "seconds": 300}}}, "keys": {}, "abandoned": {}}',
    "displaced-not-kubelet-json": '{"version": 1, "created_config": false, "next_seq": 2, "agents": {}, '
                                  '"keys": {"r": {"owners": {}, "written": [], "displaced_raw": "{\\"auth\\": 1}"}}, '
                                  '"abandoned": {}}',
}


@pytest.mark.parametrize("name", sorted(STATE_EDITS))
def test_an_odd_state_file_is_set_aside_never_a_crash(root: Path, volume: SecretVolume, name: str) -> None:
    (root / STATE).write_text(STATE_EDITS[name])

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert "state-corrupt" in result.stderr and "Traceback" not in result.stderr
    assert list(read_json(root / STATE)["agents"]) == ["pod-a"]
    assert kubelet_sees(root) == {REG: OURS_SEEN}


def test_an_owner_id_with_a_lone_surrogate_in_the_state_is_harmless(root: Path, volume: SecretVolume) -> None:
    assert run_once(volume.path, root, "pod-a").returncode == 0
    state = read_json(root / STATE)
    state["agents"]["\ud800"] = {"seq": 9, "expires": None}
    state["keys"][REG]["owners"]["\ud800"] = VALID_DIGEST
    (root / STATE).write_text(json.dumps(state))

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0, result.stderr
    assert kubelet_sees(root) == {REG: OURS_SEEN}


def test_an_older_agents_state_is_read_and_its_displaced_entry_restored_as_go_can_read_it(
        root: Path, volume: SecretVolume, tmp_path: Path, agents: List[Agent]) -> None:
    # An agent of the previous release kept the displaced entry parsed, and wrote 1e999 back as Infinity.
    module = agent_module()
    (root / "config.json").write_text(json.dumps({"auths": {REG: OURS}}, indent=2) + "\n")
    ours = module.digest(OURS)
    (root / STATE).write_text(json.dumps({
        "version": 1, "created_config": False, "next_seq": 2,
        "agents": {"old-pod": {"seq": 1, "expires": 1.0}},  # a wall-clock lease that ran out long ago
        "keys": {REG: {"owners": {"old-pod": ours}, "written": [ours],
                       "displaced": {"auth": FOREIGN["auth"], "n": float("inf")}}},
        "abandoned": {}}))

    agent = start(volume, root, tmp_path, agents, owner="new-pod")

    agent.wait_for_log("expire-owner owner=old-pod")
    assert "state-corrupt" not in agent.log() and "hand-edited" not in agent.log()
    assert agent.terminate() == 0
    assert json.loads((root / "config.json").read_text().replace("1e999", "0")) == {
        "auths": {REG: {"auth": FOREIGN["auth"], "n": 0}}}
    assert kubelet_sees(root) == {REG: ("someone", "input-Foreign-pw!", "")}
    assert "Infinity" not in (root / "config.json").read_text()


def test_creating_config_json_beside_a_dockercfg_warns_that_it_is_shadowed(root: Path, volume: SecretVolume) -> None:
    (root / ".dockercfg").write_text(json.dumps({"legacy.example": FOREIGN}))

    result = run_once(volume.path, root, "pod-a")

    assert result.returncode == 0
    assert "WARNING dockercfg-shadowed file=.dockercfg" in result.stderr
    assert (root / ".dockercfg").read_text() == json.dumps({"legacy.example": FOREIGN})
    assert os.path.exists(root / "config.json")


@pytest.mark.parametrize("value, auth_added", [
    ('{"auth": "%s", "identitytoken": {"a": [1, 1e999]}, "n": null}' % OURS["auth"], False),
    ('{"username": "robot", "password": "input-S3cret-pw!", "x": [] }', True),
], ids=["with-auth", "auth-added"])
def test_a_source_entry_holding_other_json_is_copied_byte_for_byte(root: Path, tmp_path: Path, value: str,
                                                                   auth_added: bool) -> None:
    src = tmp_path / "src.json"
    src.write_text('{"auths": {"%s": %s}}' % (REG, value))

    first = run_once(src, root, "pod-a")
    second = run_once(src, root, "pod-a")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr
    written = (root / "config.json").read_text()
    expected = value[:-1] + ',"auth":"%s"}' % OURS["auth"] if auth_added else value
    assert expected in written
    assert kubelet_sees(root) == {REG: OURS_SEEN}
    assert "hand-edited" not in second.stderr and "config=unchanged" in second.stderr


# (id, source text, exit code, what the kubelet then takes for REG): the source is read as the kubelet reads a pull
# Secret (secrets.go: the same DockerConfigJSON type), so odd-but-valid sources work and invalid ones change nothing.
SOURCES = [
    ("lone-surrogate-password", '{"auths": {"%s": {"username": "robot", "password": "pw\\ud800"}}}' % REG, 0,
     ("robot", "pw\ufffd", "")),
    ("deep-unknown-field", '{"auths": {"%s": {"auth": "%s", "x": %s}}}' % (REG, OURS["auth"], "[" * 9000 + "]" * 9000),
     0, OURS_SEEN),
    ("Auths-and-null-fields", '{"Auths": {"%s": {"auth": "%s", "email": null}}}' % (REG, OURS["auth"]), 0, OURS_SEEN),
    ("too-deep", '{"auths": {"%s": {"auth": "%s", "x": %s}}}' % (REG, OURS["auth"], "[" * 10_000 + "]" * 10_000),
     1, None),
    ("nan", '{"auths": {"%s": {"auth": "%s", "x": NaN}}}' % (REG, OURS["auth"]), 1, None),
    ("bom", '\ufeff{"auths": {"%s": {"auth": "%s"}}}' % (REG, OURS["auth"]), 1, None),
    ("auths-null-at-the-end", '{"auths": {"%s": {"auth": "%s"}}, "auths": null}' % (REG, OURS["auth"]), 1, None),
    ("username-not-a-string", '{"auths": {"%s": {"auth": "%s", "username": 7}}}' % (REG, OURS["auth"]), 1, None),
]


@pytest.mark.parametrize("name, text, code, seen", SOURCES, ids=[s[0] for s in SOURCES])
def test_the_source_is_read_as_the_kubelet_reads_a_pull_secret(root: Path, tmp_path: Path, name: str, text: str,
                                                               code: int, seen: object) -> None:
    src = tmp_path / "src.json"
    src.write_text(text, encoding="utf-8")

    result = run_once(src, root, "pod-a")

    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    if seen is None:
        assert "sync-failed" in result.stderr and not (root / "config.json").exists()
    else:
        assert kubelet_sees(root) == {REG: seen}
