"""The real NPU through pyxrt (ships with XRT in /opt/xilinx/xrt/python or python3-xrt; not on PyPI).

One hardware context per kernel (gemm, softmax, layernorm, bias_gelu: 4 of the ~6 npu1 allows), each
registered once with ``register_xclbin`` (not ``load_xclbin``). Every instruction stream (one per padded
shape) is read once into its own cacheable BO on the kernel's group 1. Data buffers are host-only BOs
allocated once by the host runtime and reused for every window; a dispatch is
``kernel(3, insts_bo, n_words, *data_bos)`` — opcode 3, the instruction BO and its length in 32-bit words,
then the data BOs, whose groups are 3, 4, 5 … — followed by ``wait`` with a timeout.

Nothing here can be exercised without an AMD Ryzen AI machine; the tests use fake devices instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import numpy as np

from .device import Buffer, Device, NpuDeviceError

KERNEL_NAME = "MLIR_AIE"
OPCODE = 3


def read_insts(path: Path) -> np.ndarray:
    """An instruction stream: binary little-endian uint32 words (``insts.bin``) or hex text (``insts.txt``)."""
    if path.suffix == ".txt":
        return np.array([int(line, 16) for line in path.read_text().split() if line], dtype=np.uint32)
    data = path.read_bytes()
    if not data or len(data) % 4:
        raise NpuDeviceError(f"instruction stream {path} is empty or not a whole number of 32-bit words")
    return np.frombuffer(data, dtype="<u4").copy()


class XrtBuffer(Buffer):
    def __init__(self, xrt, bo, shape, dtype):
        self._xrt = xrt
        self.bo = bo
        count = int(np.prod(shape))
        super().__init__(np.frombuffer(bo.map(), dtype=dtype, count=count).reshape(shape))
        self.array[...] = 0
        self.host_dirty = True

    def _sync_to_device(self) -> None:
        self.bo.sync(self._xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE)

    def _sync_from_device(self) -> None:
        self.bo.sync(self._xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE)

    def release(self) -> None:
        self.array = np.empty(0)
        self.bo = None


class _Loaded:
    def __init__(self, name, xclbin, context, kernel):
        self.name, self.xclbin, self.context, self.kernel = name, xclbin, context, kernel
        self.insts: dict[str, tuple[object, int]] = {}


class XrtDevice(Device):
    kind = "xrt"

    def __init__(self, build_dir: Path, generation: str, keys: dict[str, set[str]], device_index: int = 0):
        """Open the NPU and load the xclbins/instruction streams of ``keys`` (kernel → shape keys) from
        ``build_dir`` (``kernels/build/<generation>`` with its ``manifest.json``)."""
        try:
            import pyxrt
        except ImportError as exc:
            raise NpuDeviceError("pyxrt is not importable") from exc
        self._xrt = pyxrt
        self.generation = generation
        self.dispatches = 0
        self.build_dir = Path(build_dir)
        manifest = json.loads((self.build_dir / "manifest.json").read_text())
        self.manifest = manifest
        try:
            self.dev = pyxrt.device(device_index)
        except Exception as exc:  # pyxrt raises RuntimeError subclasses
            raise NpuDeviceError(f"cannot open NPU device {device_index}: {exc}") from exc
        self.kernels: dict[str, _Loaded] = {}
        try:
            for name, wanted in keys.items():
                entry = manifest["kernels"].get(name)
                if entry is None:
                    raise NpuDeviceError(f"kernel {name} is not in {self.build_dir / 'manifest.json'}")
                try:
                    xclbin = pyxrt.xclbin(str(self.build_dir / entry["xclbin"]))
                    self.dev.register_xclbin(xclbin)
                    context = pyxrt.hw_context(self.dev, xclbin.get_uuid())
                    kernel = pyxrt.kernel(context, KERNEL_NAME)
                except Exception as exc:
                    raise NpuDeviceError(f"cannot load {name} xclbin: {exc}") from exc
                loaded = _Loaded(name, xclbin, context, kernel)
                for key in sorted(wanted):
                    rel = entry.get("insts", {}).get(key)
                    if rel is None:
                        continue  # reported by has(); the backend refuses with the list of missing keys
                    words = read_insts(self.build_dir / rel)
                    try:
                        bo = pyxrt.bo(self.dev, words.nbytes, pyxrt.bo.cacheable, kernel.group_id(1))
                        bo.write(words.tobytes(), 0)  # bytes, as mlir-aie's host helpers pass them
                        bo.sync(pyxrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE)
                    except Exception as exc:
                        raise NpuDeviceError(f"cannot load instruction stream {key} of {name}: {exc}") from exc
                    loaded.insts[key] = (bo, int(words.size))
                self.kernels[name] = loaded
        except BaseException:
            # Release the hardware contexts and instruction BOs loaded so far now, not whenever the exception
            # (whose traceback references this frame and its locals) is dropped: a held context would make
            # the next attempt fail with "could not open a hardware context". The names are never read again
            # (hence F841): rebinding them is what drops the references.
            xclbin = context = kernel = loaded = bo = None  # type: ignore[assignment]  # noqa: F841
            self.close()
            raise
        # Data BOs are shared between kernels (one kernel's output is the next one's input), so they are all
        # allocated on the memory group of argument 3; mlir-aie's hosts use group_id(3), (4), (5) … per
        # argument, which on amdxdna all name the same host-memory bank (verify on silicon).
        self._group = next(iter(self.kernels.values())).kernel.group_id(3) if self.kernels else 0

    def buffer(self, shape, dtype) -> Buffer:
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        try:
            bo = self._xrt.bo(self.dev, nbytes, self._xrt.bo.host_only, self._group)
        except Exception as exc:
            raise NpuDeviceError(f"cannot allocate a {nbytes}-byte buffer: {exc}") from exc
        return XrtBuffer(self._xrt, bo, shape, dtype)

    def has(self, kernel: str, key: str) -> bool:
        loaded = self.kernels.get(kernel)
        return loaded is not None and key in loaded.insts

    def _execute(self, kernel: str, key: str, args: list[Buffer], timeout_s: float) -> None:
        loaded = self.kernels[kernel]
        bo, n_words = loaded.insts[key]
        xrt = self._xrt
        try:
            run = loaded.kernel(OPCODE, bo, n_words, *[cast(XrtBuffer, a).bo for a in args])
            try:
                state = run.wait(int(timeout_s * 1000))  # pyxrt: wait(timeout_ms)
            except TypeError:  # bindings without the timeout overload
                state = run.wait()
        except Exception as exc:
            raise NpuDeviceError(f"{kernel} {key} failed in XRT: {exc}") from exc
        if state != xrt.ert_cmd_state.ERT_CMD_STATE_COMPLETED:
            raise NpuDeviceError(f"{kernel} {key} did not complete within {timeout_s:g} s (state {state})")

    def close(self) -> None:
        self.kernels.clear()
        self.dev = None
