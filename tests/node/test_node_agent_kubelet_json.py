"""The node agent's config.json reader against the kubelet's: one table of files, checked by Python and by Go.

Every case says what the kubelet ends up with (None: it skips the whole file). The same table is fed to the agent's
reader and to Go's encoding/json decoding into the kubelet's types (support/kubelet_oracle.py), so a wrong row
fails twice and a reader bug fails once. Sources, for each class of row:
- golang/go src/encoding/json/scanner.go: the grammar (RFC 8259 only), maxNestingDepth = 10000, nothing after the
  value; decode.go: unquote (invalid UTF-8 and lone surrogates become U+FFFD), object() (exact field name, else
  fold.go's case-insensitive match; a repeated struct field decodes into the same map, golang/go#24415; a map
  element is decoded afresh, so the last repeat wins), literalStore (null empties a map, leaves a string alone);
- kubernetes/kubernetes pkg/credentialprovider/config.go: DockerConfigJSON, DockerConfigEntry.UnmarshalJSON and
  decodeDockerConfigFieldAuth (StdEncoding when `auth` ends in "=", else RawStdEncoding; it must hold a ':';
  one bad entry fails the whole file); golang/go src/encoding/base64: CR and LF are skipped.
"""

import functools
import json
from typing import Dict, List, Optional, Tuple

import pytest

from support import kubelet_oracle
from support.agent import agent_module

AGENT = agent_module()
UP = "dTpw"  # base64("u:p")
A = f'"auth":"{UP}"'
Credentials = Dict[str, Tuple[str, str, str]]


def c(user: str = "", password: str = "", email: str = "") -> Tuple[str, str, str]:
    """One registry's credentials as the kubelet holds them."""
    return user, password, email


U = c("u", "p")
EMPTY = c()
NONE: Optional[Credentials] = None  # the kubelet rejects the file


def deep(levels: int, inner: str = "0") -> str:
    """`levels` nested arrays around inner."""
    return "[" * levels + inner + "]" * levels


# (id, file bytes, what the kubelet gets)
CASES: List[Tuple[str, bytes, Optional[Credentials]]] = [
    # repeated and case-folded keys
    ("auths-twice-merges", b'{"auths":{"a":{%s}},"auths":{"b":{%s}}}' % (A.encode(), A.encode()), {"a": U, "b": U}),
    ("Auths-alone", b'{"Auths":{"b":{%s}}}' % A.encode(), {"b": U}),
    ("auths-and-Auths-merge", b'{"auths":{"a":{"username":"x"}},"Auths":{"b":{%s}}}' % A.encode(),
     {"a": c("x"), "b": U}),
    ("AUTHS-then-auths-same-key-last-wins", b'{"AUTHS":{"b":{%s}},"auths":{"b":{"username":"2"}}}' % A.encode(),
     {"b": c("2")}),
    ("long-s-folds-to-s", '{"authſ":{"b":{%s}}}'.encode() % A.encode(), {"b": U}),
    ("escaped-key-is-decoded", b'{"\\u0061uths":{"b":{%s}}}' % A.encode(), {"b": U}),
    ("fullwidth-a-is-not-auths", '{"ａuths":{"b":{}}}'.encode(), {}),
    ("dotless-i-is-not-email", '{"auths":{"a":{"emaıl":"x"}}}'.encode(), {"a": EMPTY}),
    ("registry-twice-last-wins-whole", b'{"auths":{"a":{"username":"1"},"a":{"password":"2"}}}', {"a": c("", "2")}),
    ("field-twice-last-wins", b'{"auths":{"a":{"username":"1","username":"2","USERNAME":"3"}}}', {"a": c("3")}),
    ("Username-folds", b'{"auths":{"a":{"Username":"x","PASSWORD":"y","Email":"e"}}}', {"a": c("x", "y", "e")}),
    ("auth-overrides-username", b'{"auths":{"a":{"username":"x",%s}}}' % A.encode(), {"a": U}),
    # null
    ("null-field-keeps-earlier", b'{"auths":{"a":{%s,"auth":null}}}' % A.encode(), {"a": U}),
    ("auths-null-after-empties", b'{"auths":{"a":{"username":"x"}},"auths":null}', {}),
    ("auths-null-then-object", b'{"auths":null,"auths":{"a":{}}}', {"a": EMPTY}),
    ("auths-null-beside-other-keys", b'{"auths":null,"x":1,"HttpHeaders":{"k":"v"}}', {}),
    ("top-null", b"null", {}),
    ("top-null-spaced", b" \r\n null \t", {}),
    ("entry-null", b'{"auths":{"a":null}}', {"a": EMPTY}),
    ("headers-null-value", b'{"HttpHeaders":{"a":null}}', {}),
    ("headers-null", b'{"auths":{},"HttpHeaders":null}', {}),
    ("no-auths", b'{"credsStore":"x"}', {}),
    ("empty-object", b"{}", {}),
    # types the kubelet's structs refuse
    ("top-array", b"[]", NONE),
    ("top-string", b'"auths"', NONE),
    ("top-number", b"42", NONE),
    ("auths-array", b'{"auths":[]}', NONE),
    ("auths-string", b'{"auths":"x"}', NONE),
    ("auths-true", b'{"auths":true}', NONE),
    ("entry-number", b'{"auths":{"a":1}}', NONE),
    ("entry-array", b'{"auths":{"a":[]}}', NONE),
    ("entry-string", b'{"auths":{"a":"x"}}', NONE),
    ("username-number", b'{"auths":{"a":{"username":1}}}', NONE),
    ("email-object", b'{"auths":{"a":{"email":{}}}}', NONE),
    ("headers-number-value", b'{"HttpHeaders":{"a":1}}', NONE),
    ("headers-array", b'{"HttpHeaders":[]}', NONE),
    ("httpheaders-lowercase-folds", b'{"httpheaders":{"a":1}}', NONE),
    ("unknown-entry-field-any-json", b'{"auths":{"a":{"identitytoken":{"x":[1,2,{"y":null}]}}}}', {"a": EMPTY}),
    # numbers: never converted unless a field needs them
    ("1e999-ignored-field", b'{"auths":{"a":{"x":1e999,"y":-0.0e-5}}}', {"a": EMPTY}),
    ("1e999-top-level", b'{"auths":{},"x":1e999}', {}),
    ("big-integer", b'{"auths":{},"x":123456789012345678901234567890}', {}),
    ("NaN", b'{"auths":{},"x":NaN}', NONE),
    ("Infinity", b'{"auths":{},"x":Infinity}', NONE),
    ("-Infinity", b'{"auths":{},"x":-Infinity}', NONE),
    ("leading-zero", b'{"auths":{},"x":01}', NONE),
    ("trailing-dot", b'{"auths":{},"x":1.}', NONE),
    ("leading-dot", b'{"auths":{},"x":.5}', NONE),
    ("plus-sign", b'{"auths":{},"x":+1}', NONE),
    ("bare-minus", b'{"auths":{},"x":-}', NONE),
    ("hex", b'{"auths":{},"x":0x10}', NONE),
    # strings
    ("lone-high-surrogate", b'{"auths":{"a":{"username":"\\ud800"}}}', {"a": c("\ufffd")}),
    ("surrogate-pair", b'{"auths":{"a":{"username":"\\ud800\\udc00"}}}', {"a": c("\U00010000")}),
    ("low-then-high", b'{"auths":{"a":{"username":"\\udc00\\ud800"}}}', {"a": c("\ufffd\ufffd")}),
    ("high-high-low", b'{"auths":{"a":{"username":"\\ud800\\ud800\\udc00"}}}', {"a": c("\ufffd\U00010000")}),
    ("high-then-letter", b'{"auths":{"a":{"username":"\\ud800x"}}}', {"a": c("\ufffdx")}),
    ("surrogate-in-key", b'{"auths":{"\\udfff":{}}}', {"\ufffd": EMPTY}),
    ("escapes", b'{"auths":{"a":{"username":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"}}}', {"a": c('"\\/\b\f\n\r\té')}),
    ("latin1-byte", b'{"auths":{"a":{"username":"caf\xe9"}}}', {"a": c("caf\ufffd")}),
    ("latin1-byte-in-key", b'{"auths":{"caf\xe9":{}}}', {"caf\ufffd": EMPTY}),
    ("truncated-utf8", b'{"auths":{"a":{"username":"\xe2\x82A"}}}', {"a": c("\ufffd\ufffdA")}),
    ("utf8-encoded-surrogate", b'{"auths":{"a":{"username":"\xed\xa0\x80"}}}', {"a": c("\ufffd" * 3)}),
    ("overlong-nul", b'{"auths":{"a":{"username":"\xc0\x80"}}}', {"a": c("\ufffd" * 2)}),
    ("above-u10ffff", b'{"auths":{"a":{"username":"\xf4\x90\x80\x80"}}}', {"a": c("\ufffd" * 4)}),
    ("valid-utf8", '{"auths":{"a":{"username":"żółw"}}}'.encode(), {"a": c("żółw")}),
    ("del-byte-allowed", b'{"auths":{"a":{"username":"a\x7f"}}}', {"a": c("a\x7f")}),
    ("control-byte", b'{"auths":{"a":{"username":"a\x01"}}}', NONE),
    ("raw-newline-in-string", b'{"auths":{"a":{"username":"a\nb"}}}', NONE),
    ("bad-escape", b'{"auths":{},"x":"\\x"}', NONE),
    ("short-unicode-escape", b'{"auths":{},"x":"\\u12"}', NONE),
    ("unterminated-string", b'{"auths":{},"x":"abc}', NONE),
    ("single-quotes", b"{'auths':{}}", NONE),
    # around the value
    ("trailing-garbage", b'{"auths":{}} x', NONE),
    ("two-documents", b'{"auths":{}}{}', NONE),
    ("trailing-whitespace", b'{"auths":{}} \t\r\n', {}),
    ("empty-file", b"", NONE),
    ("whitespace-only", b" \n", NONE),
    ("utf8-bom", b'\xef\xbb\xbf{"auths":{}}', NONE),
    ("utf16", '{"auths":{}}'.encode("utf-16"), NONE),
    ("vertical-tab", b'{"auths":{}}\x0b', NONE),
    ("no-break-space", b'\xc2\xa0{"auths":{}}', NONE),
    ("trailing-comma-object", b'{"auths":{},}', NONE),
    ("trailing-comma-array", b'{"auths":{},"x":[1,]}', NONE),
    ("missing-colon", b'{"auths" {}}', NONE),
    ("unclosed", b'{"auths":{}', NONE),
    ("comment", b'{"auths":{}} // x', NONE),
    ("true-false-null-values", b'{"auths":{},"x":[true,false,null]}', {}),
    ("truncated-literal", b'{"auths":{},"x":nul}', NONE),
    # nesting: Go allows 10000 levels, counting the top-level object
    ("depth-10000", ('{"auths":{},"x":%s}' % deep(9_999)).encode(), {}),
    ("depth-10001", ('{"auths":{},"x":%s}' % deep(10_000)).encode(), NONE),
    ("depth-10000-objects", ('{"auths":{},"x":%s}' % ('{"k":' * 9_999 + "0" + "}" * 9_999)).encode(), {}),
    ("depth-10001-objects", ('{"auths":{},"x":%s}' % ('{"k":' * 10_000 + "0" + "}" * 10_000)).encode(), NONE),
    ("depth-10000-in-an-entry", ('{"auths":{"a":{"x":%s}}}' % deep(9_997)).encode(), {"a": EMPTY}),
    ("depth-10001-in-an-entry", ('{"auths":{"a":{"x":%s}}}' % deep(9_998)).encode(), NONE),
    ("depth-5000-beside-an-entry", ('{"auths":{"a":{%s}},"x":%s}' % (A, deep(5_000))).encode(), {"a": U}),
    # auth: base64 of user:password, padded or not; one bad one fails the whole file
    ("auth-not-base64", b'{"auths":{"a":{"auth":"%%%"}},"auths":{"b":{}}}', NONE),
    ("auth-no-colon", b'{"auths":{"a":{"auth":"bm9jb2xvbg=="}}}', NONE),
    ("auth-unpadded", b'{"auths":{"a":{"auth":"dTpwMQ"}}}', {"a": c("u", "p1")}),
    ("auth-padded", b'{"auths":{"a":{"auth":"dTpwMQ=="}}}', {"a": c("u", "p1")}),
    ("auth-padded-then-space", b'{"auths":{"a":{"auth":"dTpwMQ= "}}}', NONE),
    ("auth-padded-then-newline", b'{"auths":{"a":{"auth":"dTpwMQ==\\n"}}}', {"a": c("u", "p1")}),
    ("auth-newline-inside", b'{"auths":{"a":{"auth":"dTpw\\r\\ndTpw"}}}', {"a": c("u", "pu:p")}),
    ("auth-newline-in-padding", b'{"auths":{"a":{"auth":"dTpwMQ=\\n="}}}', {"a": c("u", "p1")}),
    ("auth-length-5", b'{"auths":{"a":{"auth":"dTpwM"}}}', NONE),
    ("auth-one-pad", b'{"auths":{"a":{"auth":"dTp="}}}', {"a": c("u", "")}),
    ("auth-pad-too-many", b'{"auths":{"a":{"auth":"dTpw="}}}', NONE),
    ("auth-pad-in-unpadded", b'{"auths":{"a":{"auth":"dT=w"}}}', NONE),
    ("auth-trailing-bits", b'{"auths":{"a":{"auth":"dTq="}}}', {"a": c("u", "")}),
    ("auth-newline-only", b'{"auths":{"a":{"auth":"\\n"}}}', NONE),
    ("auth-url-alphabet", b'{"auths":{"a":{"auth":"dTp-_w"}}}', NONE),
    ("auth-empty-is-absent", b'{"auths":{"a":{"auth":"","username":"x"}}}', {"a": c("x")}),
    ("AUTH-bad-folds", b'{"auths":{"a":{"AUTH":"%%"}}}', NONE),
    ("auth-bad-then-good", b'{"auths":{"a":{"auth":"%","auth":"dTpwMQ"}}}', {"a": c("u", "p1")}),
    ("auth-good-then-bad", b'{"auths":{"a":{"auth":"dTpwMQ","auth":"%"}}}', NONE),
    ("auth-bad-in-overwritten-entry", b'{"auths":{"a":{"auth":"%"},"a":{}}}', NONE),
    ("auth-bad-before-null-reset", b'{"auths":{"a":{"auth":"%"}},"auths":null}', NONE),
    ("auth-colon-in-password", b'{"auths":{"a":{"auth":"dTpwOnE="}}}', {"a": c("u", "p:q")}),
    ("auth-latin1-password", b'{"auths":{"a":{"auth":"dTr/"}}}', {"a": c("u", "\ufffd")}),
]

# (id, .dockercfg bytes, what the kubelet gets): the legacy file is the auths map itself (config.go
# ReadDockercfgFile -> ReadDockerConfigFileFromBytes, json.Unmarshal into DockerConfig).
LEGACY_CASES: List[Tuple[str, bytes, Optional[Credentials]]] = [
    ("entries", b'{"a":{%s},"b":null}' % A.encode(), {"a": U, "b": EMPTY}),
    ("null", b"null", {}),
    ("array", b"[]", NONE),
    ("wrapped-auths-is-a-bad-entry", b'{"auths":{"a":{}}}', {"auths": EMPTY}),
    ("bad-auth", b'{"a":{"auth":"%"}}', NONE),
]


def python_reads(data: bytes, legacy: bool = False) -> Optional[Credentials]:
    """What the agent's reader says the kubelet gets."""
    try:
        view = AGENT.kubelet_view(data, legacy)
    except AGENT.KubeletRejects:
        return None
    got: Credentials = {}
    for key, fields in view.fields.items():
        user, password = fields.get("username", ""), fields.get("password", "")
        if fields.get("auth"):
            user, password = AGENT.auth_credentials(fields["auth"])
        got[key] = (user, password, fields.get("email", ""))
    assert set(got) == set(view.entries)
    return got


@functools.lru_cache(maxsize=None)
def go_reads(legacy: bool) -> Dict[str, Optional[Credentials]]:
    """Go's answer for every case of a table, in one run of the oracle."""
    table = LEGACY_CASES if legacy else CASES
    answers = kubelet_oracle.read_many([data for _, data, _ in table], legacy=legacy)
    return {name: None if got is None else got["auths"] for (name, _, _), got in zip(table, answers)}


def test_case_ids_are_unique() -> None:
    names = [name for name, _, _ in CASES + LEGACY_CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name, data, expected", CASES, ids=[name for name, _, _ in CASES])
def test_reader_reads_config_json_as_the_kubelet_does(name: str, data: bytes,
                                                      expected: Optional[Credentials]) -> None:
    assert python_reads(data) == expected


@pytest.mark.parametrize("name, data, expected", CASES, ids=[name for name, _, _ in CASES])
def test_go_reads_the_table_the_same_way(name: str, data: bytes, expected: Optional[Credentials]) -> None:
    assert go_reads(False)[name] == expected


@pytest.mark.parametrize("name, data, expected", LEGACY_CASES, ids=[name for name, _, _ in LEGACY_CASES])
def test_reader_reads_dockercfg_as_the_kubelet_does(name: str, data: bytes, expected: Optional[Credentials]) -> None:
    assert python_reads(data, legacy=True) == expected
    assert go_reads(True)[name] == expected


def test_rejections_say_why_without_values() -> None:
    secret = "hunter2-S3cret"
    for data in (b'{"auths":{"a":{"username":"%s","password":1}}}' % secret.encode(),
                 b'{"auths":{"a":{"auth":"%s"}}}' % secret.encode(),
                 b'{"auths":{"a":{"password":"%s\x01"}}}' % secret.encode()):
        with pytest.raises(AGENT.KubeletRejects) as caught:
            AGENT.kubelet_view(data)
        assert secret not in str(caught.value) and str(caught.value)


@pytest.mark.parametrize("data, syntax", [(b"{", True), (b'{"a":NaN}', True), (b'{"auths":[]}', False),
                                          (b'{"auths":{"a":{"auth":"%"}}}', False), (b"[]", False)])
def test_rejections_tell_bad_json_from_a_bad_shape(data: bytes, syntax: bool) -> None:
    with pytest.raises(AGENT.KubeletRejects) as caught:
        AGENT.kubelet_view(data)
    assert caught.value.syntax is syntax


def test_the_oracle_sees_what_a_real_config_json_holds() -> None:
    # A guard on the oracle itself: a plain kubectl-style file reads back as written.
    data = json.dumps({"auths": {"r.example": {"username": "u", "password": "p", "auth": UP}},
                       "HttpHeaders": {"User-Agent": "x"}}).encode()
    assert kubelet_oracle.read(data) == {"auths": {"r.example": U}, "headers": {"User-Agent": "x"}}
