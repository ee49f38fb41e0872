"""Server spellings -> the `auths` key we write, and which spellings warn."""

import pytest

from registry_credentials.credentials.servers import DOCKER_HUB_KEY, ServerSyntaxError, normalize_server

# (server as written, key, warns)
CASES = [
    ("harbor.example.com", "harbor.example.com", False),
    ("https://harbor.example.com", "harbor.example.com", False),
    ("http://harbor.example.com/", "harbor.example.com", False),
    ("https://harbor.example.com/v2/", "harbor.example.com", False),
    ("https://quay.io/v1/", "quay.io", False),
    ("registry.example.com/v1", "registry.example.com/v1", False),  # kubelet strips /v1/ only with the slash
    ("registry.example.com:5000", "registry.example.com:5000", False),
    ("registry.example.com:5000/team/", "registry.example.com:5000/team/", False),
    ("10.0.0.1:5000", "10.0.0.1:5000", False),
    ("localhost:5000", "localhost:5000", False),
    ("*.example.com", "*.example.com", False),
    ("[::1]:5000", "[::1]:5000", False),
    ("docker.io", DOCKER_HUB_KEY, False),
    ("index.docker.io", DOCKER_HUB_KEY, False),
    ("https://index.docker.io/v1/", DOCKER_HUB_KEY, False),
    ("Docker.IO", DOCKER_HUB_KEY, False),
    ("registry-1.docker.io", DOCKER_HUB_KEY, True),
    ("https://registry-1.docker.io/v2/", DOCKER_HUB_KEY, True),
    ("hub.docker.com", DOCKER_HUB_KEY, True),
    ("https://hub.docker.com/", DOCKER_HUB_KEY, True),
    ("docker.io/myorg", "docker.io/myorg", False),
    ("index.docker.io/myorg", "docker.io/myorg", True),
    ("hub.docker.com/myorg", "docker.io/myorg", True),
    ("docker.io:443", "docker.io:443", False),  # an explicit port is a different key for the kubelet
]


@pytest.mark.parametrize("server, key, warns", CASES)
def test_normalize_server(server, key, warns):
    result = normalize_server(server)
    assert (result.key, bool(result.warning)) == (key, warns)


@pytest.mark.parametrize("server", ["hub.docker.com", "registry-1.docker.io"])
def test_docker_hub_lookalikes_say_why(server):
    warning = normalize_server(server).warning
    assert "never" in warning and DOCKER_HUB_KEY in warning


@pytest.mark.parametrize("server", ["", "https://", "ftp://x.io", "a b.io", "x.io?q", "x.io#f", "x.io:", "-x.io",
                                    "x.io:70000", "x..io"])
def test_unparsable_servers(server):
    with pytest.raises(ServerSyntaxError):
        normalize_server(server)
