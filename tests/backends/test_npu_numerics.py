"""Per-kernel numerics: the emulator against float64, within the bounds stated in
amanuensis_desktop/backends/npu/emulator.py, and the encoder against the fp32 reference."""

from __future__ import annotations

import numpy as np
import pytest

from amanuensis_desktop.backends.npu import emulator as E
from amanuensis_desktop.backends.npu.bf16 import bf16_ulp, from_bf16_bits, round_bf16, to_bf16_bits
from amanuensis_desktop.backends.npu.selftest import compare, make_inputs
from amanuensis_desktop.backends.npu.spec import DEVICES, MODELS, encoder_plan, parse_key

U = 2.0**-24  # fp32 unit roundoff
UB = 2.0**-9  # bf16 unit roundoff (8 significant bits)


def rng(seed=0):
    return np.random.default_rng(seed)


# --- bf16 -----------------------------------------------------------------------------------------


def test_bf16_round_to_nearest_even_matches_integer_reference():
    x = np.concatenate(
        [
            rng().standard_normal(200_000).astype(np.float32) * 1e3,
            np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 3.4e38, 1e-40, 0.0, -0.0, np.inf, -np.inf], np.float32),
        ]
    )
    u = x.view(np.uint32).astype(np.uint64)
    hi, lo = u >> 16, u & 0xFFFF
    expect = (hi + ((lo > 0x8000) | ((lo == 0x8000) & (hi & 1 == 1)))).astype(np.uint16)
    assert np.array_equal(to_bf16_bits(x), expect)
    assert to_bf16_bits(np.array([1 + 2**-8], np.float32))[0] == 0x3F80  # tie → even (down)
    assert to_bf16_bits(np.array([1 + 3 * 2**-8], np.float32))[0] == 0x3F82  # tie → even (up)
    assert np.isnan(from_bf16_bits(to_bf16_bits(np.array([np.nan], np.float32))))[0]


def test_bf16_rounding_error_is_half_an_ulp():
    x = rng(1).standard_normal(100_000).astype(np.float32)
    r = round_bf16(x)
    assert np.all(np.abs(r.astype(np.float64) - x) <= 0.5 * bf16_ulp(x) * (1 + 1e-6))


# --- GEMM -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 64, 64, 32), (2, 128, 384, 96), (1, 32, 1536, 64)])
def test_gemm_emulator_against_float64(shape):
    b, m, k, n = shape
    a = rng(2).standard_normal((b, m, k)).astype(np.float32)
    w = rng(3).standard_normal((b, k, n)).astype(np.float32)
    got = E.gemm_f32(to_bf16_bits(a), to_bf16_bits(w)).astype(np.float64)
    a16, w16 = round_bf16(a).astype(np.float64), round_bf16(w).astype(np.float64)
    exact16 = a16 @ w16  # products of bf16 are exact; float64 summation error is negligible here
    mag = np.abs(a16) @ np.abs(w16)
    gamma = k * U / (1 - k * U)
    # fp32 accumulation: within γ_K Σ|a||b| of the exact sum of the bf16 products
    assert np.all(np.abs(got - exact16) <= gamma * mag)
    # and against the unrounded fp64 product: plus the bf16 input rounding, ≤ (2u_b + u_b²) Σ|a||b|
    exact = a.astype(np.float64) @ w.astype(np.float64)
    assert np.all(
        np.abs(got - exact) <= (gamma + 2 * UB + UB * UB) * (np.abs(a) @ np.abs(w)).astype(np.float64) * 1.001
    )


def test_gemm_accumulates_k_blocks_in_order():
    """The accumulator is carried across 64-deep K-blocks in increasing order: same bits as an explicit loop."""
    a = to_bf16_bits(rng(4).standard_normal((1, 16, 256)).astype(np.float32) * 100)
    w = to_bf16_bits(rng(5).standard_normal((1, 256, 8)).astype(np.float32))
    af, wf = from_bf16_bits(a)[0], from_bf16_bits(w)[0]
    acc = np.zeros((16, 8), np.float32)
    for j in range(0, 256, 64):
        acc = acc + (af[:, j : j + 64] @ wf[j : j + 64])
    assert np.array_equal(E.gemm_f32(a, w)[0], acc)


# --- row kernels ------------------------------------------------------------------------------------


def test_exp2_against_float64():
    y = np.linspace(-130, 0, 200_001, dtype=np.float32)
    got = E.exp2_kernel(y).astype(np.float64)
    exact = np.exp2(y.astype(np.float64))
    normal = y >= -126
    assert np.all(np.abs(got[normal] - exact[normal]) <= 3e-5 * exact[normal])
    assert np.all(got[~normal] == 0)
    assert E.exp2_kernel(np.array([0.0], np.float32))[0] == 1.0


def _bf16_out_bound(exact, approx_rel):
    """Output rounded to bf16 RNE from an fp32 value within approx_rel of exact: half an ulp + approx."""
    return 0.5 * bf16_ulp(exact) + approx_rel * np.abs(exact) + 2.0**-30


def test_softmax_against_float64():
    x = (rng(6).standard_normal((64, 1536)) * 4).astype(np.float32)
    valid = 1500
    got = from_bf16_bits(to_bf16_bits(E.softmax_rows(x, valid))).astype(np.float64)
    xv = x[:, :valid].astype(np.float64)
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True)
    assert np.all(got[:, valid:] == 0)
    assert np.all(np.abs(got[:, :valid] - exact) <= _bf16_out_bound(exact, 1e-4))
    assert np.allclose(got.sum(axis=1), 1, atol=valid * 2**-9 * 2 / valid + 0.01)


def test_layernorm_against_float64():
    x = (rng(7).standard_normal((256, 384)) * 3 + 0.5).astype(np.float32)
    g = rng(8).uniform(0.5, 1.5, 384).astype(np.float32)
    b = (rng(9).standard_normal(384) * 0.1).astype(np.float32)
    got = from_bf16_bits(to_bf16_bits(E.layernorm_rows(x, g, b))).astype(np.float64)
    xd = x.astype(np.float64)
    exact = (xd - xd.mean(1, keepdims=True)) / np.sqrt(xd.var(1, keepdims=True) + 1e-5) * g + b
    assert np.all(np.abs(got - exact) <= _bf16_out_bound(exact, 0) + 2e-5 * (np.abs(exact) + 1))


def test_bias_gelu_against_float64():
    from math import erf

    x = (rng(10).standard_normal((64, 1536)) * 2).astype(np.float32)
    bias = (rng(11).standard_normal(1536) * 0.2).astype(np.float32)
    got = from_bf16_bits(to_bf16_bits(E.bias_gelu_rows(x, bias))).astype(np.float64)
    u = (x + bias).astype(np.float64)
    exact = 0.5 * u * (1 + np.vectorize(erf)(u / np.sqrt(2)))
    # A&S 7.1.26 (|erf error| < 1.5e-7) and the exp2 polynomial (< 3e-5 relative on exp(-x²/2))
    assert np.all(np.abs(got - exact) <= _bf16_out_bound(exact, 0) + 0.5 * np.abs(u) * 4e-5 + 1e-7)


# --- self-test bounds are neither vacuous nor too tight ---------------------------------------------


@pytest.mark.parametrize(
    "kernel,key",
    [
        ("gemm", "gemm_b2_256x128x128"),
        ("softmax", "softmax_32x256_v200"),
        ("layernorm", "layernorm_32x384"),
        ("bias_gelu", "bias_gelu_32x256"),
    ],
)
def test_self_test_bound_accepts_reordering_and_rejects_faults(kernel, key):
    dev = E.EmulatorDevice("npu1")
    inputs, _shape, _dt = make_inputs(kernel, key, rng(12))
    expect = dev.compute(kernel, key, inputs)
    assert compare(kernel, key, inputs, expect, expect) is None
    if kernel == "gemm":
        # a different summation order inside each K-block (what the MAC unit may do) passes
        b, m, k, n = parse_key(key)[1]
        a, w = from_bf16_bits(inputs[0]), from_bf16_bits(inputs[1])
        rev = np.zeros((b, m, n), np.float32)
        for j in range(0, k, 64):
            for i in reversed(range(j, j + 64)):
                rev += a[..., i : i + 1] * w[:, i : i + 1, :]
        assert compare(kernel, key, inputs, rev, expect) is None
        garbage = rng(13).standard_normal(expect.shape).astype(np.float32)
        zeros = np.zeros_like(expect)
    else:
        bumped = expect.copy()
        bumped.reshape(-1)[::7] += np.uint16(1)  # one bf16 ulp on some outputs passes
        assert compare(kernel, key, inputs, bumped, expect) is None
        garbage = rng(13).integers(0, 2**16, expect.shape, dtype=np.uint16)
        zeros = np.zeros_like(expect)
    assert "all zeros" in compare(kernel, key, inputs, zeros, expect)
    assert compare(kernel, key, inputs, garbage, expect) is not None


# --- shapes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("gen", ["npu1", "npu2"])
def test_plan_pads_whisper_shapes_into_kernel_blocks(gen):
    sp = DEVICES[gen]
    plan = encoder_plan(sp, *MODELS["tiny"])
    assert sp.pad_t(1500) == 1536
    for c in plan.calls:
        kind, shape = parse_key(c.key)
        if kind == "gemm":
            _b, m, k, n = shape
            assert m % sp.gemm.m_block == 0 and k % sp.gemm.k == 0 and n % sp.gemm.n_block == 0, c
        else:
            assert shape[0] % sp.row_cores == 0, c
    useful, executed = plan.flops()
    # 2·M·K·N per GEMM, counted independently: conv1, conv2, then per layer QKV, QKᵀ, PV, out, fc1, fc2
    t, d = 1500, 384
    per_layer = 2 * t * d * 3 * d + 2 * 2 * 6 * t * t * 64 + 2 * t * d * d + 2 * 2 * t * d * 4 * d
    assert useful == 2 * 3000 * 240 * d + 2 * t * 3 * d * d + 4 * per_layer  # 36.9 GFLOP per 30 s window
    assert executed >= useful
    # one dispatch per whole matrix: tens of dispatches per window, not one per frame
    assert plan.dispatches < 60


# --- the encoder through the emulator vs the fp32 reference ------------------------------------------


def test_emulated_encoder_close_to_fp32_reference():
    from amanuensis_desktop.backends.npu.runtime import NpuEncoder
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend
    from amanuensis_desktop.whisper.model import load_weights

    w = load_weights()
    mel = (rng(14).standard_normal((w.dims.n_mels, 3000)) * 0.3 - 0.2).astype(np.float32)
    ref = NumpyBackend(w).encode(mel)
    dev = E.EmulatorDevice("npu1")
    got = NpuEncoder(w, dev, DEVICES["npu1"]).encode(mel)
    assert got.shape == ref.shape == (1500, w.dims.n_audio_state)
    rel = np.sqrt(np.mean((got - ref) ** 2) / np.mean(ref**2))
    assert rel < 0.02, rel
    assert dev.dispatches == encoder_plan(DEVICES["npu1"], *MODELS["tiny"]).dispatches
