"""Method 1 on the real API server: Pod Security admission, and the agent's pods scheduled on fake nodes.

The namespace the component creates is labelled `privileged` (hostPath and a root container are refused below
that level: k8s.io/pod-security-admission policy/check_hostPathVolumes.go). kwok's fake kubelets run nothing, so
these tests prove what the API server admits and schedules; the agent's own behaviour on a node is proved by
running it as a process (tests of the node agent).
"""

from e2e.scenario import PROD_PASSWORDS, repo_stack

NODE_NS = "registry-credentials-node"
AGENT = "registry-credentials-node-agent"


def agent_pods(control_plane):
    return control_plane.get(f"/api/v1/namespaces/{NODE_NS}/pods")["items"]


def test_agent_pods_are_admitted_and_scheduled_on_every_node(engine, control_plane):
    nodes = control_plane.add_nodes(3)
    stack = repo_stack(engine, control_plane, "prod", PROD_PASSWORDS, namespaces=["apps", "payments"])
    stack.up()  # the DaemonSet awaiter returns only once every scheduled pod is ready
    daemonset = control_plane.get(f"/apis/apps/v1/namespaces/{NODE_NS}/daemonsets/{AGENT}")
    assert daemonset["status"]["desiredNumberScheduled"] == 3
    assert daemonset["status"]["numberReady"] == 3
    pods = agent_pods(control_plane)
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(nodes)
    for pod in pods:
        assert pod["spec"]["imagePullSecrets"] == [{"name": "harbor-pull"}]
        assert pod["spec"]["containers"][0]["image"] == "harbor.example.com/library/python:3.13-alpine"
        assert any(v.get("hostPath", {}).get("path") == "/var/lib/kubelet" for v in pod["spec"]["volumes"])

    # A node added later gets an agent too, without a Pulumi run.
    (late,) = control_plane.add_nodes(1)
    control_plane.wait_until(lambda: late in {p["spec"].get("nodeName") for p in agent_pods(control_plane)})
    stack.assert_no_changes()
    stack.destroy()
    control_plane.wait_for(f"/api/v1/namespaces/{NODE_NS}", gone=True, timeout=90)
