"""A real htpasswd registry whose accepted accounts change over time, on one port and one storage: a rotation.

distribution reads its htpasswd file once, at start (registry/auth/htpasswd), so `accept()` rewrites the file and
restarts the registry on the same port; the pushed image stays in its storage.
"""

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

from support.oci import build_layout
from support.registry import (
    REPOSITORY,
    TAG,
    Registry,
    RegistryError,
    _free_port,
    _parent_death_wrapper,
    _push,
    _registry_env,
    _stop,
    _wait_ready,
    _write_config,
    _write_htpasswd,
    _write_support_files,
    require_tools,
)


class RotatingRegistry:
    """One registry on 127.0.0.1 holding `tiny:1.0`, accepting exactly the accounts last given to `accept`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        _write_support_files(self.workdir)
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.realm = f"rotation-{self.port}"
        self.image = f"{self.host}/{REPOSITORY}:{TAG}"
        self._process: Optional[subprocess.Popen] = None

    def accept(self, accounts: Dict[str, str]) -> None:
        """Restart accepting exactly `accounts` (username -> password)."""
        self.stop()
        path = self.workdir / "htpasswd"
        path.unlink(missing_ok=True)
        first = True
        for username, password in accounts.items():
            if first:
                _write_htpasswd(path, username, password)  # -c: a new file
                first = False
            else:
                added = subprocess.run(["htpasswd", "-B", "-i", str(path), username], input=password.encode(),
                                       capture_output=True, timeout=30)
                if added.returncode != 0:
                    raise RegistryError(f"htpasswd failed (rc={added.returncode})")
        config = _write_config(self.workdir, self.port, self.realm)
        with open(self.workdir / "registry.log", "ab") as log:
            self._process = subprocess.Popen(
                [*_parent_death_wrapper(), "docker-registry", "serve", str(config)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=_registry_env(self.workdir))
        failure, _ = _wait_ready(self._process, self.host, self.realm)
        if failure:
            raise RegistryError(failure)

    def as_user(self, username: str, password: str) -> Registry:
        """This registry as support.registry's Registry, for `inspect` and pushes."""
        return Registry(host=self.host, username=username, password=password, image=self.image,
                        workdir=self.workdir)

    def push(self, username: str, password: str) -> None:
        """Push `tiny:1.0` as an accepted account."""
        _push(self.as_user(username, password), build_layout(self.workdir / "oci").reference)

    def stop(self) -> None:
        """Stop the registry if it runs."""
        if self._process is not None:
            _stop(self._process)
            self._process = None


@contextmanager
def rotating_registry(workdir: Path) -> Iterator[RotatingRegistry]:
    """A RotatingRegistry, stopped on exit."""
    require_tools()
    registry = RotatingRegistry(workdir)
    try:
        yield registry
    finally:
        registry.stop()
