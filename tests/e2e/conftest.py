"""Fixtures of the real-engine suite: the toolchain, a loopback control plane per test, and an engine per test.

Each test gets a control plane of its own, so a failed scenario can never leave objects behind for the next one;
the next one starts while a test runs. A failed test's control-plane logs are kept and their path printed.
"""

import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, List, Optional

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


class PlanePool:
    """Control planes started one test ahead, and stopped in the background: a test never waits for either.

    Starting one takes about 5 s and stopping about 1 s; with a fresh control plane for each of some 40 tests,
    doing both while the previous test runs saves minutes.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self._next: Optional[Future] = None
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="control-plane")
        self._stopping: List[Future] = []

    def _start(self) -> ControlPlane:
        plane = ControlPlane(Path(tempfile.mkdtemp(prefix="regcreds-cp-")), self.bin_dir)
        try:
            return plane.start()
        except BaseException:
            plane.stop()
            raise

    def take(self) -> ControlPlane:
        """A running control plane (the one started ahead, if any); the next one starts now."""
        ahead = self._next or self._executor.submit(self._start)
        self._next = self._executor.submit(self._start)
        return ahead.result()

    def release(self, plane: ControlPlane, keep_logs: bool) -> None:
        """Stop a control plane in the background; its run directory goes unless its logs are wanted."""
        def stop() -> None:
            plane.stop()
            if not keep_logs:
                shutil.rmtree(plane.run_dir, ignore_errors=True)
        self._stopping.append(self._executor.submit(stop))

    def close(self) -> None:
        """Stop the one started ahead and wait for every stop: nothing is left running."""
        if self._next is not None:
            try:
                self.release(self._next.result(), keep_logs=False)
            except Exception:  # noqa: BLE001 - it was never used; its failure is no test's
                pass
        for stopping in self._stopping:
            stopping.result()
        self._executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def plane_pool(engine_bin: Path) -> Iterator[PlanePool]:
    """Where each test's control plane comes from."""
    pool = PlanePool(engine_bin)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def control_plane(plane_pool: PlanePool, request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """etcd, kube-apiserver and kube-controller-manager on 127.0.0.1, for one test."""
    plane = plane_pool.take()
    try:
        yield plane
    finally:
        failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                     for when in ("setup", "call"))
        if failed:
            print(f"\ncontrol plane logs kept in {plane.run_dir / 'logs'}")
        plane_pool.release(plane, keep_logs=failed)


@pytest.fixture
def engine(engine_bin: Path, control_plane: ControlPlane, tmp_path: Path) -> Engine:
    """Projects for one test, each with its own state backend and PULUMI_HOME, pointed at the control plane."""
    return Engine(engine_bin, tmp_path, control_plane.kubeconfig)
