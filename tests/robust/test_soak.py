"""Soak: minutes (``AMANUENSIS_LONG=1``: an hour) of speech and silence through the live pipeline from a file
source as fast as it takes them (paced by its backlog, so the backlog measured is the pipeline's). Every clip's
words arrive, in order (WER of the joined finals against the joined references, deletions compared with the same
clips transcribed as files), and memory, the thread count and the backlog stay bounded."""

from __future__ import annotations

import time

import numpy as np
import pytest

from amanuensis_desktop.whisper.audio import SAMPLE_RATE
from amanuensis_desktop.whisper.wer import normalize, wer
from devtools.soak import PacedSource, Sampler, deletions

from .conftest import LONG

MINUTES = 60.0 if LONG else 3.0


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

    source = PacedSource(audio, max_ahead_s=20.0)
    pipeline = LivePipeline(engine, LiveOptions(partials=False), on_event, source=source)
    source.backlog = lambda: pipeline.backlog_seconds
    sampler = Sampler(backlog=lambda: pipeline.backlog_seconds)
    t0 = time.monotonic()
    pipeline.start()
    sampler.start()
    while not pipeline.wait(0.5):
        assert time.monotonic() - t0 < MINUTES * 60 * 2, "the soak fell behind (slower than half real time)"
    pipeline.stop()
    sampler.stop()
    elapsed = time.monotonic() - t0
    assert not errors, errors

    # every clip accounted for: the finals overlapping its span, in order
    hyps = [" ".join(f.text for f in finals if f.end > a and f.start < b) for a, b, _ in spans]
    refs = [r for _, _, r in spans]
    missing = [i for i, h in enumerate(hyps) if not h.strip()]
    joined_wer = wer(" ".join(refs), " ".join(f.text for f in finals))
    lost = sum(deletions(r, h) for r, h in zip(refs, hyps, strict=True))
    baseline = {}
    for a, b, r in spans:  # the same clips as files: what tiny.en itself drops
        if r not in baseline:
            clip = audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
            baseline[r] = deletions(r, engine.transcribe(clip).text)
    base_lost = sum(baseline[r] for r in refs)
    words = sum(len(normalize(r).split()) for r in refs)
    growth, threads, backlog = sampler.growth_mb(), sampler.max_threads, sampler.max_backlog
    print(
        f"\nsoak: {audio.size / SAMPLE_RATE / 60:.1f} min of audio in {elapsed:.0f} s; {len(spans)} clips, "
        f"{len(finals)} finals, {words} words; WER {joined_wer:.1%}; deletions {lost} (as files: {base_lost}); "
        f"clips with no final: {len(missing)}; RSS growth after warm-up {growth:.0f} MB; threads max {threads}; "
        f"backlog max {backlog:.1f} s; RSS MB over time {sampler.curve()}"
    )
    engine.close()
    assert not missing, [spans[i] for i in missing]
    assert joined_wer < 0.15
    assert lost <= base_lost + max(2, words // 100)  # the live path drops no more than the files do (+1 %)
    assert growth < (150 if LONG else 80)
    assert threads < 30
    assert backlog < 20.0 + 10.0  # the source waits above 20 s; one segment more at most
