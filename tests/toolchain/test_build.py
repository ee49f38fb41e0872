"""The real-engine toolchain's builder: keys, refusals, pins, and the linked bin directory (no Go run here)."""

import dataclasses
from pathlib import Path

import pytest

from toolchain import build, pins

REFUSALS = [
    # go's own words when the proxy refuses an exact version, a version list, or a version inside a module graph
    ("go: github.com/pulumi/pulumi-random/provider/v4@v4.0.0-20260128034448-cf143e6acc9c: reading "
     "https://proxy.golang.org/github.com/pulumi/pulumi-random/provider/v4/@v/v4.0.0-20260128034448-cf143e6acc9c.info:"
     " 403 Forbidden", "refused by the Go module proxy: github.com/pulumi/pulumi-random/provider/v4@"
     "v4.0.0-20260128034448-cf143e6acc9c"),
    ("go: github.com/pulumi/pulumi-yaml@v1.39.0: invalid version: reading https://proxy.golang.org/github.com/pulumi/"
     "pulumi-yaml/@v/v1.39.0.info: 404 Not Found", "refused by the Go module proxy: github.com/pulumi/pulumi-yaml@v1.39.0"),
    ("go: module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3: reading https://proxy.golang.org/"
     "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3/@v/list: 403 Forbidden",
     "refused by the Go module proxy: github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 "
     "(no version served)"),
]


@pytest.mark.parametrize("output, message", REFUSALS)
def test_a_refusal_names_the_module_and_version_refused(output, message, tmp_path):
    assert build._explain_go_failure("go: downloading x\n" + output, tmp_path / "log").startswith(message)


def test_any_other_go_failure_shows_its_last_lines_and_the_log(tmp_path):
    text = build._explain_go_failure("a\n" * 30 + "main.go:3: undefined: provider.Serve", tmp_path / "b.log")
    assert "undefined: provider.Serve" in text and str(tmp_path / "b.log") in text and text.count("a\n") < 16


def test_keys_change_with_their_own_recipe_and_pins_only(monkeypatch):
    gover = "go1.26.8"
    before = {c.name: c.key(gover) for c in build.COMPONENTS}
    assert len(set(before.values())) == len(before)
    assert all(key.startswith(f"{c.name}-{c.version}-{gover}-") for c, key in zip(build.COMPONENTS, before.values()))
    assert {c.name: c.key(gover) for c in build.COMPONENTS} == before  # stable
    assert {c.name: c.key("go1.27.3") for c in build.COMPONENTS} != before  # a new Go rebuilds everything

    monkeypatch.setitem(build.PINS, "KWOK_VERSION", "v0.9.0")
    after = {c.name: c.key(gover) for c in build.COMPONENTS}
    assert [n for n in before if before[n] != after[n]] == ["kwok"]

    monkeypatch.setitem(build.PINS, "PULUMI_RANDOM_SDK_PY", "9.9.9")  # read in single quotes or double
    assert [n for n in before if before[n] != {c.name: c.key(gover) for c in build.COMPONENTS}[n]] == [
        "pulumi-resource-random-standin", "kwok"]


def test_a_changed_source_of_ours_changes_only_its_component(tmp_path):
    source = tmp_path / "main.go"
    source.write_text("package main\n")
    component = build.Component("standin", "1.0", ["x"], build.build_random_standin, [source])
    key = component.key("go1.26.8")
    source.write_text("package main // changed\n")
    assert component.key("go1.26.8") != key
    assert dataclasses.replace(component, sources=()).key("go1.26.8") != key


VERSION_FILES = [
    ("# a comment\n\nA=1\nB_2=v1.2.3\n", {"A": "1", "B_2": "v1.2.3"}),
    ("A=\n", {"A": ""}),
]


@pytest.mark.parametrize("text, expected", VERSION_FILES)
def test_versions_file_lines(text, expected, tmp_path):
    path = tmp_path / "versions.env"
    path.write_text(text)
    assert pins.read_versions(path) == expected


@pytest.mark.parametrize("line", ["A = 1", "a=1", "export A=1", "A=1 2"])
def test_versions_file_refuses_what_bash_and_python_would_read_differently(line, tmp_path):
    path = tmp_path / "versions.env"
    path.write_text(f"OK=1\n{line}\n")
    with pytest.raises(SystemExit, match=":2: expected KEY=value"):
        pins.read_versions(path)


def test_the_repository_pins_every_version_the_recipes_read():
    pinned = pins.read_versions()
    for component in build.COMPONENTS:
        assert component.version in pinned.values(), component.name
    assert build.PINS == pinned


def test_link_all_hard_links_every_binary_once_per_set_of_keys(tmp_path):
    dirs = {}
    for name in ("a", "b"):
        directory = tmp_path / "bin" / name
        directory.mkdir(parents=True)
        (directory / f"tool-{name}").write_text(name)
        dirs[name] = directory
    first = build.link_all(tmp_path, dirs)
    assert sorted(p.name for p in first.iterdir()) == ["tool-a", "tool-b"]
    assert (first / "tool-a").stat().st_ino == (dirs["a"] / "tool-a").stat().st_ino
    assert build.link_all(tmp_path, dirs) == first  # found, not rebuilt
    assert not list(Path(tmp_path / "toolchains").glob(".*partial"))


def test_check_builds_nothing_and_says_what_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGCREDS_ENGINE_CACHE", str(tmp_path))
    monkeypatch.setattr(build, "go_version", lambda: "go1.26.8")
    assert build.main(["--check"]) == 3
    err = capsys.readouterr().err
    assert "not built: pulumi," in err and "run bash scripts/toolchain" in err
    assert not (tmp_path / "bin").exists() or not any((tmp_path / "bin").iterdir())


def test_an_unknown_component_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REGCREDS_ENGINE_CACHE", str(tmp_path))
    assert build.main(["--only", "nope"]) == 2
    assert "unknown component" in capsys.readouterr().err
