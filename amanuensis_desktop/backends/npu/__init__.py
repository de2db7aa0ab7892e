"""AMD Ryzen AI NPU (XDNA) backend: Whisper's encoder GEMMs, softmax, LayerNorm and GELU on our own
mlir-aie kernels (``kernels/``), the decoder on OpenVINO or numpy.

``probe()`` reports available only when a real ``amdxdna`` NPU with a known PCI id, pyxrt and the built
kernels are all present — "auto" never selects the emulator. The emulator is chosen only explicitly:
``create(weights, device="emulator")`` (tests, ``amanuensis bench --npu-emulated``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import BackendError
from ...whisper.inference import Backend
from ...whisper.model import Weights
from ..base import BackendStatus
from ..names import BackendName
from . import detect
from .detect import Detection, npu_power_mode
from .device import Device, NpuDeviceError, NpuNumericsError
from .spec import DEVICES, encoder_plan

if TYPE_CHECKING:
    from .backend import NpuBackend

__all__ = ["probe", "create", "npu_power_mode", "detect", "Detection", "NpuDeviceError", "FallbackFactory"]

#: builds the decoder's backend from the weights and the options meant for it (the registry's
#: :func:`~amanuensis_desktop.backends.decoder_fallback`)
FallbackFactory = Callable[..., Backend]

# The one refusal remembered for the rest of the process: the real NPU computed *wrong numbers* (a failed
# self-test comparison, a failed spot check, non-finite output). Such a device is not offered again in this
# process — a new self-test might pass by luck on an intermittent fault and put text back on silicon known to
# miscompute. Every other refusal (no hardware context free, an XRT error, a timeout, missing instruction
# streams) is not remembered: it is reported in the registry's Selection statuses, and the next select()
# tries the NPU again.
_distrusted = {"reason": ""}


def _distrust(reason: str) -> None:
    _distrusted["reason"] = reason


def probe(sysfs_root: str = "/sys", dev_root: str = "/dev", **detect_options) -> BackendStatus:
    det = detect.detect(sysfs_root, dev_root, **detect_options)
    if not det.available:
        return BackendStatus(BackendName.NPU, False, det.reason, label="NPU · XDNA kernels")
    if _distrusted["reason"]:
        return BackendStatus(
            BackendName.NPU,
            False,
            _distrusted["reason"],
            label="NPU · XDNA kernels",
            version=f"XRT {det.xrt_version}" if det.xrt_version else "",
        )
    return BackendStatus(
        BackendName.NPU,
        True,
        det.reason,
        label=f"NPU · XDNA kernels ({det.generation})",
        version=f"XRT {det.xrt_version}" if det.xrt_version else "",
        devices=("NPU",),
    )


def _close_quietly(thing: Any) -> None:
    try:
        thing.close()
    except Exception:  # already failing; the original error is the one to report
        pass


def create(
    weights: Weights,
    npu_device: str | Device | None = None,
    fallback: Backend | None = None,
    self_test: bool | None = None,
    generation: str | None = None,
    timeout_s: float = 10.0,
    device: Any = None,
    fallback_factory: FallbackFactory | None = None,
    **options: Any,
) -> NpuBackend:
    """Build the NPU backend.

    ``npu_device`` (or ``device``, when it is one of these values): None/"xrt" → the real NPU (refuses
    with one sentence unless detection passes); "emulator" → the numpy emulation of the kernels (explicit
    only; no self-test, since comparing the emulator with itself proves nothing); a :class:`Device`
    instance → that device (the tests' fault-injecting fakes). Other ``device`` values belong to other
    backends (OpenVINO's "CPU"/"GPU") and are passed on, with the other options, to ``fallback_factory``,
    which builds the decoder's backend when ``fallback`` is None (the registry passes its "auto" choice
    without the NPU).

    On every failure path the device and the fallback built here are closed (a ``fallback`` passed in
    belongs to the caller and is left open).
    """
    from .backend import NpuBackend
    from .selftest import SelfTestError

    npu_value = isinstance(device, Device) or device in ("emulator", "xrt")
    if npu_device is None and npu_value:
        npu_device = device
    if device is not None and not npu_value:
        options["device"] = device  # OpenVINO's device, for the fallback

    if isinstance(npu_device, Device):
        dev = npu_device
        test = True if self_test is None else self_test
    elif npu_device == "emulator":
        from .emulator import EmulatorDevice

        dev = EmulatorDevice(generation or "npu1")
        test = bool(self_test)
    elif npu_device in (None, "xrt"):
        det = detect.detect()
        if not det.available or det.generation is None or det.kernels is None:
            raise BackendError(det.reason[0].upper() + det.reason[1:].rstrip(".") + ".")
        from .xrt_device import XrtDevice

        d = weights.dims
        plan = encoder_plan(DEVICES[det.generation], d.n_mels, d.n_audio_state, d.n_audio_head, d.n_audio_layer)
        try:
            dev = XrtDevice(det.kernels, det.generation, plan.keys)
        except NpuDeviceError as exc:  # e.g. no hardware context free: may pass next time, not remembered
            raise BackendError(f"The NPU could not be opened: {exc}.") from exc
        test = True if self_test is None else self_test
    else:
        raise BackendError(f"Unknown NPU device '{npu_device}'; use 'xrt' or 'emulator'.")

    real = dev.kind == "xrt"  # fakes and the emulator never mark the real NPU

    def on_failure(why: str, exc: BaseException) -> None:
        if real and isinstance(exc, NpuNumericsError):
            _distrust(why)

    fb = None
    try:
        if fallback is not None:
            fb = fallback
        elif fallback_factory is not None:
            fb = fallback_factory(weights, **options)
        else:
            raise BackendError("The NPU backend needs a decoder backend; build it through the backend registry.")
        return NpuBackend(weights, dev, fb, self_test=test, timeout_s=timeout_s, on_failure=on_failure)
    except BaseException as exc:
        cause = exc.__cause__
        if real and isinstance(cause, SelfTestError) and cause.numerics:
            _distrust(f"refused: {exc}")
        if fb is not None and fb is not fallback:
            _close_quietly(fb)
        _close_quietly(dev)
        raise
