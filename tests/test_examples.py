"""The seed scenarios (examples/seed) render through the real program: every method reaches its pod."""

from typing import Dict, List

import pytest

from registry_credentials.cli import render
from registry_credentials.config.stack_files import load_stack
from support.platform_model import Platform
from support.records import validate_strict
from support.stack import PROJECT_DIR


@pytest.fixture(scope="module")
def seed_run():
    return render.run_stack(load_stack(PROJECT_DIR / "examples" / "seed", "dev"))


@pytest.fixture(scope="module")
def seed(seed_run) -> Dict[str, dict]:
    return _bodies(seed_run)


@pytest.fixture(scope="module")
def seed_up() -> Platform:
    """The seed deployed on the platform model: a preview, then the update phase of `pulumi up`."""
    platform = Platform(materialize_missing=True)
    config = load_stack(PROJECT_DIR / "examples" / "seed", "dev")
    render.run_stack(config, platform)
    render.run_stack(config, platform, preview=False)
    return platform


def _bodies(run) -> Dict[str, dict]:
    found: List[render.Manifest] = render.manifests(run.records)
    return {f"{m.body['kind']}/{m.body['metadata'].get('namespace', '')}/{m.logical_name}": m.body for m in found}


def pod_spec(body: dict) -> dict:
    return body["spec"] if body["kind"] == "Pod" else body["spec"]["template"]["spec"]


def test_service1_in_basic_carries_the_secret_and_nginx_runs_as_it(seed):
    account = seed["ServiceAccount/basic/seed:basic/service1"]
    assert account["imagePullSecrets"] == [{"name": "docker-reader-secret"}]
    nginx = pod_spec(seed["Deployment/basic/nginx"])
    assert nginx["serviceAccountName"] == "service1"
    assert "imagePullSecrets" not in nginx  # else the ServiceAccount's list would be ignored


def test_default_service_account_of_a_namespace_is_patched_and_hello_names_no_account(seed, seed_up):
    patch = seed["ServiceAccount/defaults/seed:defaults/default"]
    assert patch["metadata"]["name"] == "default"
    # `defaults` is created by the same deployment: a first preview cannot read its ServiceAccount yet.
    assert patch["imagePullSecrets"] == render.UNKNOWN_SHOWN
    live = seed_up.cluster.get(("ServiceAccount", "defaults", "default")).body()
    assert live["imagePullSecrets"] == [{"name": "docker-reader-secret"}]
    hello = pod_spec(seed["Deployment/defaults/hello"])
    assert "serviceAccountName" not in hello and "imagePullSecrets" not in hello


def test_pod_foo_in_awesomeapps_lists_the_secret(seed):
    assert pod_spec(seed["Pod/awesomeapps/foo"])["imagePullSecrets"] == [{"name": "docker-reader-secret"}]


def test_deployment_template_gets_the_secret_from_the_transform(seed):
    assert pod_spec(seed["Deployment/awesomeapps/web"])["imagePullSecrets"] == [{"name": "docker-reader-secret"}]


def test_every_namespace_has_the_secret_and_every_manifest_validates(seed, seed_up):
    secrets = {key.split("/")[1] for key in seed if key.startswith("Secret/")}
    assert secrets == {"basic", "defaults", "awesomeapps"}
    # What up applies is fully known; validate that (the preview holds unknowns).
    for obj in seed_up.cluster.objects.values():
        validate_strict(obj.body(managed_fields=False))


def test_preview_warns_only_about_the_workload_whose_image_no_key_covers(seed_run):
    uncovered = [w for w in seed_run.warnings if "would pull it anonymously" in w]
    assert len(uncovered) == 1
    assert uncovered[0].startswith("CronJob defaults/report: image ghcr.io/example/report:2.1")
