"""Decoding rules and guards, on the numpy reference backend with the real tiny.en weights."""

import numpy as np
import pytest

from amanuensis_desktop.whisper.audio import N_SAMPLES, log_mel_spectrogram, pad_or_trim
from amanuensis_desktop.whisper.decoding import DecodingOptions, LogitRules, compression_ratio


def test_compression_ratio():
    assert compression_ratio("") == 0.0
    assert compression_ratio("the the the the the the the the the the the the the the") > 2.4
    assert compression_ratio("And so my fellow Americans, ask not what your country can do for you") < 2.0


def test_timestamp_rules(cpu_engine):
    tok = cpu_engine.tokenizer
    tb = tok.timestamp_begin
    rules = LogitRules(tok, DecodingOptions(), sample_begin=1, suppress=(), begin_suppress=(220, tok.eot))
    vocab = cpu_engine.dims.n_vocab
    # first sampled token: only a timestamp within the first second
    logits = np.zeros((1, vocab), np.float32)
    rules.apply(logits, [[tok.sot]])
    allowed = np.flatnonzero(np.isfinite(logits[0]))
    assert allowed.min() == tb and allowed.max() == tb + 50
    # after text then one timestamp: next must be a timestamp (not going back) or the end
    seq = [tok.sot, tb, 400, tb + 20]
    logits = np.zeros((1, vocab), np.float32)
    logits[0, tok.eot] = 10.0  # so the "timestamps outweigh text" rule leaves the end allowed
    rules.apply(logits, [seq])
    allowed = np.flatnonzero(np.isfinite(logits[0]))
    assert tok.eot in allowed and 400 not in allowed
    assert allowed[allowed >= tb].min() == tb + 20
    # after a closed pair: text, or a strictly later timestamp
    seq = [tok.sot, tb, 400, tb + 20, tb + 20]
    logits = np.zeros((1, vocab), np.float32)
    rules.apply(logits, [seq])
    assert np.isfinite(logits[0, 400]) and not np.isfinite(logits[0, tb + 25])
    assert not np.isfinite(logits[0, tok.no_timestamps])


def test_step_by_step_equals_prefix(cpu_engine, shared_audio):
    """KV-cached single steps give the same logits as feeding the sequence at once."""
    from amanuensis_desktop.audio.files import load_audio

    audio = load_audio(shared_audio / "goforward.wav")
    mel = pad_or_trim(log_mel_spectrogram(audio, padding=N_SAMPLES))
    feats = cpu_engine.backend.encode(mel)
    tokens = [cpu_engine.tokenizer.sot, cpu_engine.tokenizer.timestamp_begin] + cpu_engine.tokenizer.encode(
        " Go forward ten"
    )
    whole = cpu_engine.backend.decoder(feats).step(np.array([tokens]))
    s = cpu_engine.backend.decoder(feats)
    for t in tokens:
        last = s.step(np.array([[t]]))
    assert s.length == len(tokens)
    np.testing.assert_allclose(last, whole, atol=2e-3, rtol=1e-3)


def test_reorder_duplicates_rows(cpu_engine):
    feats = np.random.default_rng(0).standard_normal((1500, 384)).astype(np.float32)
    s = cpu_engine.backend.decoder(feats)
    s.step(np.array([[cpu_engine.tokenizer.sot]]))
    s.reorder(np.array([0, 0, 0]))
    out = s.step(np.array([[100], [100], [200]]))
    assert out.shape == (3, cpu_engine.dims.n_vocab)
    np.testing.assert_allclose(out[0], out[1])
    assert not np.allclose(out[0], out[2])


@pytest.mark.parametrize("kind", ["silence", "white", "faint_white", "hum"])
def test_no_text_from_silence_or_noise(cpu_engine, kind):
    rng = np.random.default_rng(1)
    n = 30 * 16000
    audio = {
        "silence": np.zeros(n),
        "white": rng.standard_normal(n) * 0.1,
        "faint_white": rng.standard_normal(n) * 0.01,
        "hum": 0.05 * np.sin(2 * np.pi * 50 * np.arange(n) / 16000),
    }[kind].astype(np.float32)
    result = cpu_engine.transcribe(audio)
    assert result.text == ""
    assert result.segments == []


def test_beam_search_and_prompt(cpu_engine, shared_audio):
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.whisper.wer import wer

    audio = load_audio(shared_audio / "jfk.wav")
    ref = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    beam = cpu_engine.transcribe(audio, beam_size=3)
    assert wer(ref, beam.text) < 0.05
    prompted = cpu_engine.transcribe(audio, initial_prompt="Kennedy's inaugural address, 1961.")
    assert wer(ref, prompted.text) < 0.1


def test_repetitive_speech_falls_back_cheaply_and_keeps_the_words(cpu_engine, shared_audio):
    """Real repeated speech has a high compression ratio, so every temperature 'fails': sampled hypotheses
    stop as soon as they are repetitive, and the result kept is the most confident non-repetitive one (or the
    greedy one), never the hottest sample."""
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.whisper.wer import wer

    jfk = load_audio(shared_audio / "jfk.wav")
    audio = np.concatenate([jfk, np.zeros(8000, np.float32)] * 2)
    result = cpu_engine.transcribe(audio)
    ref = " ".join(
        ["And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."]
        * 2
    )
    assert wer(ref, result.text) < 0.15
    assert result.timings["steps"] < 1200  # 6 temperatures x 5 samples x 224 tokens would be far more


def test_cancel_stops_inside_a_window(cpu_engine, shared_audio):
    import threading

    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.whisper.transcribe import Cancelled

    cancel = threading.Event()
    audio = load_audio(shared_audio / "jfk.wav")
    calls = []

    class Spy:
        def is_set(self):
            calls.append(1)
            return len(calls) > 1  # set after the first check, i.e. mid-window

    with pytest.raises(Cancelled):
        cpu_engine.transcribe(audio, cancel=Spy())
    assert len(calls) == 2
    cancel.set()
    with pytest.raises(Cancelled):
        cpu_engine.transcribe(audio, cancel=cancel)
