"""The device abstraction the host runtime talks to.

Two implementations with the same calling convention:

* :class:`~.xrt_device.XrtDevice` — the real NPU through pyxrt (buffers are XRT BOs, ``run`` dispatches a
  kernel's instruction stream once per whole matrix);
* :class:`~.emulator.EmulatorDevice` — a numpy emulation of each kernel's arithmetic (buffers are numpy
  arrays, ``run`` computes what the kernel computes).

The host runtime cannot tell them apart, so the emulator also exercises the host's padding, packing and
buffer reuse. Argument layouts (row-major, ``uint16`` = bf16 bit patterns):

=============  ================================================================================
kernel         args (inputs..., output)
=============  ================================================================================
gemm           A bf16 [B, M, K], B bf16 [B, K, N] → C fp32 [B, M, N]
softmax        X fp32 [R, L] → Y bf16 [R, L]   (columns ≥ valid are ignored and written as 0)
layernorm      X fp32 [R, D], gamma/beta fp32 [2, D] → Y bf16 [R, D]
bias_gelu      X fp32 [R, D], bias fp32 [D] → Y bf16 [R, D]
=============  ================================================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class NpuDeviceError(RuntimeError):
    """A kernel could not run or did not complete (XRT error, timeout, missing instruction stream)."""


class NpuNumericsError(NpuDeviceError):
    """A kernel ran but computed numbers outside the stated bounds (zeros, garbage, non-finite values): the
    silicon or the kernel is wrong, unlike an XRT error or a timeout, which may be transient."""


class Buffer:
    """A host-visible buffer. Host code writes ``array`` then calls :meth:`host_wrote`; reads go through
    :meth:`host_view`, which syncs from the device only when a kernel wrote the buffer since."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.host_dirty = False
        self.device_dirty = False

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    def host_wrote(self) -> None:
        self.host_dirty = True

    def host_view(self) -> np.ndarray:
        if self.device_dirty:
            self._sync_from_device()
            self.device_dirty = False
        return self.array

    def prepare_for_device(self) -> None:
        if self.host_dirty:
            self._sync_to_device()
            self.host_dirty = False

    # Emulated buffers live in host memory: nothing to sync.
    def _sync_to_device(self) -> None:
        pass

    def _sync_from_device(self) -> None:
        pass

    def release(self) -> None:
        pass


class Device(ABC):
    #: "xrt" (real NPU) or "emulator"
    kind: str = ""
    #: "npu1" | "npu2"
    generation: str = ""

    @abstractmethod
    def buffer(self, shape: tuple[int, ...], dtype) -> Buffer:
        """A zero-filled buffer usable as any kernel argument."""

    @abstractmethod
    def has(self, kernel: str, key: str) -> bool:
        """Whether the instruction stream ``key`` of ``kernel`` is loaded."""

    @abstractmethod
    def _execute(self, kernel: str, key: str, args: list[Buffer], timeout_s: float) -> None:
        """Run one dispatch; inputs are already on the device."""

    def run(self, kernel: str, key: str, args: list[Buffer], timeout_s: float = 5.0) -> None:
        """One dispatch of ``kernel`` over whole matrices; the last argument is the output."""
        if not self.has(kernel, key):
            raise NpuDeviceError(f"no instruction stream {key} for kernel {kernel}")
        for a in args[:-1]:
            a.prepare_for_device()
        self._execute(kernel, key, args, timeout_s)
        args[-1].device_dirty = True
        args[-1].host_dirty = False
        self.dispatches += 1

    dispatches: int = 0

    def close(self) -> None:
        pass
