"""Table-driven tests for registry_credentials.credentials.keyring, built from upstream Go tests and kubernetes.io examples.

Every table names its source. Expectations follow the current upstream code (kubelet keyring.go,
distribution/reference, Go's net/url and path/filepath); where that differs from a Go test's raw
`Lookup(...)` call, the table says why. One parametrised runner checks every row.
"""

from typing import Any, Callable

import pytest

from registry_credentials.credentials import keyring
from registry_credentials.credentials.keyring import KeyProblem
from registry_credentials.credentials.keyring.gofilepath import BadPattern, go_filepath_match

HUB = "https://index.docker.io/v1/"
SHA = "sha256:" + "f" * 64

# ---------------------------------------------------------------------------------------------------
# urls_match(key, normalised image)
# ---------------------------------------------------------------------------------------------------

# Source: kubernetes/kubernetes pkg/credentialprovider/keyring_test.go TestURLsMatch (all rows).
URLS_MATCH_UPSTREAM = [
    ("*.kubernetes.io", "prefix.kubernetes.io", True),
    ("prefix.*.io", "prefix.kubernetes.io", True),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
    ("*.kubernetes.io", "kubernetes.io", False),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
    ("*.*.kubernetes.io", "kubernetes.io", False),
    ("*kubernetes.io", "a.kubernetes.io", False),
    ("*kubernetes.io", "kubernetes.io", True),
    ("*.*.*.kubernetes.io", "a.b.c.kubernetes.io", True),
    ("kubernetes.io", "kubernetes.com", False),
    ("k*.io", "quay.io", False),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
]

# Source: kubernetes.io docs/concepts/containers/images.md "Interpretation of config.json" bullets, and the
# matchImages examples of the kubelet CredentialProvider API (same URLsMatch): "*.azurecr.io", "*.*.registry.io",
# "registry.io:8080/path", partial "app*.k8s.io", TLD "k8s.*".
URLS_MATCH_DOCS = [
    ("*.kubernetes.io", "abc.kubernetes.io", True),
    ("*.*.kubernetes.io", "abc.kubernetes.io", False),
    ("*.*.kubernetes.io", "abc.def.kubernetes.io", True),
    ("*.azurecr.io", "myreg.azurecr.io/app", True),
    ("*.azurecr.io", "azurecr.io/app", False),
    ("*.*.registry.io", "a.b.registry.io/x", True),
    ("*.*.registry.io", "a.registry.io/x", False),
    ("registry.io:8080/path", "registry.io:8080/path/img", True),
    ("registry.io:8080/path", "registry.io/path/img", False),
    ("registry.io:8080/path", "registry.io:8080/other/img", False),
    ("app*.k8s.io", "app1.k8s.io/x", True),
    ("app*.k8s.io", "web.k8s.io/x", False),
    ("k8s.*", "k8s.io/x", True),
    ("*.io", "a.k8s.io/x", False),
]

# Source: pkg/credentialprovider/keyring.go URLsMatch semantics with Go's net.SplitHostPort / filepath.Match
# (our own edge cases).
URLS_MATCH_EDGES = [
    ("10.0.0.*:5000", "10.0.0.7:5000/app", True),  # a glob per host label, the port compared as text
    ("registry.io", "registry.io:5000/app", False),  # port "" != "5000"
    ("registry.io:443", "registry.io/app", False),  # ":443" != no port
    ("registry.io:5000", "registry.io:5000/app", True),
    ("bar.example.com/pong", "bar.example.com/pongz", True),  # plain string prefix
    ("Registry.example.com", "registry.example.com/app", False),  # case-sensitive
    ("example.com:", "example.com/app", True),  # empty port == no port
    ("[::1]:5000", "[::1]:5000/app", True),
    ("[::1]", "[::1]/app", False),  # no port: "[::1]" stays whole and is a glob character class
    ("*", "localhost/foo", True),
    ("*", "docker.io/library/nginx", False),  # 1 label vs 2
    ("*.*", "docker.io/library/nginx", True),
    ("reg[0-9].example.com", "reg1.example.com/x", False),  # Go >= 1.24.8 rejects '[' inside a host
    ("", "localhost/foo", False),  # empty pattern only matches an empty label
    ("*.example.com/team", "a.example.com/teams/x", True),
    ("*.example.com/team", "a.example.com/tea", False),
]

# ---------------------------------------------------------------------------------------------------
# Go path/filepath.Match, which URLsMatch applies per host label (Python's fnmatch differs).
# ---------------------------------------------------------------------------------------------------

# Source: golang/go src/path/filepath/match_test.go matchTests (Unix rows; "error" = ErrBadPattern).
FILEPATH_MATCH = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True), ("a*", "abc", True),
    ("a*", "ab/c", False), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True), ("a\\*b", "a*b", True), ("a\\*b", "ab", False),
    ("a?b", "a☺b", True), ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True), ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False),
    ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "x", True), ("[x\\-]", "-", True),
    ("[x\\-]", "z", False), ("[\\-x]", "x", True), ("[\\-x]", "-", True), ("[\\-x]", "a", False),
    ("[]a]", "]", "error"), ("[-]", "-", "error"), ("[x-]", "x", "error"), ("[x-]", "-", "error"),
    ("[x-]", "z", "error"), ("[-x]", "x", "error"), ("[-x]", "-", "error"), ("[-x]", "a", "error"),
    ("\\", "a", "error"), ("[a-b-c]", "a", "error"), ("[", "a", "error"), ("[^", "a", "error"),
    ("[^bc", "a", "error"), ("a[", "a", "error"), ("a[", "ab", "error"), ("a[", "x", "error"),
    ("a/b[", "x", "error"), ("*x", "xxx", True),
]

# ---------------------------------------------------------------------------------------------------
# is_default_registry_match
# ---------------------------------------------------------------------------------------------------

# Source: keyring_test.go TestIsDefaultRegistryMatch (all rows), plus normalised names the kubelet passes.
IS_DEFAULT = [
    ("foo/bar", True), ("docker.io/foo/bar", True), ("index.docker.io/foo/bar", True), ("foo", True),
    ("", False), ("registry.tld/foo/bar", False), ("registry:5000/foo/bar", False),
    ("myhostdocker.io/foo/bar", False),
    # ours: what normalize_image can hand it
    ("docker.io/library/nginx", True), ("localhost/foo", True), ("Foo/bar", True),
    ("localhost:5000/foo", False), ("quay.io/coreos/etcd", False), ("[::1]:5000/app", False),
]

# ---------------------------------------------------------------------------------------------------
# normalize_image (None = ValueError)
# ---------------------------------------------------------------------------------------------------

# Source: distribution/reference normalize_test.go TestValidateReferenceName / TestValidateRemoteName
# (valid and invalid names), TestParseRepositoryInfo (familiar/full/ambiguous -> FullName),
# TestNormalizedSplitHostname and TestParseAnyReference (named rows).
NORMALIZE_DISTRIBUTION = [
    ("docker/docker", "docker.io/docker/docker"), ("library/debian", "docker.io/library/debian"),
    ("debian", "docker.io/library/debian"), ("docker.io/docker/docker", "docker.io/docker/docker"),
    ("docker.io/library/debian", "docker.io/library/debian"), ("docker.io/debian", "docker.io/library/debian"),
    ("index.docker.io/docker/docker", "docker.io/docker/docker"),
    ("index.docker.io/library/debian", "docker.io/library/debian"),
    ("index.docker.io/debian", "docker.io/library/debian"),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker"),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000/debian"),
    ("192.168.0.1", "docker.io/library/192.168.0.1"), ("192.168.0.1:80", "docker.io/library/192.168.0.1"),
    ("192.168.0.1:8/debian", "192.168.0.1:8/debian"),
    ("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
     "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker"),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian"),
    ("docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
     "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"),
    ("Docker/docker", "Docker/docker"), ("DOCKER/docker", "DOCKER/docker"),  # uppercase first part = domain
    ("https://github.com/docker/docker", None), ("docker/Docker", None), ("-docker", None),
    ("-docker/docker", None), ("-docker.io/docker/docker", None), ("docker///docker", None),
    ("docker.io/docker/Docker", None), ("docker.io/docker///docker", None), ("[fc00::1]", None),
    ("[fc00::1]:5000", None), ("fc00::1:5000/debian", None), ("[fe80::1%eth0]:5000/debian", None),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", None),
    ("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", None),
    ("docker-rules/docker", "docker.io/docker-rules/docker"),
    ("docker---rules/docker", "docker.io/docker---rules/docker"), ("d/docker", "docker.io/d/docker"),
    ("jess/t", "docker.io/jess/t"), ("dock__er/docker", "docker.io/dock__er/docker"),
    ("docker-/docker", None), ("-docker-/docker", None), ("____/____", None), ("_docker/_docker", None),
    ("dock..er/docker", None), ("dock_.er/docker", None), ("dock-.er/docker", None), ("docker/", None),
    ("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because"
     "_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is"
     "_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker", None),
    ("fooo/bar", "docker.io/fooo/bar"), ("index.docker.io/fooo/bar", "docker.io/fooo/bar"),
    ("ubuntu", "docker.io/library/ubuntu"), ("library/ubuntu", "docker.io/library/ubuntu"),
    ("other/library", "docker.io/other/library"),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase"),
    ("example.com:8000/privatebasee", "example.com:8000/privatebasee"),
    ("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base"),
    ("index.docker.io/library/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base"),
    ("docker.io/foo", "docker.io/library/foo"), ("library/foo/bar", "docker.io/library/foo/bar"),
    ("store/foo/bar", "docker.io/store/foo/bar"), ("Foo/bar", "Foo/bar"), ("FOO/bar", "FOO/bar"),
    ("test.com/foo", "test.com/foo"), ("test_com/foo", "docker.io/test_com/foo"),
    ("test-com:8080/foo", "test-com:8080/foo"), ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo"),
    ("docker.io/library/foo/bar", "docker.io/library/foo/bar"),
    ("redis:latest", "docker.io/library/redis"),
    ("redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c", "docker.io/library/redis"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp"),
    ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
     "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"),
    ("dbcc1", "docker.io/library/dbcc1"),
]

# Source: distribution/reference reference_test.go TestReferenceParse inputs, run through ParseNormalizedNamed
# (so single-element names gain docker.io/library/ and "host:port" without a path is a name with a tag).
NORMALIZE_REFERENCE_PARSE = [
    ("test_com", "docker.io/library/test_com"), ("test.com:tag", "docker.io/library/test.com"),
    ("test.com:5000", "docker.io/library/test.com"), ("test.com/repo:tag", "test.com/repo"),
    ("test:5000/repo", "test:5000/repo"), ("test:5000/repo@" + SHA, "test:5000/repo"),
    ("test:5000/repo:tag@" + SHA, "test:5000/repo"), ("", None), (":justtag", None), ("@" + SHA, None),
    ("repo@sha256:ffffffffffffffffffffffffffffffffff", None),
    ("validname@invaliddigest:" + "f" * 64, None), ("Uppercase:tag", None),
    ("test:5000/Uppercase/lowercase:tag", None), ("lowercase:Uppercase", "docker.io/library/lowercase"),
    ("a/" * 128 + "a:tag", None), ("a/" * 127 + "a:tag-puts-this-over-max", "docker.io/" + "a/" * 127 + "a"),
    ("aa/asdf$$^/aa", None), ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux"),
    ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app"),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage"),
    ("xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + "f" * 128, "xn--7o8h.com/myimage"),
    ("foo_bar.com:8080", "docker.io/library/foo_bar.com"), ("foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com"),
    ("192.168.1.1:tag", "docker.io/library/192.168.1.1"), ("192.168.1.1/repo", "192.168.1.1/repo"),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo"), ("[2001:db8::1]", None),
    ("[2001:db8::1]:5000", None), ("[2001:db8::1]:tag", None), ("[2001:db8::1]/repo", "[2001:db8::1]/repo"),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo"),
    ("[2001:db8::1]:5000/repo:tag@" + SHA, "[2001:db8::1]:5000/repo"),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo"), ("[::1]:5000/repo", "[::1]:5000/repo"),
    ("[fe80::1%eth0]:5000/repo", None), ("[fe80::1%@invalidzone]:5000/repo", None),
]

# Source: distribution/reference ParseNormalizedNamed (normalize.go) on pod-spec spellings, as pkg/util/parsers
# ParseImageName calls it, plus go-digest validation (algorithm.go/digest.go).
NORMALIZE_KUBELET = [
    ("nginx:1.14", "docker.io/library/nginx"), ("myuser/app", "docker.io/myuser/app"),
    ("index.docker.io/library/nginx", "docker.io/library/nginx"), ("index.docker.io/foo", "docker.io/library/foo"),
    ("docker.io/nginx", "docker.io/library/nginx"), ("localhost/foo", "localhost/foo"),
    ("localhost:5000/foo:1", "localhost:5000/foo"), ("localhost", "docker.io/library/localhost"),
    ("docker.io", "docker.io/library/docker.io"), ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause"),
    ("nginx:latest@" + SHA, "docker.io/library/nginx"), ("nginx@sha384:" + "a" * 96, "docker.io/library/nginx"),
    # "sha256:<hex>" alone is NOT rejected: it is repository "sha256" with a 64-character tag.
    (SHA, "docker.io/library/sha256"),
    ("nginx@sha256:" + "F" * 64, None), ("nginx@sha256:" + "f" * 63, None), ("nginx@md5:" + "f" * 32, None),
    ("nginx@SHA256:" + "f" * 64, None), ("nginx:", None), ("nginx\n", None), (" nginx", None), ("Nginx", None),
    ("nginx:" + "t" * 129, None), ("nginx:" + "t" * 128, "docker.io/library/nginx"), ("a_b.c/foo", "a_b.c/foo"),
]

# ---------------------------------------------------------------------------------------------------
# parse_key (None = url.Parse error, entry ignored)
# ---------------------------------------------------------------------------------------------------

# Source: keyring.go BasicDockerKeyring.Add and its keyring_test.go cases, with Go net/url.Parse behaviour
# (query/fragment cut, host character rules, %-escapes, control characters, Go 1.24.8+ IP-literal rule,
# Go 1.26 strict colons for http/https).
PARSE_KEY = [
    (HUB, "index.docker.io"), ("https://quay.io/v1/", "quay.io"),
    ("http://registry.internal", "registry.internal"),
    ("registry.io:5000/path", "registry.io:5000/path"), ("https://*.docker.io/v2/", "*.docker.io"),
    ("https://registry.io/v1", "registry.io/v1"), ("registry.io/v2/team", "registry.io/team"),
    ("registry.io/v1/v2/", "registry.io/v2/"), ("index.docker.io", "index.docker.io"),
    ("index.docker.io/", "index.docker.io"),
    ("http://registry.example.com:5000/v2/", "registry.example.com:5000"),
    ("HTTPS://quay.io", "HTTPS://quay.io"),  # prefix check is case-sensitive: host "HTTPS:" + path "//quay.io"
    ("user:pass@registry.example.com", "registry.example.com"),
    ("registry.example.com?x", "registry.example.com"), ("registry.example.com/team#frag", "registry.example.com/team"),
    ("reg?.example.com", "reg"), ("registry.example.com#", "registry.example.com"),
    ("registry.example.com/a%20b", "registry.example.com/a b"),
    ("registry.example.com/a b", "registry.example.com/a b"),
    ("%C3%A9.example.com", "é.example.com"), ("[::1]:5000", "[::1]:5000"), ("example.com:", "example.com:"),
    ("", ""), ("https://", ""), ("/foo", "/foo"),
    ("registry.example.com/%zz", None), ("registry example.com", None), ("registry.example.com\t", None),
    ("registry.example.com%2Fteam", None), ("registry.example.com#%zz", None), ("reg[0-9].example.com", None),
    ("[1.2.3.4]:5000", None), ("[::1", None), ("a:1:2", None), ("example.com:80a", None),
    ("us{er@registry.example.com", None), ("registry\\example.com", None),
]

# ---------------------------------------------------------------------------------------------------
# lookup_normalized: BasicDockerKeyring.Lookup called with the raw strings the Go tests use.
# ---------------------------------------------------------------------------------------------------

# Source: keyring_test.go TestDockerKeyringForGlob (Lookup(target + "/foo/bar") finds the key).
FOR_GLOB = [
    ("https://hello.kubernetes.io", "hello.kubernetes.io"), ("https://*.docker.io", "prefix.docker.io"),
    ("https://prefix.*.io", "prefix.docker.io"), ("https://prefix.docker.*", "prefix.docker.io"),
    ("https://*.docker.io/path", "prefix.docker.io/path"),
    ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
    ("https://prefix.docker.*/path", "prefix.docker.io/path"), ("https://*.docker.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.*.io:8888", "prefix.docker.io:8888"), ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
    ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
    ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path"), ("*.docker.io:1111", "prefix.docker.io:1111/path"),
]
# Source: keyring_test.go TestKeyringMiss (Lookup(lookupURL + "/foo/bar") finds nothing).
KEYRING_MISS = [
    ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"), ("https://*.docker.com", "prefix.docker.io"),
    ("https://suffix.*.io", "prefix.docker.io"), ("https://prefix.docker.c*", "prefix.docker.io"),
    ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"), ("suffix.*.io", "prefix.docker.io"),
]
PONG = ["bar.example.com/pong", "bar.example.com"]  # keyring_test.go TestDockerKeyringLookup: grace, ada
LOOKUP_NORMALIZED = [
    *[([g], t + "/foo/bar", [g]) for g, t in FOR_GLOB],
    *[([g], t + "/foo/bar", []) for g, t in KEYRING_MISS],
    # Source: TestKeyringMissWithDockerHubCredentials / ...HitWithUnqualifiedDockerHub / ...LibraryDockerHub /
    # ...QualifiedDockerHub (the last hits directly: "index.docker.io" matches host index.docker.io).
    ([HUB], "world.mesos.org/foo/bar", []), ([HUB], "google/docker-registry", [HUB]), ([HUB], "jenkins", [HUB]),
    ([HUB], "index.docker.io/v1//google/docker-registry", [HUB]),
    # Source: TestDockerKeyringLookup (order: longer path first, every match concatenated).
    (PONG, "bar.example.com", ["bar.example.com"]), (PONG, "bar.example.com/pong", PONG),
    (PONG, "bar.example.com/ping", ["bar.example.com"]), (PONG, "bar.example.com/pongz", PONG),
    (PONG, "bar.example.com/pong/pang", PONG), (PONG, "example.com", []), (PONG, "foo.example.com", []),
    # Source: TestIssue3797.
    (["https://quay.io/v1/"], "quay.io", ["https://quay.io/v1/"]),
    (["https://quay.io/v1/"], "quay.io/foo", ["https://quay.io/v1/"]),
    (["https://quay.io/v1/"], "quay.io/foo/bar", ["https://quay.io/v1/"]),
    # Source: pkg/credentialprovider/secrets/secrets_test.go Test_MakeDockerKeyring.
    (["test.registry.io"], "test.registry.io", ["test.registry.io"]), (["foobar.io"], "test.registry.io", []),
]

# ---------------------------------------------------------------------------------------------------
# lookup: pod-spec image as written -> keys as written, in kubelet order.
# ---------------------------------------------------------------------------------------------------

MY_REG = ["my-registry.example/images", "*.my-registry.example/images"]
SUBPATH = ["my-registry.example/images", "my-registry.example/images/subpath"]
LOOKUP = [
    # Source: kubernetes.io images.md "Interpretation of config.json" (match / no-match lists, subpath example).
    (MY_REG, "my-registry.example/images", ["my-registry.example/images"]),
    (MY_REG, "my-registry.example/images/my-image", ["my-registry.example/images"]),
    (MY_REG, "my-registry.example/images/another-image", ["my-registry.example/images"]),
    (MY_REG, "sub.my-registry.example/images/my-image", ["*.my-registry.example/images"]),
    (MY_REG, "a.sub.my-registry.example/images/my-image", []),
    (MY_REG, "a.b.sub.my-registry.example/images/my-image", []),
    (SUBPATH, "my-registry.example/images/subpath/my-image", SUBPATH[::-1]),
    # Source: keyring_test.go TestDockerKeyringLookup / TestIssue3797 / Hit*DockerHub, as pod images. A pod image
    # without a '/' is a Docker Hub name, so "bar.example.com" and "quay.io" no longer hit as in the raw Go test.
    (PONG, "bar.example.com/pong:v1", PONG), (PONG, "bar.example.com/ping", ["bar.example.com"]),
    (PONG, "bar.example.com", []), (["https://quay.io/v1/"], "quay.io/foo/bar:1", ["https://quay.io/v1/"]),
    (["https://quay.io/v1/"], "quay.io", []), ([HUB], "google/docker-registry", [HUB]), ([HUB], "jenkins", [HUB]),
    ([HUB], "index.docker.io/google/docker-registry", [HUB]), ([HUB], "world.mesos.org/foo/bar", []),
    # Docker Hub spellings: keyring.go Lookup's direct matches, and its index.docker.io fallback
    # (isDefaultRegistryMatch).
    ([HUB], "nginx:1.14", [HUB]), (["index.docker.io"], "nginx:1.14", ["index.docker.io"]),
    (["docker.io"], "nginx:1.14", ["docker.io"]),
    (["https://docker.io/v2/"], "nginx:1.14", ["https://docker.io/v2/"]),
    (["docker.io/library"], "nginx:1.14", ["docker.io/library"]), (["docker.io/library"], "bitnami/redis", []),
    (["hub.docker.com"], "nginx:1.14", []), (["https://hub.docker.com/"], "nginx:1.14", []),
    (["registry-1.docker.io"], "nginx:1.14", []), (["*.docker.io"], "nginx:1.14", []),
    ([HUB, "docker.io"], "nginx", ["docker.io"]),  # the direct match shadows the fallback
    (["docker.io/library", HUB], "nginx", ["docker.io/library"]),
    (["docker.io/library", HUB], "bitnami/redis", [HUB]),
    # Source: keyring.go Add/Lookup (reverse byte order, concatenation, fallback rule); our own rows.
    (["quay.io", "quay.io/coreos"], "quay.io/coreos/etcd:v3", ["quay.io/coreos", "quay.io"]),
    (["*.example.com", "registry.example.com"], "registry.example.com/app",
     ["registry.example.com", "*.example.com"]),
    (["registry.example.com", "https://registry.example.com/v2/", "http://registry.example.com"],
     "registry.example.com/app",
     ["registry.example.com", "https://registry.example.com/v2/", "http://registry.example.com"]),
    (["registry.example.com/team", "registry.example.com"], "registry.example.com/teamz/app",
     ["registry.example.com/team", "registry.example.com"]),
    (["registry.io:5000"], "registry.io:5000/app", ["registry.io:5000"]),
    (["registry.io:5000"], "registry.io/app", []),
    (["registry.io"], "registry.io:5000/app", []), (["registry.io:443"], "registry.io/app", []),
    ([HUB], "localhost/foo", [HUB]),  # isDefaultRegistryMatch: "localhost" has no '.' or ':'
    ([HUB], "localhost:5000/foo", []), ([HUB], "Foo/bar", [HUB]), ([HUB], "quay.io/coreos/etcd", []),
    (["docker.io"], "index.docker.io/library/nginx", ["docker.io"]),
    (["registry example.com", "registry.example.com"], "registry.example.com/app", ["registry.example.com"]),
    (["registry.example.com"], "registry.example.com/app@" + SHA, ["registry.example.com"]),
    (["Registry.example.com"], "registry.example.com/app", []),
    (["Registry.example.com"], "Registry.example.com/app", ["Registry.example.com"]),
    (["*"], "localhost/foo", ["*"]), (["*"], "nginx", []), (["*.*", HUB], "nginx", ["*.*"]),
    (["[::1]:5000"], "[::1]:5000/app", ["[::1]:5000"]), (["[::1]"], "[::1]/app", []),
    ([HUB + "?foo"], "nginx", [HUB + "?foo"]), (["example.com:"], "example.com/app", ["example.com:"]),
    (["docker.io:443"], "nginx", []), (["https://index.docker.io/v1"], "nginx", []),
    ([HUB, "index.docker.io", HUB], "nginx", [HUB, "index.docker.io", HUB]),
    (["reg[0-9].example.com"], "reg1.example.com/app", []), ([], "nginx", []),
    (["10.0.0.*:5000"], "10.0.0.7:5000/app", ["10.0.0.*:5000"]),
]
LOOKUP_ERRORS = ["Nginx", "", "nginx:", SHA[7:], "registry.example.com/App", "prefix.docker.io/path:1111/foo/bar"]

# ---------------------------------------------------------------------------------------------------
# diagnose_keys: (keys, [(key, kind, words the message must contain)])
# ---------------------------------------------------------------------------------------------------

# Source: keyring.go Lookup's fallback rule (tried only when no key matches directly, hence shadowing); our own rows.
FIX = ["https://index.docker.io/v1/", "docker.io"]
DIAGNOSE = [
    ([HUB], []), (["docker.io"], []), (["docker.io/myorg"], []), ([HUB, "index.docker.io"], []),
    (["registry.example.com", "quay.io/coreos", "*.azurecr.io", "localhost:5000", "[::1]:5000", "*", "Foo"], []),
    ([HUB, "docker.io"], [(HUB, "shadowed", ["'docker.io'", "all Docker Hub images"])]),
    ([HUB, "docker.io/library"], [(HUB, "shadowed", ["'docker.io/library'", "official images"])]),
    (["index.docker.io", "*.*"], [("index.docker.io", "shadowed", ["'*.*'", "all Docker Hub images"])]),
    (["hub.docker.com"], [("hub.docker.com", "not-docker-hub", FIX)]),
    (["https://hub.docker.com/"], [("https://hub.docker.com/", "not-docker-hub", FIX)]),
    (["registry-1.docker.io"], [("registry-1.docker.io", "not-docker-hub", FIX)]),
    (["*.docker.io"], [("*.docker.io", "not-docker-hub", FIX)]),
    (["docker.com"], [("docker.com", "not-docker-hub", FIX)]),
    (["index.docker.io/library"], [("index.docker.io/library", "not-docker-hub", FIX)]),
    (["https://index.docker.io/v1"], [("https://index.docker.io/v1", "not-docker-hub", FIX)]),
    (["docker.io:443"], [("docker.io:443", "not-docker-hub", FIX)]),
    (["Docker.io"], [("Docker.io", "not-docker-hub", FIX)]),
    (["registry example.com"], [("registry example.com", "never-matches", ["invalid character", "host[:port]"])]),
    (["reg[0-9].example.com"], [("reg[0-9].example.com", "never-matches", ["invalid IP-literal"])]),
    (["registry.example.com?x=1"],
     [("registry.example.com?x=1", "never-matches", ["'?'", "'registry.example.com'"])]),
    (["reg#1.example.com"], [("reg#1.example.com", "never-matches", ["'#'", "fragment", "'reg'"])]),
    (["reg?.example.com"], [("reg?.example.com", "never-matches", ["'?'", "'reg'", "never matches any image"])]),
    ([HUB + "?x"], [(HUB + "?x", "never-matches", ["'index.docker.io'", "used only where"])]),
    (["https:///v1/"], [("https:///v1/", "never-matches", ["no registry host"])]),
    ([""], [("", "never-matches", ["no registry host"])]),
    (["myregistry"], [("myregistry", "never-matches", ["Docker Hub namespace", "myregistry:5000"])]),
    (["registry.example.com/Team"], [("registry.example.com/Team", "never-matches", ["lowercase"])]),
    (["[::1]"], [("[::1]", "never-matches", ["character class", "port"])]),
    (["registry.example.com/a___b"],
     [("registry.example.com/a___b", "never-matches", ["host[:port][/path-prefix]"])]),
    (["docker.io", "hub.docker.com", HUB, "bad key"], [
        ("hub.docker.com", "not-docker-hub", FIX),
        (HUB, "shadowed", ["'docker.io'"]),
        ("bad key", "never-matches", ["bad key"]),
    ]),
]


# ---------------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------------


def _check_urls_match(args: tuple[str, str], expected: bool) -> None:
    assert keyring.urls_match(*args) is expected


def _check_filepath_match(args: tuple[str, str], expected: Any) -> None:
    pattern, name = (a.encode() for a in args)
    if expected == "error":
        with pytest.raises(BadPattern):
            go_filepath_match(pattern, name)
    else:
        assert go_filepath_match(pattern, name) is expected


def _check_is_default(args: tuple[str], expected: bool) -> None:
    assert keyring.is_default_registry_match(*args) is expected


def _check_normalize(args: tuple[str], expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="couldn't parse image name"):
            keyring.normalize_image(*args)
    else:
        assert keyring.normalize_image(*args) == expected


def _check_parse_key(args: tuple[str], expected: str | None) -> None:
    assert keyring.parse_key(*args) == expected


def _check_lookup_normalized(args: tuple[list[str], str], expected: list[str]) -> None:
    assert keyring.lookup_normalized(*args) == expected


def _check_lookup(args: tuple[list[str], str], expected: list[str]) -> None:
    assert keyring.lookup(*args) == expected


def _check_lookup_error(args: tuple[str], expected: None) -> None:
    with pytest.raises(ValueError, match="couldn't parse image name"):
        keyring.lookup([HUB, "docker.io", "*.*", "*.docker.io"], *args)


def _check_diagnose(args: tuple[list[str]], expected: list[tuple[str, str, list[str]]]) -> None:
    problems = keyring.diagnose_keys(*args)
    assert [(p.key, p.kind) for p in problems] == [(key, kind) for key, kind, _ in expected]
    for problem, (key, _, words) in zip(problems, expected):
        assert isinstance(problem, KeyProblem)
        assert f"'{key}'" in problem.message
        for word in words:
            assert word in problem.message, (word, problem.message)


CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "urls_match": _check_urls_match,
    "filepath_match": _check_filepath_match,
    "is_default": _check_is_default,
    "normalize": _check_normalize,
    "parse_key": _check_parse_key,
    "lookup_normalized": _check_lookup_normalized,
    "lookup": _check_lookup,
    "lookup_error": _check_lookup_error,
    "diagnose": _check_diagnose,
}


def _rows() -> list[Any]:
    tables: list[tuple[str, list[Any]]] = [
        ("urls_match", [((g, t), m) for g, t, m in URLS_MATCH_UPSTREAM + URLS_MATCH_DOCS + URLS_MATCH_EDGES]),
        ("filepath_match", [((p, n), m) for p, n, m in FILEPATH_MATCH]),
        ("is_default", [((i,), e) for i, e in IS_DEFAULT]),
        ("normalize", [((i,), e) for i, e in NORMALIZE_DISTRIBUTION + NORMALIZE_REFERENCE_PARSE + NORMALIZE_KUBELET]),
        ("parse_key", [((k,), e) for k, e in PARSE_KEY]),
        ("lookup_normalized", [((keys, repo), e) for keys, repo, e in LOOKUP_NORMALIZED]),
        ("lookup", [((keys, image), e) for keys, image, e in LOOKUP]),
        ("lookup_error", [((image,), None) for image in LOOKUP_ERRORS]),
        ("diagnose", [((keys,), e) for keys, e in DIAGNOSE]),
    ]
    rows = []
    for kind, cases in tables:
        for n, (args, expected) in enumerate(cases):
            label = "|".join(str(a) if not isinstance(a, list) else ",".join(a) for a in args)
            rows.append(pytest.param(kind, args, expected, id=f"{kind}-{n}-{label[:60]}"))
    return rows


@pytest.mark.parametrize(("kind", "args", "expected"), _rows())
def test_keyring_table(kind: str, args: Any, expected: Any) -> None:
    """Each table row behaves as the kubelet (or the Go library it mirrors) does."""
    CHECKS[kind](args, expected)


def test_key_problem_is_frozen() -> None:
    """KeyProblem is an immutable value."""
    problem = KeyProblem(key="k", kind="never-matches", message="m")
    with pytest.raises(AttributeError):
        problem.kind = "shadowed"  # type: ignore[misc]
