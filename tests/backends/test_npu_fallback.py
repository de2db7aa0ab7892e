"""The backend cannot lie: fault-injecting fake devices (zeros, garbage, XRT errors, timeouts) make it
refuse at start-up with the reason visible in the registry's status, and a failure in the middle of a
transcription recomputes the window on the fallback without losing text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amanuensis_desktop.backends.npu.bf16 import to_bf16_bits
from amanuensis_desktop.backends.npu.device import NpuDeviceError
from amanuensis_desktop.backends.npu.emulator import EmulatorDevice
from amanuensis_desktop.errors import BackendError


class FaultyDevice(EmulatorDevice):
    """The emulator with a fault injected into ``kernel`` from dispatch number ``after`` on."""

    kind = "fake"

    def __init__(self, mode: str, kernel: str | None = "gemm", after: int = 0, kind: str = "fake"):
        super().__init__("npu1")
        self.kind = kind  # "xrt": stands in for the real NPU (whose numerics failures are remembered)
        self.mode, self.kernel, self.after = mode, kernel, after
        self.calls = 0
        self.closed = False

    def _execute(self, kernel, key, args, timeout_s):
        self.calls += 1
        if self.calls > self.after and self.kernel in (None, kernel):
            out = args[-1].array
            if self.mode == "zeros":
                out[...] = 0
                return
            if self.mode == "garbage":  # finite, plausible-looking values: only a real check catches them
                noise = np.random.default_rng(self.calls).standard_normal(out.shape, dtype=np.float32)
                out[...] = to_bf16_bits(noise) if out.dtype == np.uint16 else noise
                return
            if self.mode == "xrt_error":
                raise RuntimeError("XRT: ioctl DRM_IOCTL_AMDXDNA_EXEC_CMD failed (err=-5): Input/output error")
            if self.mode == "timeout":
                raise NpuDeviceError(f"{kernel} {key} did not complete within {timeout_s:g} s (state TIMEOUT)")
        super()._execute(kernel, key, args, timeout_s)

    def close(self):
        self.closed = True


@pytest.fixture(scope="module")
def weights():
    from amanuensis_desktop.whisper.model import load_weights

    return load_weights()


@pytest.fixture(scope="module")
def reference(weights):
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    return NumpyBackend(weights)


@pytest.fixture
def npu_here(monkeypatch):
    """Detection pretends a real npu1 is present; the process-wide 'distrusted' memory starts (and is left)
    empty."""
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.npu import detect as D

    det = D.Detection(
        npu=D.AccelDevice("accel0", "amdxdna", "1022:1502", "0000:c5:00.1", True),
        pyxrt=True,
        kernels=Path("/nonexistent/npu1"),
        reason="pretend amdxdna npu1",
    )
    monkeypatch.setattr(npu.detect, "detect", lambda *a, **k: det)
    monkeypatch.setitem(npu._distrusted, "reason", "")
    assert npu.probe().available
    return npu


@pytest.mark.parametrize(
    "mode,kernel,words,numerics",
    [
        ("zeros", "gemm", "all zeros", True),
        ("garbage", "softmax", "differs from the emulator", True),
        ("xrt_error", "layernorm", "RuntimeError", False),
        ("timeout", "bias_gelu", "did not complete", False),
    ],
)
def test_faulty_kernel_makes_the_backend_refuse(weights, reference, npu_here, mode, kernel, words, numerics):
    """Every fault refuses; only wrong numbers keep the NPU refused for the rest of the process (a timeout or
    an XRT error is left to the registry's status and tried again at the next selection)."""
    npu = npu_here
    dev = FaultyDevice(mode, kernel, kind="xrt")
    with pytest.raises(BackendError) as err:
        npu.create(weights, npu_device=dev, fallback=reference)
    msg = str(err.value)
    assert msg.startswith("NPU self-test failed:") and words in msg and kernel in msg
    assert "\n" not in msg and msg.endswith(".")
    assert dev.closed
    status = npu.probe()
    assert status.available is not numerics
    if numerics:
        assert status.reason == f"refused: {msg}"


def test_refusal_closes_the_fallback_it_built(weights, npu_here, monkeypatch):
    """create() closes the device and the fallback it built itself on every failure path; a fallback passed
    in belongs to the caller and stays open."""
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    npu = npu_here

    class Tracked(NumpyBackend):
        closed = False

        def close(self):
            self.closed = True

    built = []

    def factory(w, **o):
        built.append(Tracked(w))
        return built[-1]

    dev = FaultyDevice("xrt_error", "gemm")
    with pytest.raises(BackendError):
        npu.create(weights, npu_device=dev, fallback_factory=factory)
    assert built and built[0].closed and dev.closed

    mine, dev = Tracked(weights), FaultyDevice("zeros", "gemm")
    with pytest.raises(BackendError):
        npu.create(weights, npu_device=dev, fallback=mine)
    assert dev.closed and not mine.closed

    def no_fallback(w, **o):
        raise BackendError("No backend.")

    dev = FaultyDevice("none", None)
    with pytest.raises(BackendError):
        npu.create(weights, npu_device=dev, fallback_factory=no_fallback)
    assert dev.closed


def test_fallback_is_the_registrys_auto_choice_without_the_npu(weights, monkeypatch):
    from amanuensis_desktop import backends
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    calls = []

    def fake_select(name, w, order=None, **options):
        calls.append((name, order, options))
        return backends.Selection(NumpyBackend(w))

    monkeypatch.setattr(backends, "select", fake_select)
    assert backends.decoder_fallback(weights, device="GPU").name == "cpu"
    # create() hands OpenVINO's device (not its own NPU options) on to the fallback
    b = npu.create(
        weights, device="GPU", npu_device="emulator", timeout_s=3.0, fallback_factory=backends.decoder_fallback
    )
    assert b.fallback.name == "cpu"
    b.close()
    assert calls == [("auto", ("openvino", "cpu"), {"device": "GPU"})] * 2


def test_the_registry_hands_the_npu_backend_its_fallback(weights, npu_here, monkeypatch):
    """select() gives the NPU's create() the registry's decoder_fallback; the NPU module never imports the
    registry. Without a fallback or a factory, create() refuses with one sentence."""
    from amanuensis_desktop import backends
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    npu = npu_here
    create = npu.create
    seen = {}

    def fake_create(w, **options):
        seen.update(options)
        return NumpyBackend(w)

    monkeypatch.setattr(npu, "create", fake_create)
    backends.select("npu", weights, device="GPU")
    assert seen == {"fallback_factory": backends.decoder_fallback, "device": "GPU"}

    dev = FaultyDevice("none", None)
    with pytest.raises(BackendError) as err:
        create(weights, npu_device=dev)
    assert "registry" in str(err.value) and str(err.value).endswith(".") and dev.closed


def test_healthy_fake_device_passes_the_self_test(weights, reference):
    from amanuensis_desktop.backends import npu

    b = npu.create(weights, npu_device=FaultyDevice("none", None), fallback=reference)
    assert b.self_test_report and all(line.endswith(": ok") for line in b.self_test_report)
    assert {line.split()[0] for line in b.self_test_report} == {"gemm", "softmax", "layernorm", "bias_gelu"}


def test_registry_falls_back_and_shows_the_reason(weights, monkeypatch):
    """'auto' with a (pretend-detected) NPU whose GEMM returns zeros: the registry moves on to the next
    backend and `amanuensis backends` shows why the NPU was refused."""
    from amanuensis_desktop import backends
    from amanuensis_desktop.backends import BackendStatus, npu

    monkeypatch.setattr(npu, "probe", lambda: BackendStatus("npu", True, "pretend amdxdna npu1", label="NPU"))
    sel = backends.select("auto", weights, npu_device=FaultyDevice("zeros", "gemm"))
    assert sel.backend.name != "npu"
    status = {s.name: s for s in sel.statuses}["npu"]
    assert not status.available and status.reason.startswith("refused: NPU self-test failed:")
    assert "all zeros" in sel.explain()


@pytest.fixture(scope="module")
def jfk(shared_audio):
    from amanuensis_desktop.audio.files import load_audio

    return load_audio(shared_audio / "jfk.wav")


@pytest.fixture(scope="module")
def reference_text(weights, reference, jfk, cpu_engine):
    return cpu_engine.transcribe(jfk).text


def _started(weights, reference, mode, kernel, after, kind="fake"):
    """A backend whose device passed (or skipped) start-up and turns faulty ``after`` more dispatches."""
    from amanuensis_desktop.backends import npu

    dev = FaultyDevice("none", None, kind=kind)
    b = npu.create(weights, npu_device=dev, fallback=reference, self_test=False)  # the self-test is tested above
    assert b.label.startswith("NPU · XDNA kernels (npu1)") and b.devices[0] == "NPU"
    dev.mode, dev.kernel, dev.after = mode, kernel, dev.calls + after
    return b, dev


def test_failure_mid_transcription_loses_no_text(weights, reference, jfk, reference_text, cpu_engine):
    from amanuensis_desktop.engine import Engine

    b, dev = _started(weights, reference, "xrt_error", "gemm", 20)  # 20 dispatches into the first window
    eng = Engine(weights, b, tokenizer=cpu_engine.tokenizer, model_folder=cpu_engine.model_folder)
    result = eng.transcribe(jfk)
    assert result.text == reference_text  # the window was recomputed on the fallback: nothing lost
    assert b.failure is not None and "NPU failed during the session" in b.failure and "XRT" in b.failure
    assert b.label == reference.label == "CPU · numpy" and b.devices == ["CPU"]
    assert b.windows_on_fallback >= 1 and b.windows_on_npu == 0
    calls = dev.calls  # later windows go straight to the fallback
    b.encode(np.zeros((weights.dims.n_mels, 3000), np.float32))
    assert dev.calls == calls


@pytest.mark.parametrize(
    "mode,kernel,after,words",
    [
        ("timeout", "softmax", 5, "did not complete"),
        ("zeros", "gemm", 3, "spot check"),  # a GEMM that silently starts returning zeros is caught in-window
        ("zeros", "layernorm", 5, "spot check"),  # even when the GEMMs downstream are self-consistent
        ("garbage", "bias_gelu", 12, "spot check"),
    ],
)
def test_failing_window_is_recomputed_on_the_fallback(weights, reference, npu_here, mode, kernel, after, words):
    b, _dev = _started(weights, reference, mode, kernel, after, kind="xrt")
    mel = (np.random.default_rng(1).standard_normal((weights.dims.n_mels, 3000)) * 0.3 - 0.3).astype(np.float32)
    with np.errstate(all="ignore"):
        got = b.encode(mel)
    assert np.array_equal(got, reference.encode(mel))
    assert b.failure is not None
    assert any(w in b.failure for w in ((words,) if isinstance(words, str) else words)), b.failure
    assert b.label == "CPU · numpy"
    # a failed spot check (wrong numbers) keeps the NPU refused in this process; a timeout does not
    status = npu_here.probe()
    assert status.available is (words != "spot check")
    if not status.available:
        assert status.reason == b.failure


def test_decoder_is_delegated_to_the_fallback(weights, reference):
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.numpy_backend import NumpyDecoderSession

    b = npu.create(weights, npu_device="emulator", fallback=reference)
    feats = np.zeros((1500, weights.dims.n_audio_state), np.float32)
    assert isinstance(b.decoder(feats, 2), NumpyDecoderSession)
    assert b.devices == ["CPU"] and "emulator" in b.label  # the emulator never calls itself an NPU
