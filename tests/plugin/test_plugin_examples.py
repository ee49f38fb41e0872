"""The YAML and TypeScript examples use only what the committed schema declares (no Pulumi CLI here to run them)."""

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "provider" / "schema.json").read_text())
TOKEN = "registry-credentials:index:RegistryCredentials"
RESOURCE = SCHEMA["resources"][TOKEN]


def problems(value: Any, spec: Dict[str, Any], where: str) -> List[str]:
    """Every place where `value` does not fit the schema property `spec` (unknown keys, missing required ones)."""
    if "$ref" in spec:
        ref = spec["$ref"].split("/")[-1]
        spec = SCHEMA["types"][ref]
        if "enum" in spec:
            values = sorted(e["value"] for e in spec["enum"])
            return [] if value in values or _expression(value) else [f"{where}: {value!r} is not one of {values}"]
    if _expression(value):
        return []
    kind = spec.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value) for p in problems(item, spec["items"], f"{where}[{i}]")]
    if kind == "object" and "properties" in spec:
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        found = [f"{where}.{k}: not in the schema" for k in value if k not in spec["properties"]]
        found += [f"{where}.{k}: required" for k in spec.get("required", []) if k not in value]
        for key, item in value.items():
            if key in spec["properties"]:
                found += problems(item, spec["properties"][key], f"{where}.{key}")
        return found
    expected = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}.get(kind)
    return [] if expected is None or isinstance(value, expected) else [f"{where}: expected {kind}"]


def _expression(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("${") or value == "<expr>")


def check_inputs(inputs: Dict[str, Any]) -> List[str]:
    component = {"type": "object", "properties": RESOURCE["inputProperties"], "required": RESOURCE["requiredInputs"]}
    return problems(inputs, component, "properties")


def yaml_program() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())


def typescript_args(source: str) -> Dict[str, Any]:
    """The object literal passed to `new registryCredentials.RegistryCredentials(name, {...})`, as data."""
    start = source.index("{", source.index("new registryCredentials.RegistryCredentials("))
    depth = 0
    for end, char in enumerate(source[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            break
    literal = re.sub(r"//[^\n]*", "", source[start : end + 1])
    literal = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', literal)
    # Anything that is not a literal (config.requireSecret(...), a variable) is an expression the schema cannot judge.
    literal = re.sub(r':\s*(?!true\b|false\b)[A-Za-z_][\w.]*(\([^()]*\))?', ': "<expr>"', literal)
    return json.loads(re.sub(r",\s*([}\]])", r"\1", literal))


def test_the_schema_checker_rejects_a_misspelt_property():
    bad = {"registries": [{"server": "h", "user": "u", "password": "p"}], "namespaces": [{"name": "a"}]}
    assert check_inputs(bad) == ["properties.registries[0].user: not in the schema",
                                 "properties.registries[0].username: required"]
    assert check_inputs({"namespaces": [{"name": "a", "foreignPullSecrets": "maybe"}]}) == [
        "properties.registries: required",
        "properties.namespaces[0].foreignPullSecrets: 'maybe' is not one of ['fail', 'keep']",
    ]


def test_yaml_example_uses_the_plugin_package_and_only_schema_properties():
    program = yaml_program()
    assert (ROOT / "examples" / "yaml" / program["packages"]["registry-credentials"] / "PulumiPlugin.yaml").is_file()
    ours = {n: r for n, r in program["resources"].items() if r["type"] == TOKEN}
    assert ours, "the example declares no RegistryCredentials"
    for resource in ours.values():
        assert check_inputs(resource["properties"]) == []
    used = _outputs_used(yaml.safe_dump(program), r"\$\{(%s)\.(\w+)" % "|".join(ours))
    assert used and used <= set(RESOURCE["properties"])


def test_typescript_example_uses_the_generated_sdk_and_only_schema_properties():
    source = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    project = yaml.safe_load((ROOT / "examples" / "typescript" / "Pulumi.yaml").read_text())
    assert (ROOT / "examples" / "typescript" / project["packages"]["registry-credentials"] / "__main__.py").is_file()
    assert 'from "@pulumi/registry-credentials"' in source
    assert check_inputs(typescript_args(source)) == []
    used = _outputs_used(source, r"\b(credentials)\.(\w+)")
    assert used and used <= set(RESOURCE["properties"])


@pytest.mark.parametrize("example", ["yaml/Pulumi.yaml", "typescript/index.ts"])
def test_examples_use_the_pod_level_output_instead_of_the_python_only_transform(example):
    text = (ROOT / "examples" / example).read_text()
    assert "imagePullSecrets" in _outputs_used(text, r"\b\$?\{?(credentials)\.(\w+)")


def _outputs_used(text: str, pattern: str) -> Set[str]:
    return {match.group(2) for match in re.finditer(pattern, text)}


def test_provider_directory_is_what_the_python_language_host_runs_and_installs():
    # RunPlugin runs `python <dir> <engine>` when <dir>/__main__.py exists; InstallDependencies runs
    # `pip install -r requirements.txt` in <dir> (pulumi-language-python main.go, toolchain/pip.go).
    plugin = ROOT / "provider"
    assert yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())["runtime"]["name"] == "python"
    assert "serve()" in (plugin / "__main__.py").read_text()
    requirements = [
        line.strip() for line in (plugin / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    (project,) = [(plugin / line).resolve() for line in requirements]
    pyproject = (project / "pyproject.toml").read_text()
    assert re.search(r'^name = "registry-credentials"$', pyproject, re.M)
    assert (project / "components" / "registry_credentials" / "plugin" / "provider.py").is_file()


def test_typescript_example_declares_the_component_the_yaml_example_runs():
    # The YAML example runs on the real engine (tests/e2e/test_languages.py); the TypeScript one cannot run here.
    # Both give the same properties, the password as an expression of each language.
    (yaml_inputs,) = [r["properties"] for r in yaml_program()["resources"].values() if r["type"] == TOKEN]
    typescript = typescript_args((ROOT / "examples" / "typescript" / "index.ts").read_text())
    assert yaml_inputs["registries"][0].pop("password") == "${harborPassword}"
    assert typescript["registries"][0].pop("password") == "<expr>"
    assert typescript == yaml_inputs


def test_example_projects_hold_what_their_runtimes_read():
    typescript = ROOT / "examples" / "typescript"
    assert json.loads((typescript / "tsconfig.json").read_text())["files"] == ["index.ts"]
    assert json.loads((typescript / "package.json").read_text())["main"] == "index.ts"
    python = ROOT / "examples" / "python"
    requirements = (python / "requirements.txt").read_text().split("\n")
    # The package from the built wheel in dist/, not an editable checkout.
    assert "--find-links ../../dist" in requirements and "registry-credentials" in requirements
    assert not [line for line in requirements if line.startswith("-e")]
