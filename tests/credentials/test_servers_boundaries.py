"""Server normalisation at its boundaries (cases found by mutation testing, scripts/mutation)."""

import pytest

from registry_credentials.credentials.servers import ServerSyntaxError, normalize_server

# (server, key) at the edges of the port range and of the kubelet's /v1/ /v2/ prefix rule.
ACCEPTED = [
    ("registry.example.com:1", "registry.example.com:1"),
    ("registry.example.com:65535", "registry.example.com:65535"),
    ("registry.example.com/v2/team", "registry.example.com/team"),  # keyring.go drops the first 3 chars of /v2/...
    ("https://registry.example.com:5000/v1/team/app", "registry.example.com:5000/team/app"),
]


@pytest.mark.parametrize("server, key", ACCEPTED)
def test_accepted_edges(server, key):
    assert normalize_server(server).key == key


@pytest.mark.parametrize("server", ["registry.example.com:0", "registry.example.com:65536", "r.example.com:99999"])
def test_ports_outside_1_to_65535_are_refused(server):
    with pytest.raises(ServerSyntaxError, match="out of range"):
        normalize_server(server)


def test_index_docker_io_with_a_path_says_why_it_is_rewritten():
    warning = normalize_server("index.docker.io/myorg").warning
    assert warning == ("index.docker.io with a path never matches: images normalise to docker.io/...; "
                       "writing the key docker.io/myorg instead")


# Full-string matches: `$` would also match before a trailing newline.
@pytest.mark.parametrize("server", ["r.example.com\n", "r.example.com:5000\n", "r.example.com/team\n"])
def test_server_syntax_matches_the_whole_string(server):
    with pytest.raises(ServerSyntaxError):
        normalize_server(server)
