"""Word timestamps and word confidence: our alignment against faster-whisper's on the same weights, against known
positions, inside their segments, and lower confidence on noisy speech. OpenVINO computes the decode and the
alignment pass (its alignment graph: tests/backends/test_openvino_alignment.py compares it with the numpy
reference)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from amanuensis_desktop.formats import format_transcript
from amanuensis_desktop.whisper.alignment import alignment_heads, dtw, median_filter
from amanuensis_desktop.whisper.audio import SAMPLE_RATE
from amanuensis_desktop.whisper.model import ModelDims
from amanuensis_desktop.whisper.words import Word

CLEAN = [
    "jfk.wav",
    "goforward.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
]
NOISY = [
    "noise/noisy_vbdemand_p232_003.wav",
    "noise/noisy_vbdemand_p232_005.wav",
    "noise/noisy_vbdemand_p232_007.wav",
    "noise/noisy_vbdemand_p232_009.wav",
    "noise/noisy_vbdemand_p232_010.wav",
]


@pytest.fixture(scope="module")
def engine():
    from amanuensis_desktop.engine import Engine

    return Engine.load("openvino", device="CPU")


@pytest.fixture(scope="module")
def faster_whisper_model():
    fw = pytest.importorskip("faster_whisper")
    from amanuensis_desktop.whisper.model import resolve_model_path

    return fw.WhisperModel(str(resolve_model_path(None)), device="cpu", compute_type="int8", cpu_threads=2)


def _load(shared_audio, name: str) -> np.ndarray:
    from amanuensis_desktop.audio.files import load_audio

    return load_audio(shared_audio / name)


def _words(transcript) -> list[Word]:
    return [w for seg in transcript.segments for w in seg.words]


def _norm(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def _assert_well_formed(transcript) -> None:
    last = 0.0
    for seg in transcript.segments:
        assert seg.words, f"segment without words: {seg.text!r}"
        assert "".join(w.word for w in seg.words).strip() == seg.text
        for w in seg.words:
            assert seg.start <= w.start <= w.end <= seg.end
            assert w.start >= last - 1e-6
            assert 0.0 <= w.probability <= 1.0
            last = w.end


# -- unit ---------------------------------------------------------------------------------------------
def test_dtw_matches_the_plain_recurrence():
    rng = np.random.default_rng(1)
    cost = rng.random((7, 23))
    acc = np.full((8, 24), np.inf)
    acc[0, 0] = 0
    for i in range(1, 8):
        for j in range(1, 24):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    rows, cols = dtw(cost)
    assert rows[0] == 0 and cols[0] == 0 and rows[-1] == 6 and cols[-1] == 22
    assert np.all(np.diff(rows) >= 0) and np.all(np.diff(cols) >= 0)
    assert np.isclose(cost[rows, cols].sum(), acc[7, 23])


def test_median_filter_width_7():
    x = np.array([[0, 0, 9, 0, 0, 0, 0, 5, 5, 5, 5, 5]], dtype=float)
    y = median_filter(x, 7)
    assert y.shape == x.shape and y[0, 2] == 0 and y[0, 9] == 5


def test_alignment_heads_from_the_folder_or_the_last_half(tmp_path):
    dims = ModelDims(80, 1500, 384, 6, 4, 51864, 448, 384, 6, 4)
    (tmp_path / "config.json").write_text(json.dumps({"alignment_heads": [[1, 0], [3, 4]]}))
    assert alignment_heads(tmp_path, dims) == ((1, 0), (3, 4))
    (tmp_path / "config.json").write_text("{}")
    assert alignment_heads(tmp_path, dims) == tuple((layer, h) for layer in (2, 3) for h in range(6))


def test_word_cues_and_json_words():
    class Seg:
        start, end, text = 0.0, 2.0, "One two three."
        words = [Word(" One", 0.0, 0.5, 0.9), Word(" two", 0.5, 1.0, 0.4), Word(" three.", 1.2, 2.0, 0.8)]

    srt = format_transcript([Seg()], "srt", max_words_per_cue=2)
    assert "00:00:00,000 --> 00:00:01,000\nOne two" in srt and "00:00:01,200 --> 00:00:02,000\nthree." in srt
    vtt = format_transcript([Seg()], "vtt", max_words_per_cue=1)
    assert vtt.count("-->") == 3
    data = json.loads(format_transcript([Seg()], "json"))
    assert [w["word"] for w in data["segments"][0]["words"]] == [" One", " two", " three."]


# -- against faster-whisper, same weights -------------------------------------------------------------
def test_word_starts_match_faster_whisper(engine, faster_whisper_model, shared_audio):
    diffs: list[float] = []
    for name in CLEAN:
        audio = _load(shared_audio, name)
        ours = engine.transcribe(audio, word_timestamps=True)
        _assert_well_formed(ours)
        segments, _ = faster_whisper_model.transcribe(audio, language="en", beam_size=1, word_timestamps=True)
        theirs = [w for s in segments for w in s.words]
        mine = _words(ours)
        # Compare the words both transcripts hold at the same place (the texts may differ slightly).
        j = 0
        for w in mine:
            for k in range(j, min(j + 3, len(theirs))):
                if _norm(theirs[k].word) == _norm(w.word):
                    diffs.append(abs(w.start - theirs[k].start))
                    j = k + 1
                    break
    diffs_a = np.array(diffs)
    print(f"vs faster-whisper: {len(diffs_a)} words, median {np.median(diffs_a):.3f} s, max {diffs_a.max():.3f} s")
    assert len(diffs_a) >= 60
    assert np.median(diffs_a) <= 0.06


def _flite_word(word: str, folder) -> np.ndarray:
    import soundfile as sf

    path = folder / f"{word}.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", word, "-o", str(path)], check=True, capture_output=True)
    data, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE
    # Trim to the speech: 10 ms frames louder than 3 % of the peak RMS.
    frames = data[: data.size // 160 * 160].reshape(-1, 160)
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = np.flatnonzero(rms > 0.03 * rms.max())
    return data[loud[0] * 160 : (loud[-1] + 1) * 160]


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt flite)")
def test_known_positions(engine, tmp_path):
    """Single words spoken by flite, trimmed to their sound and joined by silences of known length: each word's
    start must land near where it was placed."""
    words = ["morning", "yesterday", "garden", "computer", "window", "happy", "river", "number"]
    gaps = [0.5, 0.8, 0.6, 1.0, 0.7, 0.9, 0.6, 0.8]
    pieces, truth, at = [], [], 0.0
    for word, gap in zip(words, gaps):
        pieces.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
        at += gap
        sound = _flite_word(word, tmp_path)
        truth.append((word, at))
        pieces.append(sound)
        at += sound.size / SAMPLE_RATE
    pieces.append(np.zeros(int(0.8 * SAMPLE_RATE), np.float32))
    result = engine.transcribe(np.concatenate(pieces), word_timestamps=True, condition_on_previous_text=False)
    _assert_well_formed(result)
    found = _words(result)
    errors = []
    j = 0
    for word, start in truth:
        for k in range(j, len(found)):
            if _norm(found[k].word) == word:
                errors.append(abs(found[k].start - start))
                j = k + 1
                break
    errors_a = np.array(errors)
    print(
        f"known positions: {len(errors_a)}/{len(truth)} words, median {np.median(errors_a):.3f} s, "
        f"max {errors_a.max():.3f} s; heard {[w.word for w in found]}"
    )
    assert len(errors_a) >= len(truth) - 2
    assert np.median(errors_a) <= 0.1


# -- confidence ---------------------------------------------------------------------------------------
def test_confidence_falls_with_noise_and_marks_wrong_words(engine, shared_audio, manifest):
    """The same speech with street noise mixed in at 0 dB SNR scores lower than clean; and over the noisy clips
    (../shared/audio/noise/noisy_*) plus the clean ones, words missing from the reference score lower than words
    in it. (The noisy_* clips on their own score about as high as the clean ones: tiny.en hears them well.)"""
    from amanuensis_desktop.whisper.wer import normalize

    def probabilities(audio: np.ndarray) -> list[Word]:
        return _words(engine.transcribe(audio, word_timestamps=True))

    noise = _load(shared_audio, "noise/noise_city_traffic.wav")
    clean_p, mixed_p = [], []
    for name in CLEAN[2:]:
        audio = _load(shared_audio, name)
        street = np.resize(noise, audio.size)
        street *= np.sqrt(np.mean(audio**2) / np.mean(street**2))
        clean_p += [w.probability for w in probabilities(audio)]
        mixed_p += [w.probability for w in probabilities(audio + street)]
    print(f"mean word probability: clean {np.mean(clean_p):.3f}, with 0 dB street noise {np.mean(mixed_p):.3f}")
    assert np.mean(mixed_p) < np.mean(clean_p) - 0.05

    from amanuensis_desktop.bench.corpus import manifest as read_manifest

    references = dict(manifest) | dict(read_manifest(shared_audio, noisy=True))
    right, wrong = [], []
    for name in NOISY + CLEAN:
        if name not in references:
            continue
        expected = set(normalize(references[name]).split())
        for w in probabilities(_load(shared_audio, name)):
            (right if normalize(w.word).strip() in expected else wrong).append(w.probability)
    print(f"right words {len(right)}: {np.mean(right):.3f}; wrong words {len(wrong)}: {np.mean(wrong):.3f}")
    assert wrong and np.mean(wrong) < np.mean(right)


# -- command line, beam search ------------------------------------------------------------------------
def test_cli_word_json_and_word_cues(shared_audio, tmp_path):
    import subprocess
    import sys

    clip = str(shared_audio / "goforward.wav")
    base = [sys.executable, "-m", "amanuensis_desktop", "transcribe", clip, "--backend", "openvino", "--quiet"]
    out = subprocess.run(
        base + ["--format", "json", "--word-timestamps"], capture_output=True, text=True, encoding="utf-8", timeout=300
    )
    assert out.returncode == 0, out.stderr
    seg = json.loads(out.stdout)["segments"][0]
    assert "".join(w["word"] for w in seg["words"]).strip() == seg["text"]
    assert all(seg["start"] <= w["start"] <= w["end"] <= seg["end"] for w in seg["words"])
    out = subprocess.run(
        base + ["--format", "srt", "--max-words-per-cue", "1"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("-->") == len(seg["words"])
    bad = subprocess.run(
        base + ["--max-words-per-cue", "0"], capture_output=True, text=True, encoding="utf-8", timeout=300
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_beam_search_words_have_probabilities(engine, shared_audio):
    result = engine.transcribe(_load(shared_audio, "jfk.wav"), word_timestamps=True, beam_size=3)
    _assert_well_formed(result)
    probs = [w.probability for w in _words(result)]
    assert len(probs) >= 20 and np.mean(probs) > 0.7


# -- live finals ----------------------------------------------------------------------------------------
def test_live_finals_carry_words_in_session_time(engine, shared_audio):
    from amanuensis_desktop.audio.sources import FileSource
    from amanuensis_desktop.live.events import Final
    from amanuensis_desktop.live.pipeline import LiveOptions, LivePipeline

    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), _load(shared_audio, "jfk.wav")])
    events: list = []
    options = LiveOptions(word_timestamps=True, partials=False, speculate=False)
    pipeline = LivePipeline(engine, options, events.append, source=FileSource(audio, speed=4.0))
    pipeline.start()
    assert pipeline.wait(300)
    finals = [e for e in events if isinstance(e, Final) and e.text]
    assert finals
    for f in finals:
        assert f.words and "".join(w.word for w in f.words).strip() == f.text
        assert all(f.start - 0.01 <= w.start <= w.end <= f.end + 0.01 for w in f.words)
        assert f.audio is not None and abs(f.audio.size / SAMPLE_RATE - (f.end - f.start)) < 0.05
    first = finals[0].words[0]
    assert 0.9 <= first.start <= 1.6  # "And" begins about 1.3 s into the session (1 s of silence first)
