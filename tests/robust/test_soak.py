"""Soak: minutes (``AMANUENSIS_LONG=1``: an hour) of speech and silence through the live pipeline from a file
source as fast as it takes them. Every clip's words arrive, in order (WER of the joined finals against the
joined references, deletions compared with the same clips transcribed as files), and memory and the thread
count stay bounded."""

from __future__ import annotations

import threading
import time

import numpy as np
import psutil
import pytest

from amanuensis_desktop.whisper.audio import SAMPLE_RATE
from amanuensis_desktop.whisper.wer import normalize, wer

from .conftest import LONG

MINUTES = 60.0 if LONG else 3.0


def _deletions(reference: str, hypothesis: str) -> int:
    """Reference words missing from the hypothesis in a minimal word alignment (substitutions are not losses)."""
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    # dp over (cost, deletions); cost first, then fewer deletions
    prev = [(j, 0) for j in range(len(hyp) + 1)]
    for i, r in enumerate(ref, 1):
        cur = [(i, i)] + [(0, 0)] * len(hyp)
        for j, h in enumerate(hyp, 1):
            d = (prev[j][0] + 1, prev[j][1] + 1)
            ins = (cur[j - 1][0] + 1, cur[j - 1][1])
            sub = (prev[j - 1][0] + (r != h), prev[j - 1][1])
            cur[j] = min(d, ins, sub)
        prev = cur
    return prev[-1][1]


@pytest.fixture(scope="module")
def soak_audio(shared_audio):
    from amanuensis_desktop.bench.corpus import long_clip

    audio, reference, spans = long_clip(MINUTES * 60 * 0.8, pause_s=2.0, folder=shared_audio)
    silence = np.zeros(int(MINUTES * 60 * 0.1 * SAMPLE_RATE), np.float32)  # long silences: middle and end
    half = spans[len(spans) // 2][0]
    cut = int(half * SAMPLE_RATE)
    shifted = [
        (a + (silence.size / SAMPLE_RATE if a >= half else 0), b + (silence.size / SAMPLE_RATE if a >= half else 0), r)
        for a, b, r in spans
    ]
    return np.concatenate([audio[:cut], silence, audio[cut:], silence]), shifted


@pytest.mark.timeout(7200 if LONG else 600)
def test_soak_live_pipeline_loses_no_words(soak_audio):
    from amanuensis_desktop.audio.sources import FileSource
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.live.events import Error, Final
    from amanuensis_desktop.live.pipeline import LiveOptions, LivePipeline

    audio, spans = soak_audio
    engine = Engine.load("openvino")
    finals: list[Final] = []
    errors: list[str] = []

    def on_event(ev) -> None:
        if isinstance(ev, Final) and ev.text.strip():
            finals.append(ev)
        elif isinstance(ev, Error):
            errors.append(ev.message)

    proc = psutil.Process()
    pipeline = LivePipeline(engine, LiveOptions(partials=False), on_event, source=FileSource(audio, float("inf")))
    t0 = time.monotonic()
    pipeline.start()
    samples: list[tuple[float, int, int]] = []
    while not pipeline.wait(0.5):
        samples.append((time.monotonic() - t0, proc.memory_info().rss, threading.active_count()))
        assert time.monotonic() - t0 < MINUTES * 60 * 2, "the soak fell behind (slower than half real time)"
    pipeline.stop()
    elapsed = time.monotonic() - t0
    assert not errors, errors

    # every clip accounted for: the finals overlapping its span, in order
    hyps = [" ".join(f.text for f in finals if f.end > a and f.start < b) for a, b, _ in spans]
    refs = [r for _, _, r in spans]
    missing = [i for i, h in enumerate(hyps) if not h.strip()]
    joined_wer = wer(" ".join(refs), " ".join(f.text for f in finals))
    lost = sum(_deletions(r, h) for r, h in zip(refs, hyps, strict=True))
    baseline = {}
    for a, b, r in spans:  # the same clips as files: what tiny.en itself drops
        if r not in baseline:
            clip = audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
            baseline[r] = _deletions(r, engine.transcribe(clip).text)
    base_lost = sum(baseline[r] for r in refs)
    words = sum(len(normalize(r).split()) for r in refs)
    warm = [s for s in samples if s[0] >= elapsed * 0.25] or samples
    growth = (max(s[1] for s in warm) - warm[0][1]) / 2**20
    threads = max(s[2] for s in samples) if samples else 0
    print(
        f"\nsoak: {audio.size / SAMPLE_RATE / 60:.1f} min of audio in {elapsed:.0f} s; {len(spans)} clips, "
        f"{len(finals)} finals, {words} words; WER {joined_wer:.1%}; deletions {lost} (as files: {base_lost}); "
        f"clips with no final: {len(missing)}; RSS growth after warm-up {growth:.0f} MB; threads max {threads}"
    )
    engine.close()
    assert not missing, [spans[i] for i in missing]
    assert joined_wer < 0.15
    assert lost <= base_lost + max(2, words // 100)  # the live path drops no more than the files do (+1 %)
    assert growth < (150 if LONG else 80)
    assert threads < 30
