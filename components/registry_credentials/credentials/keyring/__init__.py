"""Replay the kubelet's credential keyring: which `auths` keys it tries for an image, and in what order.

This mirrors kubernetes/kubernetes `pkg/credentialprovider/keyring.go` (`BasicDockerKeyring.Add`,
`BasicDockerKeyring.Lookup`, `URLsMatchStr`/`URLsMatch`, `isDefaultRegistryMatch`), the image
normalisation the kubelet does before a lookup (`pkg/util/parsers` -> distribution/reference
`ParseNormalizedNamed(image).Name()`), and the Go standard-library behaviour those functions lean on
(`net/url.Parse`, `net.SplitHostPort`, `path/filepath.Match`). Strings are handled as UTF-8 bytes
internally, as Go does; bytes that are not UTF-8 (from `%XX` escapes) round-trip through Python
strings with the `surrogateescape` error handler.

Behaviour that surprises (each is a test row): `sha256:<64 hex>` alone is a valid image (repository
`sha256`); current Go rejects `[` inside a key's host, so such an entry is ignored; a bracketed IPv6 key
without a port never matches; the Docker Hub fallback also applies to `localhost/...` and uppercase
single-label registries; `example.com:` (empty port) matches `example.com/...`; `HTTPS://` is not seen as a
scheme (the prefix check is case-sensitive).

Parts: gostrings (Go's byte strings), gourl (net/url), gofilepath (path/filepath), reference (image names),
lookup (keyring.go itself), diagnose (what `explain` and preview warn about).
"""

from .diagnose import KeyProblem, diagnose_keys
from .lookup import Step, is_default_registry_match, lookup, lookup_normalized, lookup_steps, parse_key, urls_match
from .reference import normalize_image

__all__ = [
    "KeyProblem",
    "Step",
    "diagnose_keys",
    "is_default_registry_match",
    "lookup",
    "lookup_normalized",
    "lookup_steps",
    "normalize_image",
    "parse_key",
    "urls_match",
]
