"""Go's path/filepath.Match (Unix: '/' separator, '\\' escapes), on bytes."""


class BadPattern(ValueError):
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
        raise BadPattern("syntax error in pattern")
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern("syntax error in pattern")
    r, n = _decode_rune(chunk)
    if r == 0xFFFD and n == 1:
        raise BadPattern("syntax error in pattern")
    rest = chunk[n:]
    if not rest:
        raise BadPattern("syntax error in pattern")
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
                    raise BadPattern("syntax error in pattern")
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return b"", False
    return s, True


def go_filepath_match(pattern: bytes, name: bytes) -> bool:
    """filepath.Match: raises BadPattern where Go returns ErrBadPattern."""
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
