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
    r = u >> np.uint32(16)
    r &= np.uint32(1)
    r += np.uint32(0x7FFF)
    r += u
    r >>= np.uint32(16)
    rounded = r.astype(np.uint16)
    nan = f != f
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
    """The spacing of bf16 numbers at ``|x|``: 2**(exponent - 7), at least 2**-133 (the subnormal step)."""
    f = np.ascontiguousarray(x, dtype=np.float32)
    e = f.view(np.uint32) & np.uint32(0x7F800000)
    np.maximum(e, np.uint32(0x00800000), out=e)  # subnormals and zero: the smallest normal exponent
    out = e.view(np.float32)
    out *= np.float32(2.0**-7)
    return out
