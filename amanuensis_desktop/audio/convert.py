"""Native-rate multi-channel blocks → 16 kHz mono float32 with soxr's streaming resampler (state kept across
blocks, flushed at the end: no sample is lost)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..whisper.audio import SAMPLE_RATE


class Converter:
    """Native-rate ``[n, channels]`` blocks → 16 kHz mono float32, streaming (soxr keeps its state)."""

    def __init__(self, in_rate: float, channels: int) -> None:
        self.in_rate = float(in_rate)
        self.channels = int(channels)
        self._rs: Any = None
        if int(round(self.in_rate)) != SAMPLE_RATE:
            import soxr

            self._rs = soxr.ResampleStream(self.in_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def push(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1)
        x = np.ascontiguousarray(x.reshape(-1), dtype=np.float32)
        if self._rs is None:
            return x
        return self._rs.resample_chunk(x, last=False)

    def flush(self) -> np.ndarray:
        if self._rs is None:
            return np.zeros(0, np.float32)
        return self._rs.resample_chunk(np.zeros(0, np.float32), last=True)
