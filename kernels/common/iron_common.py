"""Helpers shared by the Amanuensis IRON designs (kernels/*/*.py).

Written against the IRON API of mlir-aie 1.4.1 (see kernels/README.md for the pin): ``aie.iron``'s
ObjectFifo / Worker / Runtime / Program / Kernel / Buffer / WorkerRuntimeBarrier, ``aie.iron.placers``,
``aie.iron.device`` and ``aie.helpers.taplib``. Every design imports from here so an API difference between
releases is fixed in one place.

Runtime parameters: each core waits on its ``WorkerRuntimeBarrier`` (``wait_for_value(1)``, an acquire that
leaves the lock at 1), reads its parameters, then MUST call ``release_with_value(1)`` to take the lock back
to 0. The Worker body runs in a ``while(true)`` loop for the life of the hardware context, so without that
release the next dispatch would pass the barrier at once and read the previous shape's parameters (mlir-aie's
own barrier test pairs the two calls the same way). Use :func:`read_rtps`.

Shim DMA limits (checked by :func:`shim_tap` before aiecc sees them, mirroring the verifier of
``aiex.npu.dma_memcpy_nd``): the outermost size (iteration / repeat) is at most 64, the two inner wraps at
most 1023 (dimension 0 counted in 32-bit words) unless the transfer is linear, every stride at most 2^20
words; and a shim channel's task queue holds at most 4 outstanding tasks.
"""

from __future__ import annotations

import argparse

import numpy as np

try:  # the runtime-parameter buffer was called GlobalBuffer before it became Buffer
    from aie.iron import Buffer
except ImportError:  # pragma: no cover - older IRON
    from aie.iron import GlobalBuffer as Buffer  # type: ignore[no-redef]
from aie.iron import Kernel, ObjectFifo, Program, Runtime, Worker, WorkerRuntimeBarrier  # noqa: F401
from aie.iron.controlflow import range_  # noqa: F401
from aie.iron.device import NPU2, Tile  # noqa: F401

try:  # the 4-column Phoenix/Hawk Point device; later releases also call the whole array NPU1
    from aie.iron.device import NPU1Col4
except ImportError:  # pragma: no cover
    from aie.iron.device import NPU1 as NPU1Col4  # type: ignore[no-redef]
from aie.iron.placers import SequentialPlacer  # noqa: F401
from aie.helpers.taplib import TensorAccessPattern  # noqa: E402

# Compute array per generation: rows of compute cores, columns we use.
ARRAY = {"npu1": (4, 4), "npu2": (4, 8)}


def device(dev: str):
    return NPU1Col4() if dev == "npu1" else NPU2()


def rtp_buffers(rows: int, cols: int, n: int, prefix: str):
    """One int32[n] runtime-parameter buffer per core. Initial values are zeros on purpose: the initial
    value is baked into the core image, and the image must not depend on the shape, so that one xclbin
    serves every instruction stream (shape) of a kernel."""
    return [[Buffer(np.ndarray[(n,), np.dtype[np.int32]], name=f"{prefix}_rtp_{r}_{c}",
                    initial_value=np.zeros(n, np.int32), use_write_rtp=True)
             for c in range(cols)] for r in range(rows)]


def barriers(rows: int, cols: int):
    return [[WorkerRuntimeBarrier() for _ in range(cols)] for _ in range(rows)]


def write_rtps_and_release(rt, rtps, values_for):
    """In the runtime sequence: write every core's parameters (``rt.inline_ops``). The caller then sets every
    core's barrier to 1 (``rt.set_barrier``); the core waits on it before it reads them."""
    flat = [buf for row in rtps for buf in row]

    def set_all(*bufs):
        for i, buf in enumerate(bufs):
            for j, v in enumerate(values_for(i)):
                buf[j] = v

    rt.inline_ops(set_all, flat)


def read_rtps(rtp, barrier, count: int):
    """Inside a core function: wait for this dispatch's parameters, read ``count`` of them, and hand the
    barrier back (value 0) so that the next dispatch blocks until its own ``set_barrier``."""
    barrier.wait_for_value(1)
    values = [rtp[i] for i in range(count)]
    barrier.release_with_value(1)
    return values


MAX_ITER = 64  # outermost BD dimension (iteration / repeat), 6 bits
MAX_WRAP = 1023  # d0 (in 32-bit words) and d1 wraps, 10 bits
MAX_STRIDE = 1 << 20  # in 32-bit words
MAX_QUEUED = 4  # outstanding tasks per shim DMA channel


def shim_tap(tensor_dims, offset: int, sizes, strides, elem_bytes: int):
    """A TensorAccessPattern for a shim fill/drain, refused here (one sentence, exit) when aiecc would
    reject it or the hardware cannot express it."""
    s3, s2, s1, s0 = sizes
    t3, t2, t1, t0 = strides
    linear = s2 == 1 and s1 == 1 and t2 == 0 and t1 == 0 and t0 == 1
    words = lambda n: n * elem_bytes // 4  # noqa: E731
    problems = []
    if s3 > MAX_ITER:
        problems.append(f"outer size {s3} > {MAX_ITER}")
    if not linear:
        if t0 != 1:
            problems.append("innermost stride must be 1")
        if words(s0) > MAX_WRAP:
            problems.append(f"d0 wrap {words(s0)} words > {MAX_WRAP}")
        if t1 and s1 > MAX_WRAP:
            problems.append(f"d1 wrap {s1} > {MAX_WRAP}")
    for t in (t3, t2, t1):
        if words(t) > MAX_STRIDE:
            problems.append(f"stride {words(t)} words > {MAX_STRIDE}")
    if (offset * elem_bytes) % 4 or (s0 * elem_bytes) % 4:
        problems.append("offset and innermost size must be whole 32-bit words")
    if problems:
        raise SystemExit(f"access pattern {list(sizes)}/{list(strides)} at {offset} is not a legal shim BD: "
                         + "; ".join(problems))
    return TensorAccessPattern(tuple(tensor_dims), offset, list(sizes), list(strides))


def base_args(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--dev", choices=sorted(ARRAY), default="npu1")
    return ap
