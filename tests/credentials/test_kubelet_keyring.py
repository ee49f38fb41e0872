"""The keyring facts a rotation rests on, with Go itself as the oracle (support/kubelet_oracle.py `tried`).

kubernetes/kubernetes pkg/credentialprovider/keyring.go: `BasicDockerKeyring.Add` files each `auths` key under an
index key (host and path, the scheme and a leading /v1/ or /v2/ dropped) and appends its credential to that key's
*list*, ranging over the config's Go map; `Lookup` concatenates the lists of every matching index key, most specific
first; pkg/kubelet/kuberuntime/kuberuntime_image.go `PullImage` tries each credential until one is accepted.
A pod's pull Secrets are added in imagePullSecrets order (pkg/kubelet/kubelet_pods.go `getPullSecretsForPod`,
pkg/credentialprovider/secrets/secrets.go `MakeDockerKeyring`), the node's credentials after them
(`UnionDockerKeyring`).

So, the issue's question: two spellings of one server in one config.json (`harbor.example.com` and
`https://harbor.example.com`) do both end up in the list, but they are tried in Go's map order, which varies from
pull to pull, not in file order. Two Secrets holding one key are tried in list order, every time.
"""

import json
from pathlib import Path

import pytest

from registry_credentials.checks.problems import Problems
from registry_credentials.credentials.coverage import explain_sources
from registry_credentials.credentials.registries import check_registries
from registry_credentials.credentials.rotation import alternate_key
from support import kubelet_oracle
from support.agent import SecretVolume, run_once
from support.kubelet_oracle import digest

CURRENT = ("robot$app+new", "New-S3cret")
OUTGOING = ("robot$app+old", "Old-S3cret")
REPOSITORY = "harbor.example.com/team/app"


def config(*entries):
    return json.dumps({"auths": {key: {"username": user, "password": password} for key, (user, password) in entries}})


def credential(source, pair):
    return (source, pair[0], digest(pair[1]))


def test_two_spellings_in_one_file_are_both_tried_in_an_order_that_varies():
    node = config(("harbor.example.com", CURRENT), ("https://harbor.example.com", OUTGOING))
    assert kubelet_oracle.tried(REPOSITORY, node=node) == {
        (credential("node", CURRENT), credential("node", OUTGOING)),
        (credential("node", OUTGOING), credential("node", CURRENT)),
    }
    # The port says the same: one step of two, in an order that varies.
    steps = explain_sources([], ["harbor.example.com", "https://harbor.example.com"], "harbor.example.com/team/app")
    assert [step.keys for step in steps.node_steps] == [("harbor.example.com", "https://harbor.example.com")]


@pytest.mark.parametrize("key", ["harbor.example.com", "https://index.docker.io/v1/", "registry.example.com:5000",
                                 "docker.io/library"])
def test_every_second_spelling_we_write_is_filed_with_the_first(key):
    repository = {"harbor.example.com": REPOSITORY, "https://index.docker.io/v1/": "docker.io/library/nginx",
                  "registry.example.com:5000": "registry.example.com:5000/app",
                  "docker.io/library": "docker.io/library/nginx"}[key]
    orders = kubelet_oracle.tried(repository, node=config((key, CURRENT), (alternate_key(key), OUTGOING)))
    assert {frozenset(order) for order in orders} == {
        frozenset({credential("node", CURRENT), credential("node", OUTGOING)})}


def test_one_key_twice_in_one_file_keeps_only_the_last():
    """Why the node file needs a second spelling: Go's decoder keeps the last of two equal keys."""
    text = ('{"auths": {"harbor.example.com": {"username": "robot$app+old", "password": "Old-S3cret"}, '
            '"harbor.example.com": {"username": "robot$app+new", "password": "New-S3cret"}}}')
    assert kubelet_oracle.tried(REPOSITORY, node=text) == {(credential("node", CURRENT),)}


def test_pull_secrets_are_tried_in_list_order_every_time():
    secrets = [config(("harbor.example.com", CURRENT)), config(("harbor.example.com", OUTGOING))]
    assert kubelet_oracle.tried(REPOSITORY, secrets=secrets) == {
        (credential("secret0", CURRENT), credential("secret1", OUTGOING))}
    steps = explain_sources([["harbor.example.com"], ["harbor.example.com"]], [], REPOSITORY).pod_steps
    assert [(step.source, step.keys) for step in steps] == [(0, ("harbor.example.com",)), (1, ("harbor.example.com",))]


def test_a_more_specific_key_in_a_later_secret_is_tried_first():
    """List order holds for one index key only: Lookup walks the index most specific first, whatever the Secret."""
    secrets = [config(("harbor.example.com", CURRENT)), config(("harbor.example.com/team", OUTGOING))]
    assert kubelet_oracle.tried(REPOSITORY, secrets=secrets) == {
        (credential("secret1", OUTGOING), credential("secret0", CURRENT))}
    steps = explain_sources([["harbor.example.com"], ["harbor.example.com/team"]], [], REPOSITORY).pod_steps
    assert [step.source for step in steps] == [1, 0]


def test_pod_secrets_come_before_the_node_file():
    secrets = [config(("harbor.example.com", CURRENT))]
    node = config(("harbor.example.com", OUTGOING))
    assert kubelet_oracle.tried(REPOSITORY, secrets=secrets, node=node) == {
        (credential("secret0", CURRENT), credential("node", OUTGOING))}


def rendered(now_window: bool = True):
    problems = Problems()
    registries = check_registries([{"server": "harbor.example.com", "username": CURRENT[0], "password": CURRENT[1],
                                    "previous": {"username": OUTGOING[0], "password": OUTGOING[1],
                                                 "until": "2099-01-01" if now_window else "2000-01-01"}}],
                                  problems)
    assert problems.found == []
    return registries


def test_what_we_render_is_what_the_kubelet_tries():
    """Methods 2-4: the pull Secret, then `-previous`: current first. Method 1: the file the node agent writes from
    the node Secret holds both, read by Go as the kubelet reads it."""
    registries = rendered()
    assert kubelet_oracle.tried(REPOSITORY, secrets=[registries.rendered, registries.rendered_previous]) == {
        (credential("secret0", CURRENT), credential("secret1", OUTGOING))}
    assert {frozenset(order) for order in kubelet_oracle.tried(REPOSITORY, node=registries.rendered_node)} == {
        frozenset({credential("node", CURRENT), credential("node", OUTGOING)})}


def test_the_node_agent_writes_both_credentials_into_config_json(tmp_path: Path):
    volume = SecretVolume(tmp_path / "source")
    root = tmp_path / "kubelet"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {"quay.io": {"auth": "Zm9yZWlnbjpwdw=="}}}))
    volume.publish(rendered().rendered_node)
    assert run_once(volume.path, root, "agent-1").returncode == 0
    written = (root / "config.json").read_bytes()
    assert set(kubelet_oracle.credentials(written)) == {"quay.io", "harbor.example.com", "https://harbor.example.com"}
    assert {frozenset(order) for order in kubelet_oracle.tried(REPOSITORY, node=written.decode())} == {
        frozenset({credential("node", CURRENT), credential("node", OUTGOING)})}
    # After the window the node Secret holds the current credential alone, and so does the file.
    volume.publish(rendered(now_window=False).rendered_node)
    assert run_once(volume.path, root, "agent-1").returncode == 0
    written = (root / "config.json").read_bytes()
    assert set(kubelet_oracle.credentials(written)) == {"quay.io", "harbor.example.com"}
    assert kubelet_oracle.tried(REPOSITORY, node=written.decode()) == {(credential("node", CURRENT),)}
