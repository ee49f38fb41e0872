"""Fixtures of the real-engine suite: the toolchain, one loopback control plane per session, an engine per test."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from support.controlplane import ControlPlane
from support.engine import Engine, toolchain_bin


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The toolchain's bin directory (built by scripts/toolchain if it is missing)."""
    return toolchain_bin()


@pytest.fixture(scope="session")
def control_plane(engine_bin: Path, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """etcd, kube-apiserver and kube-controller-manager on 127.0.0.1, for the whole session."""
    run_dir = Path(tempfile.mkdtemp(prefix="regcreds-cp-"))
    plane = ControlPlane(run_dir, engine_bin)
    try:
        plane.start()
        yield plane
    finally:
        plane.stop()
        if request.session.testsfailed:
            print(f"\ncontrol plane logs kept in {run_dir / 'logs'}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def engine(engine_bin: Path, control_plane: ControlPlane, tmp_path: Path) -> Engine:
    """Projects for one test, each with its own state backend and PULUMI_HOME, pointed at the control plane."""
    return Engine(engine_bin, tmp_path, control_plane.kubeconfig)
