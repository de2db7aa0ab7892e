"""Helpers shared by the Amanuensis IRON designs (kernels/*/*.py).

Written against the IRON API of mlir-aie 1.4.1 (see kernels/README.md for the pin): ``aie.iron``'s
ObjectFifo / Worker / Runtime / Program / Kernel / Buffer / WorkerRuntimeBarrier, ``aie.iron.placers``,
``aie.iron.device`` and ``aie.helpers.taplib``. Every design imports from here so an API difference between
releases is fixed in one place.
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
    """In the runtime sequence: write every core's parameters, then release its barrier. The core waits
    on the barrier before it reads them (the write is not instantaneous)."""
    flat = [buf for row in rtps for buf in row]

    def set_all(*bufs):
        for i, buf in enumerate(bufs):
            for j, v in enumerate(values_for(i)):
                buf[j] = v

    rt.inline_ops(set_all, flat)


def base_args(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--dev", choices=sorted(ARRAY), default="npu1")
    return ap
