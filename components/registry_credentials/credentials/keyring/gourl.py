"""Go's net/url.Parse and net.SplitHostPort, for the only inputs the keyring gives them: "https://..." strings."""

import ipaddress
from dataclasses import dataclass

from .gostrings import go_quote, to_str


class GoURLError(ValueError):
    """An error Go's url.Parse would return."""


@dataclass(frozen=True)
class GoURL:
    """What the keyring reads of a parsed URL."""

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
                raise GoURLError(f"invalid URL escape {go_quote(to_str(s[i:i + 3]))}")
            if mode == _ENC_HOST and _unhex(s[i + 1]) < 8 and s[i:i + 3] != b"%25":
                raise GoURLError(f"invalid URL escape {go_quote(to_str(s[i:i + 3]))}")
            if mode == _ENC_ZONE:
                v = _unhex(s[i + 1]) << 4 | _unhex(s[i + 2])
                if s[i:i + 3] != b"%25" and v != 0x20 and _should_escape(v, _ENC_HOST):
                    raise GoURLError(f"invalid URL escape {go_quote(to_str(s[i:i + 3]))}")
            i += 3
        else:
            if mode in (_ENC_HOST, _ENC_ZONE) and c < 0x80 and _should_escape(c, mode):
                raise GoURLError(f"invalid character {go_quote(chr(c))} in host name")
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
        raise GoURLError("invalid IP-literal")
    if open_bracket == 0:
        close_bracket = host.rfind(b"]")
        if close_bracket < 0:
            raise GoURLError("missing ']' in host")
        colon_port = host[close_bracket + 1:]
        if not _valid_optional_port(colon_port):
            raise GoURLError(f"invalid port {go_quote(to_str(colon_port))} after host")
        colon_port = _unescape(colon_port, _ENC_HOST)
        hostname = host[1:close_bracket]
        zone = hostname.find(b"%25")
        if zone >= 0:
            hostname = _unescape(hostname[:zone], _ENC_HOST) + _unescape(hostname[zone:], _ENC_ZONE)
        else:
            hostname = _unescape(hostname, _ENC_HOST)
        if not _is_ipv6_literal(hostname):
            raise GoURLError("invalid IP-literal")
        return b"[" + hostname + b"]" + colon_port
    colon = host.find(b":")
    if colon != -1 and not _valid_optional_port(host[colon:]):
        raise GoURLError(f"invalid port {go_quote(to_str(host[colon:]))} after host")
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
            raise GoURLError("net/url: invalid userinfo")
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
                raise GoURLError("missing protocol scheme")
            return raw[:i], raw[i + 1:]
        return b"", raw
    return b"", raw


def go_url_parse(raw: bytes) -> GoURL:
    """net/url Parse (viaRequest=false), keeping only what the keyring reads: Host and Path."""
    u, has_fragment, fragment = raw.partition(b"#")
    if any(b < 0x20 or b == 0x7F for b in u):
        raise GoURLError("net/url: invalid control character in URL")
    if u == b"*":
        return GoURL(host=b"", path=b"*")
    scheme, rest = _get_scheme(u)
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.partition(b"?")[0]
    if not rest.startswith(b"/"):
        if scheme:
            return GoURL(host=b"", path=b"")  # opaque URL: no host, no path
        if b":" in rest.partition(b"/")[0]:
            raise GoURLError("first path segment in URL cannot contain colon")
    host = b""
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, tail = rest[2:].partition(b"/")
        rest = slash + tail
        host = _parse_authority(authority)
    path = _unescape(rest, _ENC_PATH)
    if has_fragment and fragment:
        _unescape(fragment, _ENC_FRAGMENT)
    return GoURL(host=host, path=path)


def split_host_port(hostport: bytes) -> tuple[bytes, bytes]:
    """net.SplitHostPort: raises ValueError where Go returns an AddrError."""
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
