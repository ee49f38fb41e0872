"""`render --out DIR`: never deletes or overwrites what it did not write, keeps apply order, same bytes every run."""

import hashlib
from pathlib import Path

import pytest
import yaml

from registry_credentials.cli.render import MARKER, RENDER_ONLY, UNKNOWN_SHOWN, Manifest, write
from registry_credentials.config.stack_files import PLACEHOLDER
from registry_credentials.errors import ConfigError
from support.cli import project, run_cli, stack_text

T = "registry-credentials"
TWO_NAMESPACES = stack_text(f"{T}:namespaces: [apps, web]", namespaces=False)
ONE_NAMESPACE = stack_text(f"{T}:namespaces: [apps]", namespaces=False)


def snapshot(directory: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def render_out(root: Path, out: Path):
    return run_cli("render", "--stack", "t", "--out", str(out), cwd=root)


def test_rerender_replaces_only_its_own_files_and_removes_its_stale_ones(tmp_path):
    root = project(tmp_path, TWO_NAMESPACES)
    out = tmp_path / "out"
    first = render_out(root, out)
    assert first.returncode == 0, first.stderr
    written = sorted(p.name for p in out.iterdir() if p.name != MARKER)
    assert any("-web-" in n for n in written)
    (out / "notes.txt").write_text("mine")  # the user's file, added later
    (root / "stacks" / "Pulumi.t.yaml").write_text(ONE_NAMESPACE)
    second = render_out(root, out)
    assert second.returncode == 0, second.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "notes.txt" in names and (out / "notes.txt").read_text() == "mine"
    assert not any("-web-" in n for n in names)  # its own stale output is gone
    assert (out / MARKER).read_text().splitlines()[1:] == sorted(n for n in names if n not in (MARKER, "notes.txt"))


def test_same_bytes_run_to_run(tmp_path):
    root = project(tmp_path, stack_text(f"{T}:nodeBootstrap: {{enabled: true}}"))
    assert render_out(root, tmp_path / "a").returncode == 0
    assert render_out(root, tmp_path / "b").returncode == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    before = snapshot(tmp_path / "a")
    assert render_out(root, tmp_path / "a").returncode == 0
    assert snapshot(tmp_path / "a") == before
    streams = {run_cli("render", "--stack", "t", cwd=root).stdout for _ in range(2)}
    assert len(streams) == 1


# (id, how the path is prepared, the --out given relative to it, message)
REFUSED = [
    ("non-empty-foreign-dir", lambda out: (out.mkdir(), (out / "keep.yaml").write_text("mine")), ".",
     "is not empty"),
    ("plain-file", lambda out: out.write_text("mine"), ".", "exists and is not a directory"),
    ("parent-is-a-file", lambda out: out.write_text("mine"), "sub", "is not a directory"),
    ("foreign-marker", lambda out: (out.mkdir(), (out / MARKER).write_text("something else\n00-x.yaml\n")), ".",
     "was not written by render"),
]


@pytest.mark.parametrize("name, prepare, target, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_refuses_directories_it_does_not_own_and_loses_nothing(tmp_path, name, prepare, target, message):
    root = project(tmp_path, ONE_NAMESPACE)
    out = tmp_path / "out"
    prepare(out)
    before = snapshot(out) if out.is_dir() else out.read_bytes()
    result = render_out(root, out / target)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert (snapshot(out) if out.is_dir() else out.read_bytes()) == before


def test_never_overwrites_a_foreign_file_that_takes_one_of_its_names(tmp_path):
    root = project(tmp_path, ONE_NAMESPACE)
    out = tmp_path / "out"
    assert render_out(root, out).returncode == 0
    (root / "stacks" / "Pulumi.t.yaml").write_text(TWO_NAMESPACES)
    assert render_out(root, tmp_path / "probe").returncode == 0
    # The user drops a file under a name the next render wants (it is not in render's marker).
    taken = sorted({p.name for p in (tmp_path / "probe").iterdir()} - {p.name for p in out.iterdir()})[0]
    (out / taken).write_text("mine")
    before = snapshot(out)
    result = render_out(root, out)
    assert result.returncode == 2 and f"{taken} exists and render did not write it" in result.stderr
    assert snapshot(out) == before


def test_a_symlink_in_place_of_its_own_file_is_not_written_through(tmp_path):
    root = project(tmp_path, ONE_NAMESPACE)
    out = tmp_path / "out"
    assert render_out(root, out).returncode == 0
    own = sorted(p for p in out.iterdir() if p.name != MARKER)[0]
    target = tmp_path / "precious"
    target.write_text("mine")
    own.unlink()
    own.symlink_to(target)
    result = render_out(root, out)
    assert result.returncode == 2 and "is no longer a file render wrote" in result.stderr
    assert target.read_text() == "mine" and own.is_symlink()


def _manifests(count: int) -> list:
    return [Manifest("kubernetes:core/v1:ConfigMap", f"cm{i}", {"apiVersion": "v1", "kind": "ConfigMap",
                                                                   "metadata": {"name": f"cm-{count - i}"}})
            for i in range(count)]


@pytest.mark.parametrize("count, width", [(1, 2), (99, 2), (100, 2), (101, 3), (1000, 3), (1001, 4)])
def test_file_names_sort_in_apply_order_at_any_count(tmp_path, count, width):
    paths = write(_manifests(count), tmp_path / "out")
    names = [p.name for p in paths]
    assert sorted(names) == names  # `kubectl apply -f DIR` walks the directory in lexical order
    assert all(len(n.split("-", 1)[0]) == width for n in names)


def test_write_refuses_before_touching_anything(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "00-configmap-cm-1.yaml").write_text("mine")
    with pytest.raises(ConfigError, match="is not empty and render did not write it"):
        write(_manifests(1), out)
    assert [p.name for p in out.iterdir()] == ["00-configmap-cm-1.yaml"]


# Strings YAML 1.1 (kubectl's reader) or 1.2 (the stack files') would read as something else unless quoted.
TRICKY = ["on", "off", "yes", "no", "y", "n", "Y", "true", "False", "null", "~", "", "1", "01", "0x1f", "0o17",
          "1e3", "1_000", "1:20", ".inf", "-.5", "2001-01-01", "<<", "=", "-", "#x", "a: b", " x", "x ", "é",
          "line\u2028break", "tab\there", "multi\nline", "multi\nline ", "- item", "[1]", "{a: 1}", "'quoted'"]


@pytest.mark.parametrize("value", TRICKY)
def test_render_yaml_means_the_same_to_yaml_1_1_and_1_2_readers(value):
    from ruamel.yaml import YAML

    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"k": value}},
            "data": {value or "empty": value}}
    text = Manifest("kubernetes:core/v1:ConfigMap", "x", body).to_yaml()
    assert yaml.safe_load(text) == body, text  # YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml on go-yaml v2)
    assert YAML(typ="safe", pure=True).load(text) == body, text  # YAML 1.2, as the stack files are read


SECRET_BODY = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pull", "namespace": "apps"},
               "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": PLACEHOLDER}}
# (Pulumi type, body, why kubectl apply would do harm, or None when it creates what `pulumi up` does)
APPLYABLE = [
    ("kubernetes:core/v1:Secret", SECRET_BODY, "[secret]"),
    ("kubernetes:core/v1:ServiceAccountPatch", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": "default", "namespace": "apps"}, "imagePullSecrets": [{"name": "pull"}]}, "patches an existing object"),
    ("kubernetes:apps/v1:DaemonSet", {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                                      "spec": {"template": {"metadata": {"annotations": {"r": UNKNOWN_SHOWN}}}}},
     "[unknown until up]"),
    ("kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, None),
    ("kubernetes:core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "agent"},
                                      "data": {"node_agent.py": "print('[secret] is a word here')"}}, None),
]


@pytest.mark.parametrize("typ, body, why", APPLYABLE, ids=[t for t, _, _ in APPLYABLE])
def test_a_manifest_that_is_not_safe_to_apply_is_marked_so_no_api_server_takes_it(typ, body, why):
    text = Manifest(typ, "x", body).to_yaml()
    document = yaml.safe_load(text)
    if why is None:
        assert document["apiVersion"] == body["apiVersion"] and "NOT FOR kubectl apply" not in text
        return
    group, _, version = body["apiVersion"].rpartition("/")
    assert document["apiVersion"] == f"{group + '.' if group else ''}{RENDER_ONLY}/{version}"
    assert "NOT FOR kubectl apply: " in text and why in text.splitlines()[1]
    assert {k: v for k, v in document.items() if k != "apiVersion"} == {k: v for k, v in body.items()
                                                                         if k != "apiVersion"}


@pytest.mark.parametrize("command", [[], ["render"]])
def test_help_never_suggests_applying_the_rendered_files(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "kubectl" not in result.stdout
