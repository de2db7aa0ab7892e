"""The start-up self-test: every instruction stream the model needs runs on known random inputs on the
device and is compared with the emulator, within the bounds stated in :mod:`.emulator`. Any mismatch,
timeout or XRT error makes the backend refuse (one sentence, shown by ``amanuensis backends``)."""

from __future__ import annotations

import numpy as np

from .bf16 import bf16_ulp, from_bf16_bits, to_bf16_bits
from .device import Device, NpuDeviceError
from .emulator import EmulatorDevice
from .spec import EncoderPlan, parse_key

U24 = 2.0**-24


class SelfTestError(Exception):
    """One sentence. ``numerics`` is True when the device ran and computed wrong numbers (a silicon or
    kernel fault), False when it could not run (XRT error, timeout: possibly transient)."""

    def __init__(self, message: str, numerics: bool = False):
        super().__init__(message)
        self.numerics = numerics


def make_inputs(kernel: str, key: str, rng: np.random.Generator) -> tuple[list[np.ndarray], tuple, type]:
    """Known random inputs in the kernel's argument layout, and the output's shape and dtype."""
    _kind, shape = parse_key(key)
    f32 = np.float32
    if kernel == "gemm":
        b, m, k, n = shape
        a = to_bf16_bits(rng.standard_normal((b, m, k), dtype=f32))
        w = to_bf16_bits(rng.standard_normal((b, k, n), dtype=f32))
        return [a, w], (b, m, n), f32
    if kernel == "softmax":
        r, length, _valid = shape
        return [(rng.standard_normal((r, length), dtype=f32) * f32(4.0))], (r, length), np.uint16
    if kernel == "layernorm":
        r, d = shape
        x = rng.standard_normal((r, d), dtype=f32) * f32(3.0) + f32(0.5)
        gb = np.stack([rng.uniform(0.5, 1.5, d).astype(f32), rng.standard_normal(d, dtype=f32) * f32(0.1)])
        return [x, gb], (r, d), np.uint16
    if kernel == "bias_gelu":
        r, d = shape
        return (
            [rng.standard_normal((r, d), dtype=f32) * f32(2.0), rng.standard_normal(d, dtype=f32) * f32(0.2)],
            (r, d),
            np.uint16,
        )
    raise ValueError(kernel)


def compare(kernel: str, key: str, inputs: list[np.ndarray], got: np.ndarray, expect: np.ndarray) -> str | None:
    """None when ``got`` is within the stated bound of ``expect``; else one sentence."""
    if kernel == "gemm":
        _b, _m, k, _n = parse_key(key)[1]
        g = np.asarray(got, np.float32)
        e = np.asarray(expect, np.float32)
        gamma = k * U24 / (1 - k * U24)
        mag = np.matmul(np.abs(from_bf16_bits(inputs[0])), np.abs(from_bf16_bits(inputs[1])))
        bound = 2.02 * gamma * mag + 1e-30
    else:
        g = from_bf16_bits(got)
        e = from_bf16_bits(expect)
        bound = 2 * bf16_ulp(e) + U24
    if not np.all(np.isfinite(g)):
        return f"{kernel} {key} returned non-finite values"
    if not np.any(g) and np.any(e):
        return f"{kernel} {key} returned all zeros"
    err = np.abs(g - e)
    bad = err > bound
    if bad.any():
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        return (
            f"{kernel} {key} differs from the emulator at {int(bad.sum())} of {err.size} values "
            f"(worst {float(err[i]):.3g} where {float(bound[i]):.3g} is allowed)"
        )
    return None


def run_self_test(device: Device, plan: EncoderPlan, seed: int = 20240, timeout_s: float = 10.0) -> list[str]:
    """Run every (kernel, key) of ``plan`` once; raise :class:`SelfTestError` with one sentence on failure."""
    ref = EmulatorDevice(device.generation)
    rng = np.random.default_rng(seed)
    lines = []
    # smallest dispatches first: a broken kernel is usually found in milliseconds
    order = sorted(
        ((k, key) for k, keys in plan.keys.items() for key in keys),
        key=lambda kk: (int(np.prod(parse_key(kk[1])[1])), kk),
    )
    for kernel, key in order:
        inputs, out_shape, out_dtype = make_inputs(kernel, key, rng)
        bufs = [device.buffer(x.shape, x.dtype) for x in inputs] + [device.buffer(out_shape, out_dtype)]
        try:
            for buf, x in zip(bufs, inputs):
                buf.array[...] = x
                buf.host_wrote()
            device.run(kernel, key, bufs, timeout_s)
            got = np.array(bufs[-1].host_view(), copy=True)
        except NpuDeviceError as exc:
            raise SelfTestError(str(exc)) from exc
        except Exception as exc:  # an XRT binding error of any kind
            raise SelfTestError(f"{kernel} {key} raised {type(exc).__name__}: {exc}") from exc
        finally:
            for buf in bufs:
                buf.release()
        expect = ref.compute(kernel, key, inputs)
        problem = compare(kernel, key, inputs, got, expect)
        if problem:
            raise SelfTestError(problem, numerics=True)
        lines.append(f"{kernel} {key}: ok")
    return lines
