"""The artefacts of `make package` (dist/), tested as a user gets them: run by `make test-package`, which builds
them first and sets AMANUENSIS_PACKAGE_TESTS=1. Under plain `make test` these tests are skipped (with the reason):
building the bundle takes minutes. Every run here is outside the source tree: cwd is a temporary folder, and
neither PYTHONPATH, the project's .venv nor its bin/ is in the environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from amanuensis_desktop.settings import APP_ID

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("AMANUENSIS_DIST", ROOT / "dist"))
JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
__all__ = ["APP_ID", "DIST", "JFK", "ROOT", "clean_env", "run"]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("AMANUENSIS_PACKAGE_TESTS"):
        return
    skip = pytest.mark.skip(reason="packaging tests run with `make test-package` (it builds dist/ first)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who installed the artefact: no PYTHONPATH, no virtualenv, no project .venv or
    source tree on PATH; a fresh HOME (so fresh settings and caches)."""
    venv_bins = {str(ROOT / ".venv" / "bin"), str(Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin")}
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and p not in venv_bins]
    path = [p for p in path if not p.startswith(str(ROOT))]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "AMANUENSIS_DATA_DIR", "AMANUENSIS_CACHE_DIR")
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=os.pathsep.join(path),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
    )
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def dist() -> Path:
    if not DIST.is_dir():
        pytest.fail(f"{DIST} does not exist: run `make package` first")
    return DIST


def one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {dist}, found {[f.name for f in found]}"
    return found[0]
