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
"""

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Sequence

__all__ = [
    "KeyProblem",
    "diagnose_keys",
    "is_default_registry_match",
    "lookup",
    "lookup_normalized",
    "normalize_image",
    "parse_key",
    "urls_match",
]

# keyring.go: `defaultRegistryHost = "index.docker.io"`; Lookup falls back to creds stored under exactly this key.
_FALLBACK_KEY = b"index.docker.io"
_DOCKER_HUB_KEY = "https://index.docker.io/v1/"


def _to_bytes(s: str) -> bytes:
    # Go strings are bytes; lone surrogates cannot come out of Go's JSON decoder (it writes U+FFFD instead).
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        fixed = "".join(
            "\ufffd" if "\ud800" <= ch <= "\udfff" and not "\udc80" <= ch <= "\udcff" else ch for ch in s
        )
        return fixed.encode("utf-8", "surrogateescape")


def _to_str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _go_quote(s: str) -> str:
    # Close enough to Go's %q for error messages.
    return json.dumps(s, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Go net/url.Parse, for the only inputs the keyring gives it: "https://..." or "http://..." strings.
# --------------------------------------------------------------------------------------------------


class _GoURLError(ValueError):
    """An error Go's url.Parse would return."""


@dataclass(frozen=True)
class _GoURL:
    host: bytes
    path: bytes


_ENC_PATH, _ENC_HOST, _ENC_ZONE, _ENC_USERPASS, _ENC_FRAGMENT = range(5)
_HEX = b"0123456789abcdefABCDEF"


def _unhex(c: int) -> int:
    return int(chr(c), 16)


def _should_escape(c: int, mode: int) -> bool:
    # net/url shouldEscape, restricted to the modes unescape validates with.
    if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39:
        return False
    if mode in (_ENC_HOST, _ENC_ZONE) and c in b"!$&'()*+,;=:[]<>\"":
        return False
    if c in b"-_.~":
        return False
    if c in b"$&+,/:;=?@":
        if mode == _ENC_PATH:
            return c == ord("?")
        if mode == _ENC_USERPASS:
            return c in b"@/?:"
        if mode == _ENC_FRAGMENT:
            return False
    if mode == _ENC_FRAGMENT and c in b"!()*":
        return False
    return True


def _unescape(s: bytes, mode: int) -> bytes:
    # net/url unescape: validates %XX (and, in hosts, the raw characters), then decodes.
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == 0x25:
            if i + 2 >= n or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise _GoURLError(f"invalid URL escape {_go_quote(_to_str(s[i:i + 3]))}")
            if mode == _ENC_HOST and _unhex(s[i + 1]) < 8 and s[i:i + 3] != b"%25":
                raise _GoURLError(f"invalid URL escape {_go_quote(_to_str(s[i:i + 3]))}")
            if mode == _ENC_ZONE:
                v = _unhex(s[i + 1]) << 4 | _unhex(s[i + 2])
                if s[i:i + 3] != b"%25" and v != 0x20 and _should_escape(v, _ENC_HOST):
                    raise _GoURLError(f"invalid URL escape {_go_quote(_to_str(s[i:i + 3]))}")
            i += 3
        else:
            if mode in (_ENC_HOST, _ENC_ZONE) and c < 0x80 and _should_escape(c, mode):
                raise _GoURLError(f"invalid character {_go_quote(chr(c))} in host name")
            i += 1
    if b"%" not in s:
        return s
    out = bytearray()
    i = 0
    while i < n:
        if s[i] == 0x25:
            out.append(_unhex(s[i + 1]) << 4 | _unhex(s[i + 2]))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    # net/url validOptionalPort: "" or ":" followed by digits only (possibly none).
    if port == b"":
        return True
    if port[:1] != b":":
        return False
    return all(0x30 <= b <= 0x39 for b in port[1:])


def _is_ipv6_literal(host: bytes) -> bool:
    # netip.ParseAddr(host) succeeds and !addr.Is4(): the first of '.', ':' or '%' decides the family.
    for c in host:
        if c == 0x2E or c == 0x25:
            return False  # IPv4 (Is4 -> "invalid IP-literal") or "missing IPv6 address"
        if c == 0x3A:
            break
    else:
        return False
    addr, sep, zone = host.partition(b"%")
    if sep and not zone:
        return False  # "zone must be a non-empty string"
    try:
        ipaddress.IPv6Address(addr.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _parse_host(host: bytes) -> bytes:
    # net/url parseHost as of Go 1.26 for http/https: '[' only opens an IPv6 literal at the very start
    # (CVE-2025-47912 fix, Go 1.24.8/1.25.2), and with more than one ':' the FIRST one starts the port
    # (strict colons, Go 1.26).
    open_bracket = host.rfind(b"[")
    if open_bracket > 0:
        raise _GoURLError("invalid IP-literal")
    if open_bracket == 0:
        close_bracket = host.rfind(b"]")
        if close_bracket < 0:
            raise _GoURLError("missing ']' in host")
        colon_port = host[close_bracket + 1:]
        if not _valid_optional_port(colon_port):
            raise _GoURLError(f"invalid port {_go_quote(_to_str(colon_port))} after host")
        colon_port = _unescape(colon_port, _ENC_HOST)
        hostname = host[1:close_bracket]
        zone = hostname.find(b"%25")
        if zone >= 0:
            hostname = _unescape(hostname[:zone], _ENC_HOST) + _unescape(hostname[zone:], _ENC_ZONE)
        else:
            hostname = _unescape(hostname, _ENC_HOST)
        if not _is_ipv6_literal(hostname):
            raise _GoURLError("invalid IP-literal")
        return b"[" + hostname + b"]" + colon_port
    colon = host.find(b":")
    if colon != -1 and not _valid_optional_port(host[colon:]):
        raise _GoURLError(f"invalid port {_go_quote(_to_str(host[colon:]))} after host")
    return _unescape(host, _ENC_HOST)


_USERINFO_OK = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:~!$&'()*+,;=%@"
)


def _parse_authority(authority: bytes) -> bytes:
    # net/url parseAuthority: the last '@' ends the userinfo, which is validated but then dropped.
    at = authority.rfind(b"@")
    host = _parse_host(authority[at + 1:] if at >= 0 else authority)
    if at >= 0:
        userinfo = authority[:at]
        if any(b not in _USERINFO_OK for b in userinfo):
            raise _GoURLError("net/url: invalid userinfo")
        for part in userinfo.split(b":", 1):
            _unescape(part, _ENC_USERPASS)
    return host


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    # net/url getScheme.
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if 0x30 <= c <= 0x39 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:
            if i == 0:
                raise _GoURLError("missing protocol scheme")
            return raw[:i], raw[i + 1:]
        return b"", raw
    return b"", raw


def _go_url_parse(raw: bytes) -> _GoURL:
    # net/url Parse (viaRequest=false), keeping only what the keyring reads: Host and Path.
    u, has_fragment, fragment = raw.partition(b"#")
    if any(b < 0x20 or b == 0x7F for b in u):
        raise _GoURLError("net/url: invalid control character in URL")
    if u == b"*":
        return _GoURL(host=b"", path=b"*")
    scheme, rest = _get_scheme(u)
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition(b"?")[0]
    if not rest.startswith(b"/"):
        if scheme:
            return _GoURL(host=b"", path=b"")  # opaque URL: no host, no path
        if b":" in rest.partition(b"/")[0]:
            raise _GoURLError("first path segment in URL cannot contain colon")
    host = b""
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, tail = rest[2:].partition(b"/")
        rest = slash + tail
        host = _parse_authority(authority)
    path = _unescape(rest, _ENC_PATH)
    if has_fragment and fragment:
        _unescape(fragment, _ENC_FRAGMENT)
    return _GoURL(host=host, path=path)


def _split_host_port(hostport: bytes) -> tuple[bytes, bytes]:
    # net.SplitHostPort; raises ValueError where Go returns an AddrError.
    i = hostport.rfind(b":")
    if i < 0:
        raise ValueError("missing port in address")
    j = k = 0
    if hostport[:1] == b"[":
        end = hostport.find(b"]")
        if end < 0:
            raise ValueError("missing ']' in address")
        if end + 1 == len(hostport):
            raise ValueError("missing port in address")
        if end + 1 != i:
            if hostport[end + 1:end + 2] == b":":
                raise ValueError("too many colons in address")
            raise ValueError("missing port in address")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if b":" in host:
            raise ValueError("too many colons in address")
    if b"[" in hostport[j:]:
        raise ValueError("unexpected '[' in address")
    if b"]" in hostport[k:]:
        raise ValueError("unexpected ']' in address")
    return host, hostport[i + 1:]


def _split_url(host: bytes) -> tuple[list[bytes], bytes]:
    # keyring.go SplitURL: an unsplittable host keeps everything (brackets, a bare ':') and has no port.
    try:
        hostname, port = _split_host_port(host)
    except ValueError:
        hostname, port = host, b""
    return hostname.split(b"."), port


# --------------------------------------------------------------------------------------------------
# Go path/filepath.Match (Unix: '/' separator, '\\' escapes), on bytes.
# --------------------------------------------------------------------------------------------------


class _BadPattern(ValueError):
    """filepath.ErrBadPattern."""


def _decode_rune(s: bytes) -> tuple[int, int]:
    # utf8.DecodeRuneInString: (RuneError, 1) for an invalid byte.
    if not s:
        return 0xFFFD, 0
    if s[0] < 0x80:
        return s[0], 1
    for width in (2, 3, 4):
        try:
            decoded = s[:width].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(decoded) == 1:
            return ord(decoded), width
    return 0xFFFD, 1


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    # filepath scanChunk.
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == 0x5C:
            if i + 1 < len(pattern):
                i += 1
        elif c == 0x5B:
            in_range = True
        elif c == 0x5D:
            in_range = False
        elif c == 0x2A and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    # filepath getEsc.
    if not chunk or chunk[0] in b"-]":
        raise _BadPattern("syntax error in pattern")
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern("syntax error in pattern")
    r, n = _decode_rune(chunk)
    if r == 0xFFFD and n == 1:
        raise _BadPattern("syntax error in pattern")
    rest = chunk[n:]
    if not rest:
        raise _BadPattern("syntax error in pattern")
    return r, rest


def _match_chunk(chunk: bytes, s: bytes) -> tuple[bytes, bool]:
    # filepath matchChunk: after a mismatch it keeps scanning the chunk so bad syntax still errors.
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == 0x5B:
            r = None
            if not failed:
                r, n = _decode_rune(s)
                s = s[n:]
            chunk = chunk[1:]
            negated = False
            if chunk[:1] == b"^":
                negated = True
                chunk = chunk[1:]
            matched = False
            n_range = 0
            while True:
                if chunk[:1] == b"]" and n_range > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == 0x2D:
                    hi, chunk = _get_esc(chunk[1:])
                if r is not None and lo <= r <= hi:
                    matched = True
                n_range += 1
            if matched == negated:
                failed = True
        elif c == 0x3F:
            if not failed:
                if s[0] == 0x2F:
                    failed = True
                _, n = _decode_rune(s)
                s = s[n:]
            chunk = chunk[1:]
        else:
            if c == 0x5C:
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern("syntax error in pattern")
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return b"", False
    return s, True


def _go_filepath_match(pattern: bytes, name: bytes) -> bool:
    # filepath.Match; raises _BadPattern where Go returns ErrBadPattern.
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return b"/" not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            advanced = False
            i = 0
            while i < len(name) and name[i] != 0x2F:
                rest, ok = _match_chunk(chunk, name[i + 1:])
                if ok:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    advanced = True
                    break
                i += 1
            if advanced:
                continue
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, b"")
        return False
    return not name


# --------------------------------------------------------------------------------------------------
# distribution/reference ParseNormalizedNamed(...).Name() and go-digest validation.
# --------------------------------------------------------------------------------------------------

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
        raise ValueError(f"couldn't parse image name {_go_quote(image)}: {err}") from None


# --------------------------------------------------------------------------------------------------
# keyring.go
# --------------------------------------------------------------------------------------------------


def _parse_key_bytes(key: str) -> tuple[bytes | None, str | None]:
    # BasicDockerKeyring.Add: returns (index key, None) or (None, url.Parse error).
    value = key if key.startswith(("https://", "http://")) else "https://" + key
    try:
        parsed = _go_url_parse(_to_bytes(value))
    except _GoURLError as err:
        return None, f"parse {_go_quote(value)}: {err}"
    effective_path = parsed.path
    # "It also considers /v2/ and /v1/ equivalent to the hostname" -- only with the trailing slash.
    if effective_path.startswith((b"/v2/", b"/v1/")):
        effective_path = effective_path[3:]
    if effective_path and effective_path != b"/":
        return parsed.host + effective_path, None
    return parsed.host, None


def parse_key(key: str) -> str | None:
    """Return the index key `BasicDockerKeyring.Add` files an `auths` key under, or None if it is ignored."""
    index_key, _ = _parse_key_bytes(key)
    return None if index_key is None else _to_str(index_key)


def _urls_match_bytes(glob: bytes, target: bytes) -> bool:
    # URLsMatchStr -> URLsMatch; Lookup treats every error as "no match".
    try:
        glob_url = _go_url_parse(b"https://" + glob)
        target_url = _go_url_parse(b"https://" + target)
    except _GoURLError:
        return False
    glob_parts, glob_port = _split_url(glob_url.host)
    target_parts, target_port = _split_url(target_url.host)
    if glob_port != target_port:
        return False
    if len(glob_parts) != len(target_parts):
        return False
    # Plain string prefix, not path-segment aware: "host/pong" matches "host/pongz".
    if not target_url.path.startswith(glob_url.path):
        return False
    for glob_part, target_part in zip(glob_parts, target_parts):
        try:
            if not _go_filepath_match(glob_part, target_part):
                return False
        except _BadPattern:
            return False
    return True


def urls_match(key: str, image: str) -> bool:
    """`URLsMatchStr(key, image)` on an index key and a normalised repository name; errors count as no match."""
    return _urls_match_bytes(_to_bytes(key), _to_bytes(image))


def is_default_registry_match(image: str) -> bool:
    """`isDefaultRegistryMatch`: whether the kubelet treats `image` as a Docker Hub image for the fallback."""
    first, slash, _ = image.partition("/")
    if not first:
        return False
    if not slash:
        return True
    if first in ("docker.io", "index.docker.io"):
        return True
    # "Docker looks for either a '.' (domain separator) or ':' (port separator)".
    return "." not in first and ":" not in first


def _build_index(config_keys: Sequence[str]) -> dict[bytes, list[str]]:
    # BasicDockerKeyring.Add: creds for equal index keys are appended in insertion order.
    index: dict[bytes, list[str]] = {}
    for key in config_keys:
        index_key, _ = _parse_key_bytes(key)
        if index_key is not None:
            index.setdefault(index_key, []).append(key)
    return index


def lookup_normalized(config_keys: Sequence[str], repository: str) -> list[str]:
    """`BasicDockerKeyring.Lookup` on an already-normalised repository: the keys whose creds are tried, in order."""
    index = _build_index(config_keys)
    target = _to_bytes(repository)
    found: list[str] = []
    # Add keeps the index de-duplicated and sorted in reverse byte order; Lookup concatenates every match.
    for index_key in sorted(index, reverse=True):
        if _urls_match_bytes(index_key, target):
            found.extend(index[index_key])
    if found:
        return found
    if is_default_registry_match(repository) and _FALLBACK_KEY in index:
        return list(index[_FALLBACK_KEY])
    return []


def lookup(config_keys: Sequence[str], image: str) -> list[str]:
    """Return the `auths` keys (as written) whose credentials the kubelet tries for a pod image, in order."""
    return lookup_normalized(config_keys, normalize_image(image))


# --------------------------------------------------------------------------------------------------
# Diagnostics for `explain` and preview warnings. They only ever see keys, never credentials.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyProblem:
    """Why an `auths` key does not do what it appears to do, and how to fix it."""

    key: str
    kind: str
    message: str


_FIX_DOCKER_HUB = f"use '{_DOCKER_HUB_KEY}' (the kubectl default) or 'docker.io' for Docker Hub"


def _host_and_path(index_key: bytes) -> tuple[bytes, bytes] | None:
    # How URLsMatchStr re-reads an index key.
    try:
        parsed = _go_url_parse(b"https://" + index_key)
    except _GoURLError:
        return None
    return parsed.host, parsed.path


def _path_suffixes(path: bytes) -> list[bytes]:
    # Completions of a key's path prefix into image paths: a prefix matches some valid image iff one of
    # these does (image paths are lowercase components joined by '/', separators between alphanumerics).
    if not path:
        return [b"/a", b"/a/a"]
    return [path, path + b"a", path + b"/a", path + b"a/a", path + b"/a/a"]


def _matches_some(index_key: bytes, candidates: list[bytes]) -> bool:
    for candidate in candidates:
        try:
            repository = normalize_image(_to_str(candidate))
        except ValueError:
            continue
        if _urls_match_bytes(index_key, _to_bytes(repository)):
            return True
    return False


def _can_match_any_image(index_key: bytes) -> bool:
    # Probe with images built from the key itself; for a literal host this is exact, for '*' globs it tries
    # a few fills (including "localhost" and an uppercase name, the single-label hosts distribution keeps).
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    host, path = host_path
    try:
        hostname, port = _split_host_port(host)
        if b":" in hostname:
            hostname = b"[" + hostname + b"]"
    except ValueError:
        hostname, port = host, b""
    hostnames = [hostname]
    if b"*" in hostname:
        hostnames = [hostname.replace(b"*", fill) for fill in (b"a", b"A", b"0")]
        if hostname == b"*":
            hostnames.append(b"localhost")
    domains = [h + (b":" + port if port else b"") for h in hostnames]
    return _matches_some(index_key, [d + s for d in domains for s in _path_suffixes(path)])


def _can_match_docker_hub(index_key: bytes) -> bool:
    # A direct match (not the isDefaultRegistryMatch fallback) against some docker.io/... repository.
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    return _matches_some(index_key, [b"docker.io" + s for s in _path_suffixes(host_path[1])])


def _docker_hub_coverage(index_key: bytes) -> str:
    host_path = _host_and_path(index_key)
    path = host_path[1] if host_path else b""
    if not path:
        return "all Docker Hub images"
    if path in (b"/library", b"/library/"):
        return "official images (docker.io/library/...)"
    return f"Docker Hub images whose name starts with docker.io{_to_str(path)}"


def _looks_like_docker_hub(index_key: bytes) -> bool:
    # Label-aware, so "myhostdocker.io" (TestIsDefaultRegistryMatch's non-Hub example) is not flagged.
    host_path = _host_and_path(index_key)
    if host_path is None:
        return False
    hostname, _ = _split_url(host_path[0])
    name = b".".join(hostname).lower()
    return any(name == d or name.endswith(b"." + d) for d in (b"docker.io", b"docker.com"))


def _never_matches_hint(index_key: bytes) -> str:
    host_path = _host_and_path(index_key)
    if host_path is None:
        return "the kubelet cannot re-read it when matching"
    host, path = host_path
    if host.startswith(b"[") and host.endswith(b"]"):
        return (
            "a bracketed IPv6 host without a port is compared as a glob character class; add the port, "
            "e.g. '[fd00::1]:5000'"
        )
    if path != path.lower():
        return "image paths are always lowercase; write the path in lowercase"
    if b"." not in host and b":" not in host and host != b"localhost" and host == host.lower():
        return (
            "image names read a first component without '.' or ':' as a Docker Hub namespace; use the "
            "registry's dotted name or add its port, e.g. 'myregistry.local' or 'myregistry:5000'"
        )
    return "no valid image reference has this host, port and path; write host[:port][/path-prefix]"


def diagnose_keys(config_keys: Sequence[str]) -> list[KeyProblem]:
    """Flag `auths` keys that never match, look like Docker Hub but are not, or are shadowed."""
    parsed = [(key, *_parse_key_bytes(key)) for key in config_keys]
    direct_hub = [
        (key, index_key)
        for key, index_key, _ in parsed
        if index_key is not None and index_key != _FALLBACK_KEY and _can_match_docker_hub(index_key)
    ]
    problems: list[KeyProblem] = []
    for key, index_key, error in parsed:
        if index_key is None:
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' is not a URL the kubelet can parse ({error}), so it ignores this entry; "
                "write it as host[:port][/path-prefix], e.g. 'registry.example.com:5000'"
            )))
            continue
        indexed = _to_str(index_key)
        cut = next((c for c in "?#" if c in key), None)
        if cut is not None:
            what = "a URL query" if cut == "?" else "a URL fragment"
            used = index_key == _FALLBACK_KEY or _can_match_any_image(index_key)
            effect = (
                f"so it is used only where '{indexed}' matches, never as written"
                if used
                else "which never matches any image"
            )
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' contains '{cut}', which starts {what}: the kubelet drops everything from it and "
                f"files the entry under '{indexed}', {effect}; remove the '{cut}' part ('*' is the only "
                "usable wildcard, e.g. '*.example.com')"
            )))
            continue
        host_path = _host_and_path(index_key)
        if host_path is not None and host_path[0] == b"":
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' has no registry host (the kubelet files it under '{indexed}'), so it never "
                f"matches an image; write the registry host, e.g. 'registry.example.com', or {_FIX_DOCKER_HUB}"
            )))
            continue
        if index_key == _FALLBACK_KEY:
            if direct_hub:
                coverages = [_docker_hub_coverage(ik) for _, ik in direct_hub]
                covers = " and ".join(f"'{k}' matches {c}" for (k, _), c in zip(direct_hub, coverages))
                scope = "all Docker Hub images" if "all Docker Hub images" in coverages else " and ".join(coverages)
                others = " and ".join(f"'{k}'" for k, _ in direct_hub)
                problems.append(KeyProblem(key, "shadowed", (
                    f"'{key}' is the Docker Hub fallback key, but {covers} directly; the kubelet falls back to "
                    f"index.docker.io only when no key matches, so the credentials under '{key}' are never "
                    f"tried for {scope}. Keep one Docker Hub entry (drop '{key}', or drop {others}), or put "
                    "the same credentials under both"
                )))
            continue
        if _looks_like_docker_hub(index_key) and not _can_match_docker_hub(index_key):
            problems.append(KeyProblem(key, "not-docker-hub", (
                f"'{key}' looks like Docker Hub, but the kubelet files it under '{indexed}', which never "
                "matches a Docker Hub image (those are named docker.io/library/nginx, docker.io/<user>/<app>, "
                "...) and is not the index.docker.io fallback key; "
                f"{_FIX_DOCKER_HUB}"
            )))
            continue
        if not _can_match_any_image(index_key):
            problems.append(KeyProblem(key, "never-matches", (
                f"'{key}' (filed under '{indexed}') never matches any image: {_never_matches_hint(index_key)}"
            )))
    return problems
