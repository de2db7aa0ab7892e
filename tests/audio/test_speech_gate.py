"""The neural speech detector (Silero VAD on real OpenVINO) and the file-side speech regions."""

from __future__ import annotations

import time

import numpy as np
import pytest

from amanuensis_desktop.audio.speech_gate import (
    CHUNK,
    DATA_DIR,
    SEQUENCE_MODEL,
    STREAM_MODEL,
    SpeechGate,
    speech_probabilities,
)
from amanuensis_desktop.audio.speech_regions import (
    RegionOptions,
    TimeMap,
    clip,
    regions_from_probabilities,
    speech_regions,
)
from amanuensis_desktop.bench.corpus import load_clip

SR = 16000


def test_vendored_model_and_licence_are_packaged():
    assert STREAM_MODEL.is_file() and SEQUENCE_MODEL.is_file()
    licence = (DATA_DIR / "LICENSE.silero-vad").read_text()
    assert "MIT License" in licence and "Silero Team" in licence


@pytest.fixture(scope="module")
def jfk(shared_audio):
    return load_clip("jfk.wav", shared_audio)


def test_streaming_matches_batched_in_any_block_size(jfk):
    batched = speech_probabilities(jfk)
    assert batched.size == -(-jfk.size // CHUNK)
    gate = SpeechGate()
    streamed = np.concatenate([gate.push(jfk[i : i + 333]) for i in range(0, jfk.size, 333)])
    assert streamed.size == jfk.size // CHUNK
    np.testing.assert_allclose(streamed, batched[: streamed.size], atol=1e-5)
    gate.reset()
    again = gate.push(jfk)
    np.testing.assert_allclose(again, streamed, atol=1e-6)
    assert batched.max() > 0.99  # speech
    assert speech_probabilities(np.zeros(SR, np.float32)).max() < 0.1  # digital silence


def test_small_blocks_in_batched_mode_carry_the_state(jfk):
    np.testing.assert_allclose(speech_probabilities(jfk, block=7), speech_probabilities(jfk), atol=1e-5)


def test_gate_is_cheap_enough_for_live_use(jfk):
    gate = SpeechGate()
    gate.push(jfk[:SR])
    t0 = time.process_time()  # CPU time of the process (wall time measures the machine's load, not the gate)
    for i in range(0, jfk.size, 320):  # the listener's 20 ms blocks
        gate.push(jfk[i : i + 320])
    ms_per_s = (time.process_time() - t0) * 1000 / (jfk.size / SR)
    # ~14 ms of CPU per second of audio here (1.4 % of a core); generous for a loaded CI machine.
    assert ms_per_s < 100, ms_per_s


def _probs(pattern: str) -> np.ndarray:
    """One chunk per character: '#' speech (0.95), '-' unsure (0.4), '.' silence (0.02)."""
    return np.array([{"#": 0.95, "-": 0.4, ".": 0.02}[c] for c in pattern], np.float32)


def test_regions_hysteresis_min_speech_padding_and_merge():
    opts = RegionOptions(threshold=0.5, min_speech_s=0.1, min_silence_s=0.16, pad_s=0.0, merge_gap_s=0.0)
    # 5 chunks of silence end a region (0.16 s); unsure chunks (0.4 > 0.35) keep it open.
    probs = _probs("..####--##......####........#..")
    n = probs.size * CHUNK
    assert regions_from_probabilities(probs, n, opts) == [(2 * CHUNK, 10 * CHUNK), (16 * CHUNK, 20 * CHUNK)]
    # the lone speech chunk at 28 is shorter than min_speech_s (0.1 s = 3.1 chunks): dropped
    padded = RegionOptions(threshold=0.5, min_speech_s=0.1, min_silence_s=0.16, pad_s=0.05, merge_gap_s=0.0)
    assert regions_from_probabilities(probs, n, padded) == [
        (2 * CHUNK - 800, 10 * CHUNK + 800),
        (16 * CHUNK - 800, 20 * CHUNK + 800),
    ]
    # regions closer than merge_gap_s after padding become one (the pause stays in the audio)
    merged = RegionOptions(threshold=0.5, min_speech_s=0.1, min_silence_s=0.16, pad_s=0.05, merge_gap_s=0.1)
    assert regions_from_probabilities(probs, n, merged) == [(2 * CHUNK - 800, 20 * CHUNK + 800)]
    # padding that overlaps merges too
    wide = RegionOptions(threshold=0.5, min_speech_s=0.1, min_silence_s=0.16, pad_s=0.1, merge_gap_s=0.0)
    assert regions_from_probabilities(probs, n, wide) == [(0, 20 * CHUNK + 1600)]  # clamped at 0
    # padding never leaves the audio; speech running to the end closes there
    assert regions_from_probabilities(_probs("####"), 4 * CHUNK - 100, padded) == [(0, 4 * CHUNK - 100)]
    assert regions_from_probabilities(_probs("......"), 6 * CHUNK, opts) == []
    with pytest.raises(ValueError):
        regions_from_probabilities(probs, n, RegionOptions(threshold=1.5))


def test_time_map_puts_clipped_times_back_on_the_file():
    regions = [(16000, 48000), (160000, 176000)]  # 1-3 s and 10-11 s
    tmap = TimeMap(regions)
    assert tmap.clipped_samples == 48000
    assert tmap.to_file(0.0) == 1.0
    assert tmap.to_file(1.5) == 2.5
    assert tmap.to_file(2.0) == 10.0  # a start on the join belongs to the second region
    assert tmap.to_file(2.0, is_end=True) == 3.0  # an end on the join to the first
    assert tmap.to_file(2.5, is_end=True) == 10.5
    audio = np.arange(200000, dtype=np.float32)
    joined = clip(audio, regions)
    assert joined.size == 48000 and joined[0] == 16000 and joined[32000] == 160000
    assert TimeMap([]).to_file(4.2) == 4.2


def test_speech_after_noise_is_found_where_it_is(shared_audio, jfk):
    noise = load_clip("noise/noise_running_tap.wav", shared_audio)
    audio = np.concatenate([np.resize(noise, 20 * SR), jfk])
    regions = speech_regions(audio)
    assert regions, "no speech found"
    start = regions[0][0] / SR
    assert 19.3 <= start <= 20.5, regions  # jfk's first word is ~0.3 s in; 0.4 s of padding before it
    assert regions[-1][1] / SR > 20 + 10.0
