"""Fixtures of the real-engine suite: the toolchain, a loopback control plane per test, and an engine per test.

Each test gets a control plane of its own (about 5 s to start and 1 s to stop), so a failed scenario can never
leave objects behind for the next one. A failed test's control-plane logs are kept and their path printed.
"""

import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from toolchain.controlplane import ControlPlane
from toolchain.engine import Engine, toolchain_bin


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """Remember each phase's report on the test item, so fixtures can tell whether their test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The toolchain's bin directory (scripts/toolchain builds it first if anything is missing)."""
    return toolchain_bin()


@pytest.fixture
def control_plane(engine_bin: Path, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """etcd, kube-apiserver and kube-controller-manager on 127.0.0.1, for one test."""
    run_dir = Path(tempfile.mkdtemp(prefix="regcreds-cp-"))
    plane = ControlPlane(run_dir, engine_bin)
    try:
        plane.start()
        yield plane
    finally:
        plane.stop()
        failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                     for when in ("setup", "call"))
        if failed:
            print(f"\ncontrol plane logs kept in {run_dir / 'logs'}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def engine(engine_bin: Path, control_plane: ControlPlane, tmp_path: Path) -> Engine:
    """Projects for one test, each with its own state backend and PULUMI_HOME, pointed at the control plane."""
    return Engine(engine_bin, tmp_path, control_plane.kubeconfig)
