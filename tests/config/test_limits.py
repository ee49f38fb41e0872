"""Every limit the preview enforces, from its one home, on both sides of its boundary: at the limit a configuration
is accepted, one past it refused with a message naming the field.

Homes: the Kubernetes name limits in checks/names.py (the API server's, kubernetes/apimachinery
pkg/util/validation/validation.go), the
node settings' own in node/settings.py, and the node agent's in node/agent.py, which the preview reads
(node/script.py agent_constants) so it refuses what the agent would refuse. The agent's side of its limits is
tested in tests/node/test_node_agent_limits.py; the Secret's size in tests/credentials/test_dockerconfig.py; the
credentials check's in tests/verify. What the commands read (files, standard input, stack files) is at the end.
"""

import io
import json
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from registry_credentials.checks import names
from registry_credentials.checks.files import MAX_FILE_BYTES, read_file, read_stdin
from registry_credentials.cli.main import MAX_NODE_FILE_BYTES
from registry_credentials.config.checker import check_args
from registry_credentials.config.stack_files import MAX_DEPTH, MAX_NODES, load_stack
from registry_credentials.credentials.dockerconfig import MAX_SECRET_BYTES
from registry_credentials.credentials.registries import render_dockerconfigjson
from registry_credentials.errors import ConfigError
from registry_credentials.node import settings as node_settings
from registry_credentials.node.script import agent_constants
from support.agent import agent_module

AGENT = agent_module()
LIMITS = agent_constants()


def registries(count: int = 1, password: str = "pw") -> List[Dict[str, Any]]:
    return [{"server": f"r{i}.example.com", "username": "u", "password": password} for i in range(count)]


def rotating(entries: int) -> List[Dict[str, Any]]:
    """Registries whose node file holds `entries` credentials: the last registry is in a rotation window."""
    items = registries(entries - 1)
    items[-1] = {**items[-1], "previous": {"username": "old", "password": "old-pw", "until": WINDOW_END}}
    return items


WINDOW_END = "2999-12-31"
"""A rotation window that is live whatever today is."""


def config(**settings: Any) -> Dict[str, Any]:
    return {"registries": registries(), "namespaces": [{"name": "apps"}], "verify": "off", **settings}


def node(**settings: Any) -> Dict[str, Any]:
    return config(node_bootstrap={"enabled": True, **settings})


def subdomain(length: int) -> str:
    """A valid DNS subdomain of exactly `length` characters (labels of at most 63)."""
    labels, left = [], length
    while left > 0:
        size = min(63, left if left <= 63 else left - 2)  # never leave a label of zero characters
        labels.append("a" * size)
        left -= size + 1
    text = ".".join(labels)
    assert len(text) == length
    return text


def items_password(total: int) -> str:
    """A password that makes the rendered source of one registry hold exactly `total` JSON items."""
    base = json.dumps({"auths": {"r0.example.com": {"username": "u", "password": "", "auth": "x"}}},
                      separators=(",", ":"))
    overhead = sum(base.count(c) for c in "{[,:")  # base64 (the auth) holds none of them
    return "," * (total - overhead)


Case = Tuple[str, Callable[[int], Dict[str, Any]], int, str]
"""(limit, the configuration at a given size, the limit's value from its home, the field the refusal names)."""

CASES: List[Case] = [
    ("namespace name", lambda n: config(namespaces=[{"name": "a" * n}]), names.MAX_DNS_LABEL, "namespaces[0].name"),
    ("secret name", lambda n: config(secret_name=subdomain(n)), names.MAX_DNS_SUBDOMAIN, "secret_name"),
    ("ServiceAccount name", lambda n: config(namespaces=[{"name": "apps", "service_accounts": [subdomain(n)]}]),
     names.MAX_DNS_SUBDOMAIN, "namespaces[0].service_accounts[0]"),
    ("patched ServiceAccount name",
     lambda n: config(namespaces=[{"name": "apps", "patch_service_accounts": [subdomain(n)]}]),
     names.MAX_DNS_SUBDOMAIN, "namespaces[0].patch_service_accounts[0]"),
    ("node namespace", lambda n: node(namespace="a" * n), names.MAX_DNS_LABEL, "node_bootstrap.namespace"),
    ("node agent name", lambda n: node(name="a" * n), names.MAX_DNS_LABEL, "node_bootstrap.name"),
    ("priority class", lambda n: node(priority_class_name=subdomain(n)), names.MAX_DNS_SUBDOMAIN,
     "node_bootstrap.priority_class_name"),
    ("node selector key name", lambda n: node(node_selector={"k" * n: "v"}), names.MAX_QUALIFIED_NAME,
     "node_bootstrap.node_selector"),
    ("node selector key prefix", lambda n: node(node_selector={f"{subdomain(n)}/k": "v"}), names.MAX_DNS_SUBDOMAIN,
     "node_bootstrap.node_selector"),
    ("node selector value", lambda n: node(node_selector={"k": "v" * n}), names.MAX_LABEL_VALUE,
     "node_bootstrap.node_selector['k']"),
    ("toleration key name", lambda n: node(tolerations=[{"key": "k" * n, "operator": "Exists"}]),
     names.MAX_QUALIFIED_NAME, "node_bootstrap.tolerations[0].key"),
    ("toleration key prefix", lambda n: node(tolerations=[{"key": f"{subdomain(n)}/k", "operator": "Exists"}]),
     names.MAX_DNS_SUBDOMAIN, "node_bootstrap.tolerations[0].key"),
    ("toleration value", lambda n: node(tolerations=[{"key": "k", "value": "v" * n}]), names.MAX_LABEL_VALUE,
     "node_bootstrap.tolerations[0].value"),
    ("shortest interval", lambda n: node(interval_seconds=node_settings.MIN_INTERVAL * 2 - n),
     node_settings.MIN_INTERVAL, "node_bootstrap.interval_seconds"),
    ("longest interval", lambda n: node(interval_seconds=n), int(LIMITS["MAX_INTERVAL"]),
     "node_bootstrap.interval_seconds"),
    ("surge count", lambda n: node(max_surge=str(n)), node_settings.MAX_SURGE_NODES, "node_bootstrap.max_surge"),
    ("surge percentage", lambda n: node(max_surge=f"{n}%"), 100, "node_bootstrap.max_surge"),
    ("registries the agent takes", lambda n: node() | {"registries": registries(n)}, LIMITS["MAX_SOURCE_ENTRIES"],
     "registries"),
    # During a rotation window the node file holds each outgoing credential too, under a second key: the agent
    # takes current + previous entries, so a window counts against the same limit.
    ("registries the agent takes, one rotating", lambda n: node() | {"registries": rotating(n)},
     LIMITS["MAX_SOURCE_ENTRIES"], "registries"),
    ("JSON items the agent reads", lambda n: node() | {"registries": [
        {"server": "r0.example.com", "username": "u", "password": items_password(n)}]},
     LIMITS["MAX_JSON_ITEMS"], "registries"),
]


def refusal(settings: Dict[str, Any]) -> Optional[str]:
    try:
        check_args(settings, "rc")
    except ConfigError as err:
        return str(err)
    return None


@pytest.mark.parametrize("limit, build, value, field", CASES, ids=[c[0] for c in CASES])
def test_each_limit_accepts_its_value_and_refuses_one_past_it(limit, build, value, field):
    assert refusal(build(value)) is None
    refused = refusal(build(value + 1))
    assert refused is not None and refused.startswith(f"{field}: "), refused


def test_the_shortest_interval_is_the_components_own_and_above_the_agents():
    # The agent takes from MIN_INTERVAL (0.1 s); the component asks for at least 5 s between syncs of every node.
    assert node_settings.MIN_INTERVAL >= LIMITS["MIN_INTERVAL"]


def test_the_agent_takes_a_whole_secret():
    # Any Secret the API server accepts fits the agent's byte cap, so only the count and item caps bite at preview.
    assert LIMITS["MAX_SOURCE_BYTES"] >= MAX_SECRET_BYTES


def rendered_source(count: int, password: str) -> bytes:
    """What the component renders for `count` registries sharing `password`."""
    return render_dockerconfigjson(registries(count, password)).encode()


@pytest.mark.parametrize("count, password", [
    (LIMITS["MAX_SOURCE_ENTRIES"], "pw"),
    (LIMITS["MAX_SOURCE_ENTRIES"] + 1, "pw"),
    (1, items_password(LIMITS["MAX_JSON_ITEMS"])),
    (1, items_password(LIMITS["MAX_JSON_ITEMS"] + 1)),
    (2, ":" * 49_990),
])
def test_the_preview_refuses_exactly_what_the_agent_refuses(tmp_path, count, password):
    source = rendered_source(count, password)
    path = tmp_path / "source"
    path.write_bytes(source)
    try:
        AGENT.load_source(str(path))
        agent_refuses = False
    except AGENT.SourceError:
        agent_refuses = True
    preview = refusal(node() | {"registries": registries(count, password)})
    assert (preview is not None) is agent_refuses, preview


def test_a_lower_agent_byte_cap_is_refused_at_preview_too(monkeypatch):
    # The agent's constants are read from its source: lower its byte cap and the preview follows it.
    source = rendered_source(1, "pw")
    lowered = {**LIMITS, "MAX_SOURCE_BYTES": len(source)}
    monkeypatch.setattr(node_settings, "agent_constants", lambda: lowered)
    node_settings.check_agent_source("registries", 1, source.decode())
    lowered["MAX_SOURCE_BYTES"] = len(source) - 1
    with pytest.raises(ConfigError, match="at most"):
        node_settings.check_agent_source("registries", 1, source.decode())


def test_every_agent_limit_is_read_from_the_agent():
    # Arithmetic constants too (`1024 * 1024 + 64 * 1024`, `2 * MAX_JSON_ITEMS`): a literal-only reader missed them.
    limits = {name for name in vars(AGENT) if name.startswith(("MAX_", "MIN_"))}
    assert {name: LIMITS[name] for name in limits} == {name: getattr(AGENT, name) for name in limits}


@pytest.mark.parametrize("length", [names.MAX_LABEL_VALUE, names.MAX_LABEL_VALUE + 1, 300])
def test_a_component_name_becomes_a_label_value_of_at_most_the_limit(length):
    label = names.label_value("a" * length)
    assert names.is_label_value(label) and (label == "a" * length) is (length <= names.MAX_LABEL_VALUE)


# ------------------------------------------------------------------------------------ what the commands read

def test_a_file_is_read_up_to_its_limit_and_refused_one_byte_past_it(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_file(path, "f", 100) == b"x" * 100
    with pytest.raises(ConfigError, match="f .*: is 100 bytes, more than the 99 allowed"):
        read_file(path, "f", 99)


def test_standard_input_is_read_up_to_its_limit_and_refused_one_byte_past_it(monkeypatch):
    for limit, refused in ((100, False), (99, True)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 100)))
        if refused:
            with pytest.raises(ConfigError, match="more than the 99 bytes allowed"):
                read_stdin("in", limit)
        else:
            assert read_stdin("in", limit) == b"x" * 100


def padded_json(document: Any, size: int) -> bytes:
    text = json.dumps(document).encode()
    return text + b" " * (size - len(text))


@pytest.mark.parametrize("past", [0, 1])
def test_verify_reads_config_json_up_to_the_file_limit(past):
    config = {"p:registries": {"value": json.dumps([{"name": "h", "server": "127.0.0.1:1", "username": "u",
                                                      "verify": "off"}])}, "p:passwords": {"value": '{"h": "pw"}'}}
    result = subprocess.run([sys.executable, "-m", "registry_credentials", "verify", "--stack", "s", "--config-json",
                             "-"], input=padded_json(config, MAX_FILE_BYTES + past), capture_output=True, timeout=60)
    assert result.returncode == (2 if past else 0), result.stderr
    assert (b"more than the 4194304 bytes allowed" in result.stderr) is bool(past)


@pytest.mark.parametrize("past", [0, 1])
def test_explain_reads_a_node_file_up_to_its_limit(tmp_path, past):
    node_file = tmp_path / "config.json"
    node_file.write_bytes(padded_json({"auths": {"harbor.example.com": {"auth": "dTpw"}}}, MAX_NODE_FILE_BYTES + past))
    result = subprocess.run([sys.executable, "-m", "registry_credentials", "explain", "--node-file", str(node_file),
                             "harbor.example.com/app"], capture_output=True, text=True, timeout=60)
    assert result.returncode == (2 if past else 0), result.stderr
    assert ("more than the" in result.stderr) is bool(past)


def stack_with(tmp_path, value: str):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text(f"config:\n  p:x: {value}\n")
    return lambda: load_stack(tmp_path, "s")


@pytest.mark.parametrize("past", [0, 1])
def test_a_stack_file_is_read_up_to_its_nesting_limit(tmp_path, past):
    # The document is level 0, `config` 1, the value 2: lists nested k deep end at level k + 1.
    lists = MAX_DEPTH - 1 + past
    load = stack_with(tmp_path, "[" * lists + "]" * lists)
    if past:
        with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
            load()
    else:
        load()


@pytest.mark.parametrize("past", [0, 1])
def test_a_stack_file_is_read_up_to_its_value_limit(tmp_path, past):
    # The document, `config` and the list are three values; aliases make the rest cheap to write.
    width = 1000
    copies, rest = divmod(MAX_NODES - 3 + past, width + 1)
    anchor = f"&a [{', '.join(['0'] * width)}]"
    items = [anchor] + ["*a"] * (copies - 1) + ["0"] * rest
    load = stack_with(tmp_path, f"[{', '.join(items)}]")
    if past:
        with pytest.raises(ConfigError, match=f"more than {MAX_NODES} values"):
            load()
    else:
        load()
