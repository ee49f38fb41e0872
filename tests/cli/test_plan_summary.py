"""The plan summary's pure logic: which method each object serves, and which methods are off and why."""

import pytest

from registry_credentials.cli.plan_summary import Seen, summary

SECRET = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "[secret]"}}


def ours(kind, namespace, name, patch=False, **body):
    return Seen(kind, namespace, name, ours=True, patch=patch, body=body)


def theirs(kind, namespace, name, **body):
    return Seen(kind, namespace, name, ours=False, patch=False, body=body)


def template(**pod):
    return {"template": {"spec": {"containers": [{"name": "c", "image": "r.io/a"}], **pod}}}


BASE = [
    ours("Secret", "apps", "pull", **SECRET),
    ours("Secret", "jobs", "pull", **SECRET),
    ours("ServiceAccount", "apps", "default", patch=True, imagePullSecrets=[{"name": "pull"}]),
    ours("ServiceAccount", "jobs", "builder", imagePullSecrets=[{"name": "pull"}]),
]

# (the object, the words its row must end with)
ROLES = [
    (BASE[0], "pull Secret: methods 2-4 in this namespace rest on it"),
    (BASE[2], "method 3, namespace defaults: patched: lists pull"),
    (BASE[3], "method 2, ServiceAccounts: created: lists pull"),
    (ours("ServiceAccount", "jobs", "ci", patch=True, imagePullSecrets=[{"name": "x"}, {"name": "pull"}]),
     "method 2, ServiceAccounts: patched: lists x, pull"),
    (ours("ServiceAccount", "apps", "default", patch=True),
     "an empty patch that makes sure it exists before the next one"),
    (theirs("Pod", "jobs", "p", spec={"imagePullSecrets": [{"name": "pull"}], "containers": []}),
     "method 4, pod level: it lists pull"),
    (theirs("Deployment", "jobs", "d", spec=template(serviceAccountName="builder")),
     "method 2, ServiceAccounts: its pods run as builder, which lists the Secret"),
    (theirs("Deployment", "apps", "web", spec=template()),
     "method 3, namespace defaults: its pods run as `default`, which lists the Secret"),
    (theirs("CronJob", "apps", "nightly",
            spec={"jobTemplate": {"spec": template(imagePullSecrets=[{"name": "pull"}])}}),
     "method 4, pod level: its pods list pull"),
    # jobs' `default` lists nothing of ours, and an entry naming another namespace's Secret does not count.
    (theirs("Deployment", "jobs", "lost", spec=template(imagePullSecrets=[{"name": "other"}])),
     "none of our Secrets reaches its pods (anonymous pulls, or its own credentials)"),
    (theirs("ConfigMap", "apps", "settings"), "the program's own"),
]


@pytest.mark.parametrize("seen, role", ROLES, ids=[f"{s.kind}-{s.namespace}-{s.name}" for s, _ in ROLES])
def test_each_object_is_given_the_method_it_serves(seen, role):
    objects = BASE + [seen] if seen not in BASE else BASE
    lines = summary("plan", objects)
    label = f"{seen.kind} {seen.namespace}/{seen.name}{' (patch)' if seen.patch else ''}"
    (row,) = [line for line in lines if line.startswith(f"  {label} ") and line.endswith(role)]
    assert row


def test_node_level_objects_serve_method_1_and_its_absence_is_said_with_why():
    node = [ours("Namespace", "", "agents"), ours("Secret", "agents", "pull", **SECRET),
            ours("ConfigMap", "agents", "agent"), ours("DaemonSet", "agents", "agent")]
    with_node = summary("plan", BASE + node)
    rows = with_node[1 + len(BASE):1 + len(BASE) + len(node)]
    roles = ["the node agent's namespace", "the node agent's source", "the node agent's script",
             "keeps config.json on every node"]
    assert all(row.endswith(f"method 1, node level: {role}") for row, role in zip(rows, roles, strict=True))
    assert not [line for line in with_node if line.startswith("  method 1")]  # nothing says it is off
    without = summary("plan", BASE)
    assert "off:" in without
    assert [line for line in without if line.startswith("  method 1, node level: off, as nodeBootstrap.enabled")]


def test_what_is_off_names_the_namespaces_and_the_setting():
    lines = summary("plan", BASE, {"secretNames": {"apps": "pull", "jobs": "pull"}, "nodeDaemonset": ""})
    off = lines[lines.index("off:") + 1:lines.index("stack outputs:")]
    assert off == [
        "  method 1, node level: off, as nodeBootstrap.enabled (node_bootstrap in Python) is not true: no privileged "
        "DaemonSet writes the nodes' config.json",
        "  method 3, namespace defaults: off in jobs (defaultServiceAccount: false)",
        "  method 4, pod level: no pod spec here lists the Secret itself; pods can take it from the imagePullSecrets "
        "output (in Python, also from pull_secret_transform())",
    ]
    assert lines[-2:] == ['  nodeDaemonset: ""', '  secretNames: {"apps": "pull", "jobs": "pull"}']
    assert lines[0] == "plan: 4 objects"
