"""The toolchain's pins (versions.env) and the Go environment every build and probe runs in."""

import os
import re
from pathlib import Path
from typing import Dict

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions.env"
_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(\S*)$")


def read_versions(path: Path = VERSIONS) -> Dict[str, str]:
    """KEY=value lines of versions.env (comments and blank lines skipped); anything else is an error."""
    pins = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise SystemExit(f"{path}:{number}: expected KEY=value, got {line!r}")
        pins[match.group(1)] = match.group(2)
    return pins


def engine_cache() -> Path:
    """Where modules, build caches and binaries live: outside the repository, shared by every clone."""
    default = Path.home() / ".cache" / "registry-credentials" / "engine"
    return Path(os.environ.get("REGCREDS_ENGINE_CACHE") or default)


def go_env() -> Dict[str, str]:
    """The environment for `go`: the cache's own module and build caches, the machine's Go, static binaries."""
    cache = engine_cache()
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(cache / "gomod"),
        GOCACHE=str(cache / "gobuild"),
        # The machine's Go (1.26) builds every pin; `local` stops go.mod toolchain lines from downloading another.
        GOTOOLCHAIN="local",
        CGO_ENABLED="0",
        GOFLAGS="-trimpath -mod=mod -buildvcs=false",
    )
    return env
