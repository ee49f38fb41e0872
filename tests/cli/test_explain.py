"""`explain` and the preview diagnostics: which key serves which image, and warnings before pods fail."""

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from registry_credentials import RegistryCredentials
from registry_credentials.cli.mockrun import run_program
from registry_credentials.credentials.coverage import explain, pod_spec_images
from support.stack import PROJECT_DIR


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "registry_credentials", "explain", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=60)


# (image, lines expected in explain's output for the dev stack)
DEV_STACK = [
    ("nginx:1.27", ["nginx:1.27 -> docker.io/library/nginx",
                    "pod Secret: https://index.docker.io/v1/ (Docker Hub fallback) [registries[1] (docker.io) user "
                    "'example-ci']"]),
    ("example/app@sha256:" + "a" * 64, ["-> docker.io/example/app", "pod Secret: https://index.docker.io/v1/"]),
    ("harbor.dev.example.com/team/app:1.0", ["-> harbor.dev.example.com/team/app",
                                             "pod Secret: harbor.dev.example.com [registries[0] "
                                             "(harbor.dev.example.com) user 'robot$dev+puller']"]),
]


@pytest.mark.parametrize("image, lines", DEV_STACK, ids=[i for i, _ in DEV_STACK])
def test_explain_dev_stack_covered_images(image, lines):
    result = cli("--stack", "dev", image)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in lines:
        assert line in result.stdout
    assert "node file" not in result.stdout  # node bootstrap is off in dev


@pytest.mark.parametrize("image", ["quay.io/prometheus/node-exporter:v1", "harbor.dev.example.com:443/team/app",
                                   "harbor.example.com/team/app"])
def test_explain_exits_non_zero_when_an_image_would_be_pulled_anonymously(image):
    result = cli("--stack", "dev", "nginx", image)
    assert result.returncode == 1
    assert f"{image} -> " in result.stdout and "anonymous: no configured key matches this image" in result.stdout


def test_explain_rejects_invalid_references():
    result = cli("--stack", "dev", "Nginx:latest")
    assert result.returncode == 3 and "not a valid image reference" in result.stdout


def test_explain_prod_stack_shows_node_file_too():
    result = cli("--stack", "prod", "harbor.example.com/payments/api:3")
    assert result.returncode == 0
    assert "  pod Secret: harbor.example.com" in result.stdout and "  node file: harbor.example.com" in result.stdout


def test_explain_keys_flags_keys_that_never_match(tmp_path: Path):
    node_file = tmp_path / "config.json"
    node_file.write_text(json.dumps({"auths": {"registry-1.docker.io": {"auth": "eDp5"}}}))
    result = cli("--key", "hub.docker.com", "--key", "docker.io/library", "--key", "https://index.docker.io/v1/",
                 "--node-file", str(node_file), "nginx", "myorg/app")
    assert result.returncode == 0
    assert "nginx -> docker.io/library/nginx\n  pod Secret: docker.io/library\n" in result.stdout
    assert "myorg/app -> docker.io/myorg/app\n  pod Secret: https://index.docker.io/v1/ (Docker Hub fallback)\n" \
        in result.stdout
    assert "key 'hub.docker.com' (not-docker-hub)" in result.stdout
    assert "key 'registry-1.docker.io' (not-docker-hub)" in result.stdout
    assert "key 'https://index.docker.io/v1/' (shadowed)" in result.stdout


def test_explain_orders_pod_secret_before_node_file_and_longest_prefix_first():
    result = explain(["r.io", "r.io/team"], ["r.io"], "r.io/team/app:1")
    assert (result.pod, result.node) == (("r.io/team", "r.io"), ("r.io",))


def test_pod_spec_images_reads_every_container_list():
    spec = {"initContainers": [{"image": "a"}], "containers": [{"image": "b"}, {"name": "no-image"}],
            "ephemeralContainers": [{"image": "c"}]}
    assert list(pod_spec_images(spec)) == ["a", "b", "c"]


REGISTRIES = [{"server": "harbor.example.com", "username": "u", "password": "Pw-S3cret"}]


def test_preview_warns_about_a_shadowed_docker_hub_key():
    registries = [{"server": "docker.io/library", "username": "a", "password": "p1"},
                  {"server": "docker.io", "username": "b", "password": "p2"}]
    run = run_program(lambda: RegistryCredentials("rc", {"registries": registries, "namespaces": []}))
    assert any("'https://index.docker.io/v1/'" in w and "never tried" in w for w in run.warnings)
    assert not any("p1" in w or "p2" in w for w in run.warnings)


def test_preview_warns_about_a_docker_hub_lookalike_key():
    registries = [{"server": "*.docker.io", "username": "a", "password": "p1"}]
    run = run_program(lambda: RegistryCredentials("rc", {"registries": registries, "namespaces": []}))
    assert any("'*.docker.io'" in w and "never matches a Docker Hub image" in w for w in run.warnings)


def workloads_program(image: str, namespace: str = "apps"):
    def program():
        rc = RegistryCredentials("rc", {"registries": REGISTRIES, "namespaces": [{"name": "apps"}]})
        pulumi.runtime.register_resource_transform(rc.image_check_transform())
        k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": namespace}, spec={
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": image}]}},
        })
    return program


def test_preview_warns_when_a_workload_in_a_managed_namespace_uses_an_uncovered_image():
    run = run_program(workloads_program("quay.io/team/web:1"), run_transforms=True)
    (warning,) = [w for w in run.warnings if "quay.io/team/web:1" in w]
    assert warning.startswith("Deployment apps/web: image quay.io/team/web:1 matches none")


@pytest.mark.parametrize("image, namespace", [("harbor.example.com/team/web:1", "apps"),
                                              ("quay.io/team/web:1", "elsewhere")])
def test_no_warning_for_covered_images_or_unmanaged_namespaces(image, namespace):
    run = run_program(workloads_program(image, namespace), run_transforms=True)
    assert not [w for w in run.warnings if "web" in w]
