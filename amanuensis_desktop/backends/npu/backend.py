"""The NPU backend: encoder on the XDNA kernels, decoder on a fallback backend (OpenVINO, else numpy).

It cannot lie: ``label`` and ``devices`` say what computed the last window. If the device fails in the
middle of a session (XRT error, timeout, non-finite output, a failed spot check), ``encode`` marks the NPU
failed, recomputes the same window on the fallback — the segment being transcribed is not lost — and from
then on the label is the fallback's.
"""

from __future__ import annotations

import logging

import numpy as np

from ...errors import BackendError
from ...whisper.inference import Backend, DecoderSession
from ..names import BackendName
from .device import Device, NpuNumericsError
from .runtime import NpuEncoder
from .selftest import SelfTestError, run_self_test
from .spec import DEVICES

log = logging.getLogger(__name__)


class NpuBackend(Backend):
    name = BackendName.NPU

    def __init__(
        self,
        weights,
        device: Device,
        fallback: Backend,
        *,
        self_test: bool = True,
        timeout_s: float = 10.0,
        n_frames: int = 3000,
        on_failure=None,
    ):
        """``on_failure(sentence, exc)`` is called once when the device fails during the session."""
        self.weights = weights
        self.device = device
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.failure: str | None = None
        self.self_test_report: list[str] = []
        self._on_failure = on_failure
        self.windows_on_npu = 0
        self.windows_on_fallback = 0
        # The device and the fallback belong to the caller (npu.create closes them when this raises); the
        # encoder's buffers are ours, so a refusal releases them here.
        self.encoder = NpuEncoder(weights, device, DEVICES[device.generation], timeout_s)
        try:
            missing = self.encoder.missing(n_frames)
            if missing:
                raise BackendError(
                    f"The built NPU kernels lack {len(missing)} instruction stream(s) this model needs "
                    f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''}); "
                    "rebuild them with 'make -C kernels'."
                )
            if self_test:
                try:
                    self.self_test_report = run_self_test(device, self.encoder.plan(n_frames), timeout_s=timeout_s)
                except SelfTestError as exc:
                    raise BackendError(f"NPU self-test failed: {exc}.") from exc
        except BaseException:
            self.encoder.close()
            raise

    # ----------------------------------------------------------------------------------------------

    @property
    def emulated(self) -> bool:
        return self.device.kind == "emulator"

    @property
    def on_npu(self) -> bool:
        return self.failure is None

    @property
    def static(self) -> bool:
        """Windows are padded to 30 s while the NPU computes: its kernels are built for that size, and a shorter
        live window would run on the fallback instead (whisper/transcribe.py reads this)."""
        return self.on_npu

    @property
    def label(self) -> str:
        if self.failure is not None:
            return self.fallback.label
        if self.emulated:
            return f"CPU · XDNA kernel emulator + {self.fallback.label}"
        return f"NPU · XDNA kernels ({self.device.generation}) + {self.fallback.label}"

    @property
    def devices(self) -> list[str]:
        rest = list(self.fallback.devices)
        if self.failure is None and not self.emulated:
            return ["NPU", *[d for d in rest if d != "NPU"]]
        return rest

    def encode(self, mel: np.ndarray) -> np.ndarray:
        if self.failure is None:
            n_frames = np.shape(mel)[-1]
            if not self.encoder.missing(n_frames):
                try:
                    out = self.encoder.encode(mel)
                    if not np.all(np.isfinite(out)):
                        raise NpuNumericsError("the encoder output has non-finite values")
                    self.windows_on_npu += 1
                    return out
                except Exception as exc:  # any device or host-side failure: fall back, keep the window
                    self._fail(exc)
        self.windows_on_fallback += 1
        return self.fallback.encode(mel)

    def _fail(self, exc: BaseException) -> None:
        self.failure = f"NPU failed during the session ({exc}); using {self.fallback.label}"
        log.warning("%s", self.failure)
        if self._on_failure is not None:
            self._on_failure(self.failure, exc)
        try:
            self.encoder.close()
            self.device.close()
        except Exception:  # the device is already broken; nothing more to release safely
            pass

    def decoder(self, features: np.ndarray, batch: int = 1) -> DecoderSession:
        return self.fallback.decoder(features, batch)

    def cross_attention(self, features: np.ndarray, tokens, heads) -> np.ndarray:
        """Word timestamps' cross-attention pass: on the decoder's fallback, like every decoder step."""
        return self.fallback.cross_attention(features, tokens, heads)

    def close(self) -> None:
        try:
            self.encoder.close()
            self.device.close()
        finally:
            self.fallback.close()
