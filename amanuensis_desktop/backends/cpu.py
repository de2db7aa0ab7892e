"""Registry entry for the numpy reference backend ("cpu"): always available."""

from __future__ import annotations

import numpy as np

from .base import BackendStatus
from .numpy_backend import NumpyBackend


def probe() -> BackendStatus:
    return BackendStatus("cpu", True, "numpy reference, always available", label="CPU · numpy", version=np.__version__)


def create(weights, **_options) -> NumpyBackend:
    return NumpyBackend(weights)
