"""bfloat16 as the NPU kernels see it: the upper 16 bits of an IEEE float32, rounded to nearest-even.

Vectorized with integer bit operations on float32 views (no ml_dtypes needed). These functions are the
single definition of "round to bf16" for the emulator, the host packing code and the tests.
"""

from __future__ import annotations

import numpy as np

_QNAN = np.uint16(0x7FC0)


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 → bf16 bit patterns (``uint16``), round-to-nearest-even; NaN stays a quiet NaN.

    Overflow rounds to ±inf exactly as IEEE RNE does (the carry walks into the exponent).
    """
    f = np.ascontiguousarray(x, dtype=np.float32)
    u = f.view(np.uint32)
    lsb = (u >> np.uint32(16)) & np.uint32(1)
    rounded = ((u + np.uint32(0x7FFF) + lsb) >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(f)
    if nan.any():
        rounded[nan] = _QNAN | ((u[nan] >> np.uint32(16)).astype(np.uint16) & np.uint16(0x8000))
    return rounded


def from_bf16_bits(b: np.ndarray) -> np.ndarray:
    """bf16 bit patterns (``uint16``) → float32 (exact)."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_bf16(x: np.ndarray) -> np.ndarray:
    """float32 → the nearest bf16 value, as float32 (RNE)."""
    return from_bf16_bits(to_bf16_bits(x))


def bf16_ulp(x: np.ndarray) -> np.ndarray:
    """The spacing of bf16 numbers at ``|x|`` (for normal numbers: 2**(exponent - 7))."""
    a = np.abs(np.asarray(x, dtype=np.float32))
    e = np.floor(np.log2(np.maximum(a, np.float32(2.0**-126))))
    return np.exp2(e - 7).astype(np.float32)
