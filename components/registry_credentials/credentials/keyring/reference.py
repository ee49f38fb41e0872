"""The image name the kubelet looks credentials up for: distribution/reference `ParseNormalizedNamed(...).Name()`.

With go-digest validation of a digest, as pkg/util/parsers (which the kubelet calls) does.
"""

import re

from .gostrings import go_quote

# distribution/reference regexp.go, verbatim; re.ASCII because Go's \w is ASCII-only.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_DOMAIN_AND_PORT = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6 + r")" + _OPTIONAL_PORT
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME
_REFERENCE_RE = re.compile(r"(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?", re.ASCII)
_ANCHORED_NAME_RE = re.compile(r"(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")", re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}", re.ASCII)
# go-digest: DigestRegexpAnchored and the per-algorithm encoded lengths (sha384/512 are linked into the
# kubelet: pkg/util/parsers imports crypto/sha512 for exactly this).
_GO_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_TOTAL_LENGTH_MAX = 255

_DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_REPO_PREFIX = "library/"


def _validate_digest(d: str) -> None:
    # go-digest Digest.Validate.
    i = d.find(":")
    if i <= 0 or i + 1 == len(d):
        raise ValueError("invalid checksum digest format")
    algorithm, encoded = d[:i], d[i + 1:]
    if algorithm not in _DIGEST_HEX_LEN:
        if not _GO_DIGEST_RE.fullmatch(d):
            raise ValueError("invalid checksum digest format")
        raise ValueError("unsupported digest algorithm")
    if not re.fullmatch(r"[a-f0-9]{%d}" % _DIGEST_HEX_LEN[algorithm], encoded, re.ASCII):
        raise ValueError("invalid checksum digest format")


def _split_docker_domain(name: str) -> tuple[str, str]:
    # distribution/reference splitDockerDomain (current: localhost, legacy index, '.'/':', uppercase).
    maybe_domain, slash, maybe_remote = name.partition("/")
    if not slash:
        return _DEFAULT_DOMAIN, _OFFICIAL_REPO_PREFIX + name
    if maybe_domain == "localhost":
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == _LEGACY_DEFAULT_DOMAIN:
        domain, remote = _DEFAULT_DOMAIN, maybe_remote
    elif "." in maybe_domain or ":" in maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain.lower() != maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = _DEFAULT_DOMAIN, name
    if domain == _DEFAULT_DOMAIN and "/" not in remote:
        remote = _OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def _parse_reference_name(s: str) -> str:
    # distribution/reference Parse(s), returning Name().
    if s == "":
        raise ValueError("repository name must have at least one component")
    match = _REFERENCE_RE.fullmatch(s)
    if match is None:
        lowered = s.lower()
        if lowered != s and _REFERENCE_RE.fullmatch(lowered):
            raise ValueError("repository name must be lowercase")
        raise ValueError("invalid reference format")
    name = match.group(1)
    name_match = _ANCHORED_NAME_RE.fullmatch(name)
    domain, path = (name_match.group(1) or "", name_match.group(2)) if name_match else ("", name)
    if len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise ValueError(f"repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters")
    if match.group(3):
        _validate_digest(match.group(3))
    return f"{domain}/{path}" if domain else path


def normalize_image(image: str) -> str:
    """Return the repository the kubelet looks credentials up for (`ParseNormalizedNamed(image).Name()`)."""
    try:
        # distribution/reference ParseNormalizedNamed.
        if _IDENTIFIER_RE.fullmatch(image):
            raise ValueError(
                f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
            )
        domain, remainder = _split_docker_domain(image)
        tag_sep = remainder.find(":")
        remote = remainder[:tag_sep] if tag_sep > -1 else remainder
        if remote.lower() != remote:
            raise ValueError(f"invalid reference format: repository name ({remote}) must be lowercase")
        return _parse_reference_name(domain + "/" + remainder)
    except ValueError as err:
        # pkg/util/parsers ParseImageName wraps every error like this.
        raise ValueError(f"couldn't parse image name {go_quote(image)}: {err}") from None
