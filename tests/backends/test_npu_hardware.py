"""Tests that only an AMD Ryzen AI machine (amdxdna driver, XRT with pyxrt, kernels built with
`make -C kernels`) can run. Everywhere else they skip, saying why.

    pytest -m npu_hardware tests/test_npu_hardware.py
"""

from __future__ import annotations

import numpy as np
import pytest

from amanuensis_desktop.backends.npu import detect as D

_det = D.detect()
pytestmark = [
    pytest.mark.npu_hardware,
    pytest.mark.skipif(not _det.available, reason=f"needs a Ryzen AI NPU with XRT and built kernels: {_det.reason}"),
]


@pytest.fixture(scope="module")
def backend():
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend
    from amanuensis_desktop.whisper.model import load_weights

    w = load_weights()
    b = npu.create(w, fallback=NumpyBackend(w))  # the self-test runs every kernel against the emulator
    yield b
    b.close()


def test_self_test_passed_on_silicon(backend):
    assert backend.self_test_report and backend.on_npu
    assert backend.label.startswith("NPU · XDNA kernels") and backend.devices[0] == "NPU"


def test_encoder_on_silicon_matches_the_emulator(backend):
    from amanuensis_desktop.backends.npu.emulator import EmulatorDevice
    from amanuensis_desktop.backends.npu.runtime import NpuEncoder
    from amanuensis_desktop.backends.npu.spec import DEVICES

    w = backend.weights
    mel = (np.random.default_rng(3).standard_normal((w.dims.n_mels, 3000)) * 0.3 - 0.3).astype(np.float32)
    got = backend.encode(mel)
    assert backend.on_npu, backend.failure
    ref = NpuEncoder(w, EmulatorDevice(backend.device.generation), DEVICES[backend.device.generation]).encode(mel)
    assert np.sqrt(np.mean((got - ref) ** 2) / np.mean(ref**2)) < 1e-3


def test_transcribes_jfk_on_silicon(backend, shared_audio, cpu_engine):
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.engine import Engine

    eng = Engine(backend.weights, backend, tokenizer=cpu_engine.tokenizer, model_folder=cpu_engine.model_folder)
    audio = load_audio(shared_audio / "jfk.wav")
    assert eng.transcribe(audio).text == cpu_engine.transcribe(audio).text
    assert backend.on_npu and backend.windows_on_npu >= 1


def test_power_mode_is_reported():
    assert D.npu_power_mode() is not None
