"""Registry entry for the numpy reference backend ("cpu"): always available."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..whisper.model import Weights
from .base import BackendStatus
from .names import BackendName
from .numpy_backend import NumpyBackend


def probe() -> BackendStatus:
    return BackendStatus(
        BackendName.CPU, True, "numpy reference, always available", label="CPU · numpy", version=np.__version__
    )


def create(weights: Weights, **_options: Any) -> NumpyBackend:
    return NumpyBackend(weights)
