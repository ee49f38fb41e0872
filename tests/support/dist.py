"""The package as users get it: the sdist and wheel built from this checkout, installed into fresh virtualenvs.

Nothing is downloaded here: `bash scripts/test` fills the test venv's `wheelhouse/` with the runtime dependencies at
the pinned versions (toolchain/versions.env) and setuptools, and every install here reads only that.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
"""Filled by scripts/test (pip download of the runtime dependencies, under the same constraints as the venv)."""
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "MANIFEST.in", "components")
"""What a build of the package reads; a copy of only these keeps the checkout clean and proves nothing else is used."""


@dataclass(frozen=True)
class Dist:
    """A built sdist and the wheel built from it."""

    sdist: Path
    wheel: Path

    def wheel_names(self) -> List[str]:
        """Every file in the wheel."""
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.namelist()

    def wheel_text(self, name: str) -> str:
        """One file of the wheel, as text."""
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.read(name).decode("utf-8")

    def sdist_names(self) -> List[str]:
        """Every file in the sdist, without its top folder (`registry_credentials-<version>/`)."""
        with tarfile.open(self.sdist) as archive:
            return [m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile() and "/" in m.name]


def clean_env(**extra: str) -> Dict[str, str]:
    """The environment of a user's shell: no PYTHON* or PIP_* settings of ours, no Pulumi settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "PULUMI_", "REGISTRY_CREDENTIALS_", "VIRTUAL_ENV", "COVERAGE"))}
    env.update(extra)
    return env


def build(out: Path) -> Dist:
    """Build the sdist, then the wheel from the unpacked sdist, as `python -m build` does, from a copy of SOURCES.

    `--no-isolation` builds with the test venv's setuptools (the `test` extra pins what [build-system] requires), so
    the build needs no network.
    """
    source = out / "source"
    source.mkdir(parents=True)
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, source / name)
    dist = out / "dist"
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
                            capture_output=True, text=True, timeout=300, env=clean_env())
    if result.returncode != 0:
        raise AssertionError(f"python -m build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return Dist(sdist, wheel)


def fresh_venv(path: Path, *requirements: str) -> Path:
    """A new virtualenv from the base interpreter with `requirements` installed from the wheelhouse alone.

    Returns its bin directory. The test venv and this checkout are nowhere on its path.
    """
    if not (WHEELHOUSE / ".stamp").is_file():
        raise AssertionError(f"no wheelhouse at {WHEELHOUSE}: run `bash scripts/test`, which fills it")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(path)], check=True, timeout=120, env=clean_env())
    bin_dir = path / "bin"
    result = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
         "--find-links", str(WHEELHOUSE), *requirements],
        capture_output=True, text=True, timeout=600, env=clean_env(), cwd=path,
    )
    if result.returncode != 0:
        raise AssertionError(f"pip install {' '.join(requirements)} failed:\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return bin_dir
