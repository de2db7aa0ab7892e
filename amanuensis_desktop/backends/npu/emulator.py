"""Numpy emulation of the NPU kernels' arithmetic: bit-faithful except the summation order inside one
K-block (bounded) and, in the row kernels, the reduction order and the hardware reciprocal (bounded) —
as detailed below.

What each kernel computes (the C++ in ``kernels/`` implements exactly these steps):

GEMM (``kernels/gemm``)
    Inputs arrive as bf16 (the host rounds fp32 → bf16 round-to-nearest-even). Products of two bf16 values
    are exact in fp32. Each core keeps its ``m x n`` output tile in an fp32 accumulator and walks K in
    blocks of ``k`` = 64 in increasing order: ``C = (((0 + P_0) + P_1) + ...)`` where ``P_j`` is the block
    product over K-block ``j``. The tile is stored as fp32 (no output rounding).

    Emulated *bit-faithfully*: bf16 input rounding (RNE), exact products, fp32 accumulator carried across
    K-blocks in the kernel's order, fp32 output. *Bounded, not bit-faithful*: the summation order inside
    one 64-deep K-block (the MAC unit's internal adder tree is not documented; the emulator uses a float32
    BLAS matmul per block). Both orders are within ``γ_K·Σ|a||b|`` (``γ_K = K·2⁻²⁴/(1−K·2⁻²⁴)``) of the
    exact sum, so device and emulator differ by at most ``2·γ_K·(|A|·|B|)`` element-wise — the bound the
    self-test enforces (a zero or garbage kernel misses it by orders of magnitude).

Row kernels (``kernels/softmax``, ``kernels/layernorm``, ``kernels/gelu``)
    fp32 input, fp32 arithmetic in the stated operation order, output rounded to bf16 RNE. exp is
    ``exp2`` by range reduction (``n = floor(y)``, ``f = y - n``) and a degree-6 Horner polynomial in fp32,
    scaled by ``2**n`` through the exponent bits (0 below 2⁻¹²⁶). Row sums, means and variances are fp32
    sums. Emulated bit-faithfully where the operations are IEEE fp32 (element-wise chains, the polynomial,
    the scaling, the final RNE); *bounded*: the order of the row reductions (vector lanes then a lane tree
    on the core vs numpy's pairwise sum) and the hardware's reciprocal/rsqrt, so the self-test allows
    2 bf16 ulps of the output (plus 2⁻²⁴ absolute).
"""

from __future__ import annotations

import numpy as np

from .bf16 import from_bf16_bits, to_bf16_bits
from .device import Buffer, Device
from .spec import DEVICES, DeviceSpec, parse_key

F32 = np.float32
LOG2E = F32(1.4426950408889634)
SQRT1_2 = F32(0.7071067811865476)
LN_EPS = F32(1e-5)
# 2**f = e**(f ln2) on [0, 1): Taylor coefficients ln2**i / i!, i = 0..6 (rel. error < 2e-5 < bf16 ulp/100).
_EXP2_C = tuple(F32(np.log(2.0) ** i / np.prod(np.arange(1, i + 1, dtype=np.float64))) for i in range(7))
# Abramowitz & Stegun 7.1.26, as in the fp32 reference backend.
_P = F32(0.3275911)
_A = (F32(0.254829592), F32(-0.284496736), F32(1.421413741), F32(-1.453152027), F32(1.061405429))


# --------------------------------------------------------------------------------------------------
# The kernels' arithmetic, on float32 arrays
# --------------------------------------------------------------------------------------------------


def gemm_f32(a_bits: np.ndarray, b_bits: np.ndarray, k_block: int = 64, out: np.ndarray | None = None) -> np.ndarray:
    """``[B, M, K] x [B, K, N]`` bf16 bit patterns → fp32, accumulated per K-block in order.

    The accumulator starts at +0 and each block's product is added to it, as on the core (so a block
    product of -0 stores +0, like the kernel's zeroed tile). ``out`` (float32 ``[B, M, N]``) avoids a copy.
    """
    a = from_bf16_bits(a_bits)
    b = from_bf16_bits(b_bits)
    kk = a.shape[-1]
    if kk % k_block:
        raise ValueError(f"K={kk} is not a multiple of the kernel's K-block {k_block}")
    shape = a.shape[:-1] + b.shape[-1:]
    acc = np.zeros(shape, F32) if out is None else out
    if out is not None:
        acc[...] = 0
    tmp = np.empty(shape, F32)
    for j in range(0, kk, k_block):
        np.matmul(a[..., j : j + k_block], b[..., j : j + k_block, :], out=tmp)
        acc += tmp
    return acc


def exp2_kernel(y: np.ndarray) -> np.ndarray:
    """2**y as the kernels compute it (fp32 Horner polynomial + exponent scaling; 0 below 2**-126).

    The scaling by ``2**n`` adds ``n`` to the exponent field, which equals ``ldexp`` bit for bit while the
    result is normal (guaranteed: ``n >= -126`` and ``p(f)`` in ``[1, 2]``).
    """
    y = np.asarray(y, F32)
    yc = np.maximum(y, F32(-126.0))
    n = np.floor(yc)
    f = np.subtract(yc, n, out=yc)  # exact
    c = _EXP2_C
    p = f * c[6]
    p += c[5]
    for ci in c[4::-1]:
        p *= f
        p += ci
    bits = p.view(np.int32)
    bits += n.astype(np.int32) << 23
    p[y < F32(-126.0)] = F32(0.0)
    return p


_ROW_CHUNK = 192  # rows per emulation chunk: keeps the working set in cache


def softmax_rows(x: np.ndarray, valid: int) -> np.ndarray:
    """Row softmax over the first ``valid`` columns (fp32), the rest 0; returns fp32 before output rounding."""
    x = np.asarray(x, F32)
    out = np.zeros_like(x)
    for r0 in range(0, x.shape[0], _ROW_CHUNK):
        xv = x[r0 : r0 + _ROW_CHUNK, :valid]
        mx = xv.max(axis=1, keepdims=True)
        y = np.subtract(xv, mx)
        y *= LOG2E
        e = exp2_kernel(y)
        s = e.sum(axis=1, dtype=F32, keepdims=True)
        inv = F32(1.0) / s
        np.multiply(e, inv, out=out[r0 : r0 + _ROW_CHUNK, :valid])
    return out


def layernorm_rows(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    x = np.asarray(x, F32)
    dd = F32(x.shape[1])
    mean = x.sum(axis=1, dtype=F32, keepdims=True) / dd
    xc = x - mean
    var = (xc * xc).sum(axis=1, dtype=F32, keepdims=True) / dd
    rstd = F32(1.0) / np.sqrt(var + LN_EPS)
    return (xc * rstd) * gamma.astype(F32) + beta.astype(F32)


def bias_gelu_rows(x: np.ndarray, bias: np.ndarray) -> np.ndarray:
    u = np.asarray(x, F32) + bias.astype(F32)
    a = np.abs(u) * SQRT1_2
    t = F32(1.0) / (F32(1.0) + _P * a)
    poly = _A[4] * t + _A[3]
    for ai in (_A[2], _A[1], _A[0]):
        poly = poly * t + ai
    poly = poly * t
    e = exp2_kernel(-(a * a) * LOG2E)
    y = F32(1.0) - poly * e
    erf = np.where(u < 0, -y, y)
    return (F32(0.5) * u) * (F32(1.0) + erf)


# --------------------------------------------------------------------------------------------------
# The emulated device
# --------------------------------------------------------------------------------------------------


class EmulatorDevice(Device):
    """Runs every kernel key the plan needs, on the CPU, with the kernels' arithmetic."""

    kind = "emulator"

    def __init__(self, generation: str = "npu1"):
        if generation not in DEVICES:
            raise ValueError(f"unknown NPU generation {generation!r}")
        self.generation = generation
        self.spec: DeviceSpec = DEVICES[generation]
        self.dispatches = 0

    def buffer(self, shape, dtype) -> Buffer:
        return Buffer(np.zeros(shape, dtype))

    def has(self, kernel: str, key: str) -> bool:
        try:
            return parse_key(key)[0] == kernel
        except ValueError:
            return False

    def _execute(self, kernel: str, key: str, args: list[Buffer], timeout_s: float) -> None:
        out = args[-1].array
        kind, shape = parse_key(key)
        if kind == "gemm" and out.dtype == F32 and out.size == shape[0] * shape[1] * shape[3]:
            b, m, k, n = shape  # write straight into the output buffer
            a = args[0].array.reshape(-1)[: b * m * k].reshape(b, m, k)
            w = args[1].array.reshape(-1)[: b * k * n].reshape(b, k, n)
            gemm_f32(a, w, self.spec.gemm.k, out=out.reshape(b, m, n))
            return
        outputs = self.compute(kernel, key, [a.array for a in args[:-1]])
        out.reshape(-1)[: outputs.size] = outputs.reshape(-1)

    def compute(self, kernel: str, key: str, inputs: list[np.ndarray]) -> np.ndarray:
        """The kernel's output for ``inputs`` (flat-reshaped per the key's shape)."""
        kind, shape = parse_key(key)
        if kind != kernel:
            raise ValueError(f"key {key} is not a {kernel} key")
        if kind == "gemm":
            b, m, k, n = shape
            a = inputs[0].reshape(-1)[: b * m * k].reshape(b, m, k)
            w = inputs[1].reshape(-1)[: b * k * n].reshape(b, k, n)
            return gemm_f32(a, w, self.spec.gemm.k)
        if kind == "softmax":
            r, length, valid = shape
            x = inputs[0].reshape(-1)[: r * length].reshape(r, length)
            return to_bf16_bits(softmax_rows(x, valid))
        if kind == "layernorm":
            r, d = shape
            x = inputs[0].reshape(-1)[: r * d].reshape(r, d)
            gb = inputs[1].reshape(2, d)
            return to_bf16_bits(layernorm_rows(x, gb[0], gb[1]))
        if kind == "bias_gelu":
            r, d = shape
            x = inputs[0].reshape(-1)[: r * d].reshape(r, d)
            return to_bf16_bits(bias_gelu_rows(x, inputs[1].reshape(-1)[:d]))
        raise ValueError(kind)
