"""One style of machine output: camelCase JSON keys in every CLI (as kubectl prints), `render -o yaml|json`, and
registries named the same way by every command."""

import json
import re
import socket
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import yaml

from support.cli import project, run_cli, stack_text
from support.stack import PROJECT_DIR

CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")
# Maps whose keys are data, not field names: Kubernetes labels, annotations, Secret and ConfigMap data, selectors.
DATA_MAPS = {"labels", "annotations", "data", "stringData", "matchLabels", "nodeSelector"}


def field_names(document: Any, under: str = "") -> Iterator[str]:
    """Every key of every object in a JSON document, except the keys of data maps."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield key
            if key not in DATA_MAPS:
                yield from field_names(value, key)
    elif isinstance(document, list):
        for item in document:
            yield from field_names(item, under)


def closed_port() -> int:
    """A loopback port nothing listens on: verify finds the registry unreachable there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config_json() -> str:
    """What `pulumi config --show-secrets --json` prints for a stack with one registry on a closed loopback port."""
    return json.dumps({
        "registry-credentials:registries": {"value": json.dumps([
            {"name": "harbor", "server": f"127.0.0.1:{closed_port()}", "username": "robot"}]), "secret": False},
        "registry-credentials:passwords": {"value": json.dumps({"harbor": "not-a-real-password"}), "secret": True},
    })


# (name, argv, stdin, the exit code, a key the document must have)
JSON_COMMANDS = [
    ("explain", ["explain", "--json", "--stack", "dev", "nginx:1.27", "quay.io/x/y", "Bad:image"], None, 3,
     "keyProblems"),
    ("verify --server", ["verify", "--json", "--server", "127.0.0.1:1", "--username", "u", "--password-stdin",
                         "--timeout", "2"], "pw", 3, "exitCode"),
    ("verify --stack", ["verify", "--json", "--stack", "dev", "--config-json", "-", "--timeout", "2"], "config", 3,
     "results"),
    ("render -o json", ["render", "--stack", "prod", "-o", "json"], None, 0, "items"),
]


@pytest.mark.parametrize("name, argv, stdin, code, key", JSON_COMMANDS, ids=[c[0] for c in JSON_COMMANDS])
def test_every_json_key_is_camel_case(name, argv, stdin, code, key):
    result = run_cli(*argv, stdin=config_json() if stdin == "config" else stdin)
    assert result.returncode == code, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert key in document
    names = set(field_names(document))
    assert names and not {n for n in names if not CAMEL.fullmatch(n)}
    if "exitCode" in names:
        assert document["exitCode"] == code


def test_the_field_name_check_catches_snake_case():
    assert list(field_names({"exit_code": 1, "metadata": {"labels": {"app.kubernetes.io/name": "x"}}})) == [
        "exit_code", "metadata", "labels"]
    assert not CAMEL.fullmatch("exit_code") and CAMEL.fullmatch("exitCode")


def test_explain_and_verify_name_a_registry_the_same_way():
    explained = json.loads(run_cli("explain", "--json", "--stack", "dev", "harbor.dev.example.com/a/b").stdout)
    (found,) = explained["images"][0]["pod"]
    assert (found["registry"], found["username"]) == ("registries[0] (harbor.dev.example.com)", "robot$dev+puller")
    port = closed_port()
    verified = run_cli("verify", "--server", f"127.0.0.1:{port}", "--username", "robot$dev+puller",
                       "--password-stdin", "--timeout", "2", stdin="pw")
    text = run_cli("explain", "--stack", "dev", "harbor.dev.example.com/a/b").stdout
    # The same words in text: `<registries[i] (server)> user '<name>'`.
    assert f"registries[0] (127.0.0.1:{port}) user 'robot$dev+puller' at " in verified.stdout
    assert "[registries[0] (harbor.dev.example.com) user 'robot$dev+puller']" in text


def test_render_json_holds_the_same_objects_as_yaml_in_the_same_order():
    as_yaml = run_cli("render", "--stack", "prod")
    as_json = run_cli("render", "--stack", "prod", "-o", "json")
    assert as_yaml.returncode == as_json.returncode == 0
    documents = [d for d in yaml.safe_load_all(as_yaml.stdout) if d]
    listed = json.loads(as_json.stdout)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
    assert listed["items"] == documents and len(documents) == 8
    assert as_yaml.stderr == as_json.stderr.replace("as JSON", "as YAML")


def test_render_out_writes_json_files_and_replaces_its_own_yaml_ones(tmp_path):
    root = project(tmp_path, stack_text())
    out = tmp_path / "out"
    assert run_cli("render", "--stack", "t", "--out", str(out), cwd=root).returncode == 0
    yaml_files = sorted(p.name for p in out.glob("*.yaml"))
    again = run_cli("render", "--stack", "t", "--out", str(out), "-o", "json", cwd=root)
    assert again.returncode == 0, again.stderr
    json_files = sorted(p.name for p in out.glob("*.json"))
    assert not list(out.glob("*.yaml"))  # its own earlier files, in the other format, are gone
    assert [Path(n).stem for n in json_files] == [Path(n).stem for n in yaml_files]
    kinds = sorted(json.loads((out / name).read_text())["kind"] for name in json_files)
    assert kinds == ["Secret", "ServiceAccount"]  # each file one object, as kubectl apply -f DIR reads them


def test_render_refuses_an_unknown_output_format():
    result = run_cli("render", "--stack", "dev", "-o", "wide")
    assert result.returncode == 2 and "invalid choice: 'wide'" in result.stderr


def plan(stderr: str) -> List[str]:
    """The plan render prints on stderr: from its title line to the line about the manifests."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if "would apply (offline render" in line)
    return lines[start:]


# (project, stack, lines the plan must hold, in this order)
PLANS = [
    (PROJECT_DIR, "dev", [
        "pulumi up --stack dev would apply (offline render; nothing was sent to a cluster): 4 objects",
        "  Secret apps/registry-credentials      pull Secret: methods 2-4 in this namespace rest on it",
        "  ServiceAccount apps/default (patch)   method 3, namespace defaults: patched: lists registry-credentials",
        "off:",
        "  method 1, node level: off, as nodeBootstrap.enabled (node_bootstrap in Python) is not true: no privileged "
        "DaemonSet writes the nodes' config.json",
        "  method 2, ServiceAccounts: none; no namespace lists serviceAccounts or patchServiceAccounts",
        "stack outputs:",
        '  nodeDaemonset: ""',
        "the 4 manifests follow as YAML on stdout; --out DIR writes one file each",
    ]),
    (PROJECT_DIR, "prod", [
        "  Secret registry-credentials-node/harbor-pull                         method 1, node level: the node agent's "
        "source",
        "  DaemonSet registry-credentials-node/registry-credentials-node-agent  method 1, node level: keeps "
        "config.json on every node",
        "  dockerconfigjson: [secret]",
    ]),
    (PROJECT_DIR / "examples" / "seed", "dev", [
        "  ServiceAccount basic/service1            method 2, ServiceAccounts: created: lists docker-reader-secret",
        "  ServiceAccount defaults/default (patch)  method 3, namespace defaults: patched: adds the Secret to its list "
        "(the rest of the list is known at up)",
        "  Pod awesomeapps/foo                      method 4, pod level: it lists docker-reader-secret",
        "  Deployment basic/nginx                   method 2, ServiceAccounts: its pods run as service1, which lists "
        "the Secret",
        "  method 3, namespace defaults: off in awesomeapps, basic (defaultServiceAccount: false)",
    ]),
]


@pytest.mark.parametrize("directory, stack, expected", PLANS, ids=[f"{p[0].name}-{p[1]}" for p in PLANS])
def test_render_prints_a_plan_first_each_object_with_its_method_and_what_is_off(directory, stack, expected):
    result = run_cli("render", "--stack", stack, "--project-dir", str(directory))
    assert result.returncode == 0, result.stderr
    lines = plan(result.stderr)
    positions = [lines.index(line) for line in expected]  # each line is there, whole
    assert positions == sorted(positions)


def test_the_node_agents_log_fields_are_camel_case_too():
    # The agent logs `name=value` fields; Kubernetes' structured logs name theirs in lowerCamelCase (kubernetes/
    # community contributors/devel/sig-instrumentation/migration-to-structured-logging.md). Every field it can log:
    # the keyword names of each log() call, and the keys it adds to a field mapping.
    import ast

    source = (PROJECT_DIR / "components" / "registry_credentials" / "node" / "agent.py").read_text()
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "log":
            names.update(k.arg for k in node.keywords if k.arg)
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "fields":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    assert {"owner", "keptAs", "kubeletRoot", "skippedHandEdited"} <= names
    assert not {n for n in names if not CAMEL.fullmatch(n)}
