"""The Python examples run through the real program under the mock runtime: the seed scenarios (examples/seed),
where every method reaches its pod, and the cluster stack (examples/python)."""

from typing import Dict, List, Tuple

import pytest

from registry_credentials.cli import render
from registry_credentials.cli.mockrun import Run
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


CLUSTER_STACK = """\
encryptionsalt: v1:FakeSalt==:v1:FakeNonce:FakeTag==
config:
  shop-cluster:harborServer: harbor.example.com
  shop-cluster:harborUsername: robot$shop+puller
  shop-cluster:harborPassword:
    secure: AAABAFakeCipherTextNeverDecrypted
"""


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory) -> Tuple[Run, Platform]:
    """examples/python (the cluster stack) with the config its README sets: its first preview, and the platform
    model after `pulumi up`."""
    directory = tmp_path_factory.mktemp("cluster")
    for name in ("Pulumi.yaml", "__main__.py"):
        (directory / name).write_text((PROJECT_DIR / "examples" / "python" / name).read_text())
    (directory / "Pulumi.dev.yaml").write_text(CLUSTER_STACK)
    platform = Platform(materialize_missing=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGISTRY_CREDENTIALS_VERIFY", "off")  # harbor.example.com is no registry: stay on loopback
        first = render.run_stack(load_stack(directory, "dev"), platform)
        render.run_stack(load_stack(directory, "dev"), platform, preview=False)
    return first, platform


def test_cluster_stack_example_creates_its_namespaces_and_both_apps_can_pull(cluster_stack):
    first, platform = cluster_stack
    bodies = {(m.body["kind"], m.body["metadata"].get("namespace", ""), m.body["metadata"]["name"]): m.body
              for m in render.manifests(first.records)}
    assert {("Namespace", "", "storefront"), ("Namespace", "", "payments")} <= set(bodies)
    payments = bodies[("Deployment", "payments", "payments-api")]["spec"]["template"]["spec"]
    assert payments["serviceAccountName"] == "payments-api"  # taken from the component's output
    assert "serviceAccountName" not in bodies[("Deployment", "storefront", "storefront")]["spec"]["template"]["spec"]
    cluster = platform.cluster
    assert cluster.get(("ServiceAccount", "storefront", "default")).body()["imagePullSecrets"] == [
        {"name": "harbor-pull"}]
    assert cluster.get(("ServiceAccount", "payments", "payments-api")).body()["imagePullSecrets"] == [
        {"name": "harbor-pull"}]
    for obj in cluster.objects.values():
        validate_strict(obj.body(managed_fields=False))
    assert first.outputs["pullSecrets"] == {"storefront": "harbor-pull", "payments": "harbor-pull"}
    assert not [w for w in first.warnings if "anonymously" in w]  # the image check: both covered
