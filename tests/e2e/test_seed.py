"""examples/seed on the real engine, with fake nodes: all four methods, read back from the API server.

kube-scheduler places the pods on kwok's fake nodes and kwok marks them Running, so pulumi-kubernetes' Deployment
and Pod awaiters finish as on a real cluster. The ServiceAccount admission plugin copies a ServiceAccount's
imagePullSecrets into each new pod that names none (plugin/pkg/admission/serviceaccount/admission.go), so the pods
show what the kubelet would pull with.
"""

from e2e.scenario import DEV_PASSWORDS, dockerconfig, kubectl_dockerconfig, pull_secrets
from toolchain.engine import REPO, run

SECRET = "docker-reader-secret"


def pods(control_plane, namespace):
    return control_plane.get(f"/api/v1/namespaces/{namespace}/pods")["items"]


def test_seed_every_method_reaches_the_pods(engine, control_plane):
    control_plane.add_nodes(2)
    project = engine.project(REPO / "examples" / "seed", "seed")
    stack = project.stack("dev", secrets={f"passwords.{k}": v for k, v in DEV_PASSWORDS.items()})
    preview = run(project, "preview", stack)
    assert "ghcr.io/example/report:2.1" in preview.output  # the image check warns: no key covers it
    run(project, "up", stack)

    # Method 2: service1 carries the Secret; method 3: the default ServiceAccount of `defaults` does.
    assert pull_secrets(control_plane, "basic", "service1") == [SECRET]
    assert pull_secrets(control_plane, "defaults") == [SECRET]
    assert pull_secrets(control_plane, "awesomeapps") == []  # default_service_account: false
    # Method 4: the transform wrote the Secret into web's template; foo lists it itself.
    web = control_plane.get("/apis/apps/v1/namespaces/awesomeapps/deployments/web")
    assert web["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": SECRET}]
    # Every pod the controllers made carries it, by whichever method applies to it.
    seen = {}
    for namespace in ("basic", "defaults", "awesomeapps"):
        for pod in pods(control_plane, namespace):
            seen[pod["metadata"]["name"]] = pod
            assert {"name": SECRET} in pod["spec"].get("imagePullSecrets", []), pod["metadata"]["name"]
            assert pod["status"]["phase"] == "Running"
    assert "foo" in seen and any(n.startswith("web-") for n in seen) and any(n.startswith("hello-") for n in seen)
    assert any(n.startswith("nginx-") for n in seen)

    expected = kubectl_dockerconfig([
        {"server": "harbor.dev.example.com", "username": "robot$dev+puller", "password": DEV_PASSWORDS["harbor"]},
        {"server": "docker.io", "username": "example-ci", "password": DEV_PASSWORDS["dockerhub"]},
    ])
    expected["auths"]["https://index.docker.io/v1/"] = expected["auths"].pop("docker.io")
    for namespace in ("basic", "defaults", "awesomeapps"):
        assert dockerconfig(control_plane, namespace, SECRET) == expected

    run(project, "preview", stack, expect_no_changes=True)
    run(project, "destroy", stack)
    for namespace in ("basic", "defaults", "awesomeapps"):
        control_plane.wait_for(f"/api/v1/namespaces/{namespace}", gone=True, timeout=90)
