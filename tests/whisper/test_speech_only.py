"""Files behind the neural speech gate: Whisper runs only over speech regions, on the real engine and the shared
recordings. Nothing from noise; the speech clips keep their WER; timestamps stay on the file's time."""

from __future__ import annotations

import numpy as np
import pytest

from amanuensis_desktop.bench.corpus import load_clip
from amanuensis_desktop.bench.noise import clips, noise_then_speech
from amanuensis_desktop.whisper.speech_only import transcribe_speech
from amanuensis_desktop.whisper.wer import normalize, wer

SR = 16000


@pytest.fixture(scope="module")
def corpus(shared_audio):
    noise, clean, noisy = clips(shared_audio)
    if not noise or not noisy:
        pytest.skip("the shared noise clips (noise/noise_*.wav, noise/noisy_*.wav) are missing")
    return noise, clean, noisy


def test_no_words_from_any_noise_clip(engine, corpus, shared_audio):
    noise, _, _ = corpus
    heard = {}
    for name in noise:
        result = transcribe_speech(engine, load_clip(name, shared_audio))
        if normalize(result.text):
            heard[name] = result.text
    assert not heard, heard


def test_speech_clips_keep_their_wer(engine, corpus, shared_audio):
    _, clean, noisy = corpus
    clean = [(n, r) for n, r in clean if n not in ("jfk.flac", "jfk.mp3")]  # jfk.wav once is enough
    for rows, label in ((clean, "clean"), (noisy, "noisy")):
        refs, plain, gated = [], [], []
        for name, ref in rows:
            audio = load_clip(name, shared_audio)
            refs.append(ref)
            plain.append(engine.transcribe(audio).text)
            gated.append(transcribe_speech(engine, audio).text)
            assert normalize(gated[-1]), f"{name}: no words behind the gate"
        before, after = wer(" ".join(refs), " ".join(plain)), wer(" ".join(refs), " ".join(gated))
        assert after <= before + 0.005, (label, before, after)


def test_speech_after_twenty_seconds_of_noise_keeps_its_time(engine, shared_audio, manifest):
    audio = noise_then_speech(shared_audio)
    result = transcribe_speech(engine, audio)
    assert result.segments
    assert abs(result.segments[0].start - 20.0) <= 0.5, [(s.start, s.end, s.text) for s in result.segments]
    assert result.segments[-1].end <= audio.size / SR + 0.01
    assert wer(dict(manifest)["jfk.wav"], result.text) < 0.15, result.text
    assert result.timings["speech_s"] < 13.0  # the 20 s of running water were never transcribed


def test_silence_and_music_intros_are_skipped(engine, shared_audio):
    nothing = transcribe_speech(engine, np.zeros(30 * SR, np.float32))
    assert nothing.segments == [] and nothing.duration == 30.0 and "windows" not in nothing.timings
    piano = load_clip("noise/noise_music_piano.wav", shared_audio)
    audio = np.concatenate([np.resize(piano, 60 * SR), load_clip("jfk.wav", shared_audio)])
    progress: list[float] = []
    result = transcribe_speech(engine, audio, progress=lambda done, total: progress.append(done))
    assert result.timings["windows"] == 1  # one 30 s window for jfk; a minute of piano never reached Whisper
    assert result.segments and result.segments[0].start >= 59.5
    assert progress[-1] == pytest.approx(audio.size / SR) and progress == sorted(progress)
