"""AMD Ryzen AI NPU (XDNA) backend: Whisper's encoder GEMMs, softmax, LayerNorm and GELU on our own
mlir-aie kernels (``kernels/``), the decoder on OpenVINO or numpy.

``probe()`` reports available only when a real ``amdxdna`` NPU with a known PCI id, pyxrt and the built
kernels are all present — "auto" never selects the emulator. The emulator is chosen only explicitly:
``create(weights, device="emulator")`` (tests, ``amanuensis bench --npu-emulated``).
"""

from __future__ import annotations

from ...errors import BackendError
from ..base import Backend, BackendStatus
from . import detect
from .detect import Detection, npu_power_mode
from .device import Device, NpuDeviceError
from .spec import DEVICES, encoder_plan

__all__ = ["probe", "create", "npu_power_mode", "detect", "Detection", "NpuDeviceError", "fallback_backend"]

# What happened earlier in this process, so `amanuensis backends` can say it.
_session = {"note": ""}


def _note(text: str) -> None:
    _session["note"] = text


def probe(sysfs_root: str = "/sys", dev_root: str = "/dev", **detect_options) -> BackendStatus:
    det = detect.detect(sysfs_root, dev_root, **detect_options)
    if not det.available:
        return BackendStatus("npu", False, det.reason, label="NPU · XDNA kernels")
    if _session["note"]:
        return BackendStatus("npu", False, _session["note"], label="NPU · XDNA kernels",
                             version=f"XRT {det.xrt_version}" if det.xrt_version else "")
    return BackendStatus("npu", True, det.reason, label=f"NPU · XDNA kernels ({det.generation})",
                         version=f"XRT {det.xrt_version}" if det.xrt_version else "", devices=("NPU",))


def fallback_backend(weights) -> Backend:
    """The decoder's (and a failed encoder's) backend: OpenVINO when it is available and passes its own
    check, else the numpy reference."""
    from .. import _module
    from .. import probe as registry_probe

    for name in ("openvino", "cpu"):
        if not registry_probe(name).available:
            continue
        try:
            return _module(name).create(weights)
        except BackendError:
            continue
    from ..numpy_backend import NumpyBackend

    return NumpyBackend(weights)


def create(weights, npu_device: str | Device | None = None, fallback: Backend | None = None,
           self_test: bool | None = None, generation: str | None = None, timeout_s: float = 10.0,
           device=None, **_options):
    """Build the NPU backend.

    ``npu_device`` (or ``device``, when it is one of these values): None/"xrt" → the real NPU (refuses
    with one sentence unless detection passes); "emulator" → the numpy emulation of the kernels (explicit
    only; no self-test, since comparing the emulator with itself proves nothing); a :class:`Device`
    instance → that device (the tests' fault-injecting fakes). Other ``device`` values belong to other
    backends (OpenVINO's "CPU"/"GPU") and are ignored here.
    """
    from .backend import NpuBackend

    if npu_device is None and (isinstance(device, Device) or device in ("emulator", "xrt")):
        npu_device = device
    device = npu_device

    if isinstance(device, Device):
        dev = device
        test = True if self_test is None else self_test
    elif device == "emulator":
        from .emulator import EmulatorDevice

        dev = EmulatorDevice(generation or "npu1")
        test = bool(self_test)
    elif device in (None, "xrt"):
        det = detect.detect()
        if not det.available:
            raise BackendError(det.reason[0].upper() + det.reason[1:].rstrip(".") + ".")
        from .xrt_device import XrtDevice

        d = weights.dims
        plan = encoder_plan(DEVICES[det.generation], d.n_mels, d.n_audio_state, d.n_audio_head, d.n_audio_layer)
        try:
            dev = XrtDevice(det.kernels, det.generation, plan.keys)
        except NpuDeviceError as exc:
            _note(f"refused: {exc}")
            raise BackendError(f"The NPU could not be opened: {exc}.") from exc
        test = True if self_test is None else self_test
    else:
        raise BackendError(f"Unknown NPU device '{device}'; use 'xrt' or 'emulator'.")
    fb = fallback if fallback is not None else fallback_backend(weights)
    try:
        return NpuBackend(weights, dev, fb, self_test=test, timeout_s=timeout_s,
                          on_failure=lambda why: _note(why) if dev.kind == "xrt" else None)
    except BackendError as exc:
        if dev.kind == "xrt":
            _note(f"refused: {exc}")
        dev.close()
        raise
