"""Live segments encoded without the 30 s padding (``TranscribeOptions.encoder_pad_s``): the encoder sees the
audio plus ``LiveOptions``' padding (4 s). With 2 s or less tiny.en repeated "Go forward 10 meters." to the token
limit: such a short window is decoded again on the padded one (docs/decisions/live.md). Real engine, shared
clips; ~4 s."""

from __future__ import annotations

from amanuensis_desktop.bench.corpus import load_clip
from amanuensis_desktop.whisper.audio import N_FRAMES
from amanuensis_desktop.whisper.transcribe import encoder_frames
from amanuensis_desktop.whisper.wer import wer


def test_encoder_frames_pad_the_content_to_whole_seconds():
    assert encoder_frames(250, None) == N_FRAMES  # Whisper's padded 30 s window
    assert encoder_frames(250, 1.0) == 400 and encoder_frames(300, 0.0) == 300 and encoder_frames(301, 0.0) == 400
    assert encoder_frames(2950, 1.0) == N_FRAMES


def test_a_short_window_ends_its_text_with_the_audio(engine, shared_audio, manifest):
    refs = dict(manifest)
    for name in ("goforward.wav", "jfk.wav"):
        audio = load_clip(name, shared_audio)
        full = engine.transcribe(audio, condition_on_previous_text=False, temperature=0.0)
        short = engine.transcribe(audio, condition_on_previous_text=False, temperature=0.0, encoder_pad_s=4.0)
        assert short.timings["steps"] <= full.timings["steps"] + 3, (name, short.text)  # no repetition
        assert wer(refs[name], short.text) <= wer(refs[name], full.text) + 0.1, (name, short.text, full.text)
        assert 0 < short.timings["encode_s"] < full.timings["encode_s"]


def test_a_looping_short_window_falls_back_to_the_padded_window(engine, shared_audio, manifest):
    """With 1 s of padding tiny.en repeats "Go forward 10 meters." (measured on every run): the token budget
    stops it, and the padded 30 s window gives the text."""
    audio = load_clip("goforward.wav", shared_audio)
    result = engine.transcribe(audio, condition_on_previous_text=False, temperature=0.0, encoder_pad_s=1.0)
    assert result.timings.get("short_failed") == 1
    assert wer(dict(manifest)["goforward.wav"], result.text) <= 0.25, result.text


def test_the_npu_keeps_padded_windows(cpu_engine):
    """The NPU's kernels are built for 30 s windows: a live window asking for less padding stays on the NPU (the
    XDNA kernel emulator stands in for the device, which cannot exist here) instead of falling back."""
    import numpy as np

    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    w = cpu_engine.weights
    backend = npu.create(w, npu_device="emulator", fallback=NumpyBackend(w))
    assert backend.static
    frames = N_FRAMES if backend.static else encoder_frames(200, 4.0)
    backend.encode(np.zeros((w.dims.n_mels, frames), np.float32))
    assert (backend.windows_on_npu, backend.windows_on_fallback) == (1, 0)
