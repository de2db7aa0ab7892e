"""The long switch: AMANUENSIS_LONG=1 runs the long versions (more fuzz cases, a longer soak)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LONG = os.environ.get("AMANUENSIS_LONG", "") not in ("", "0")


@pytest.fixture(scope="session")
def weights():
    from amanuensis_desktop.whisper.model import load_weights

    return load_weights(None)


@pytest.fixture(scope="session")
def pristine(tmp_path_factory, weights) -> Path:
    """The app's own OpenVINO cache entry for CPU int8 (built now if missing), copied; each test damages a copy
    of the copy. (Building it from nothing takes ~40 s here; the suite has usually built it already.)"""
    import shutil

    from amanuensis_desktop.backends.openvino import cache

    be = _create(weights, "CPU")
    entry, root = be.model_dir, cache.cache_root()
    be.close()
    folder = tmp_path_factory.mktemp("ovcache")
    shutil.copytree(entry, folder / "openvino" / "models" / entry.name)
    for sub in ("compiled", "selfcheck"):
        if (root / sub).is_dir():
            shutil.copytree(root / sub, folder / "openvino" / sub)
    return folder


@pytest.fixture
def cache_copy(pristine, tmp_path) -> Path:
    import shutil

    shutil.copytree(pristine, tmp_path / "cache")
    return tmp_path / "cache"


def _create(*args, **kwargs):
    from amanuensis_desktop.backends import openvino as ovreg

    return ovreg.create(*args, **kwargs)
