"""Transcribe only where the neural speech detector hears speech (files): the regions are cut out, joined,
transcribed as one clip, and every timestamp is put back on the file's time. Audio with no speech at all gives
an empty transcript without running Whisper."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..audio.speech_regions import RegionOptions, TimeMap, clip, regions_from_probabilities
from .audio import SAMPLE_RATE
from .transcribe import Segment, TranscribeOptions, Transcript, transcribe

# Behind the speech gate Whisper's own no-speech rule (no-speech probability over the threshold and low
# confidence) decides at "more likely silence than speech" instead of Whisper's 0.6: a cough, which the neural
# detector scores up to 0.96, gave "Thank you." at 0.57 (avg log-prob -1.25); every shared speech clip is at
# most 0.06. Two detectors must then agree before text appears.
GATED_NO_SPEECH_THRESHOLD = 0.5


def gated_options(opts: TranscribeOptions | None) -> TranscribeOptions:
    """``opts`` with the no-speech threshold lowered to :data:`GATED_NO_SPEECH_THRESHOLD` (unless off)."""
    opts = opts or TranscribeOptions()
    if opts.no_speech_threshold is None or opts.no_speech_threshold <= GATED_NO_SPEECH_THRESHOLD:
        return opts
    return replace(opts, no_speech_threshold=GATED_NO_SPEECH_THRESHOLD)


def transcribe_speech(
    engine,
    audio: np.ndarray,
    opts: TranscribeOptions | None = None,
    regions: RegionOptions | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
    cancel: threading.Event | None = None,
    on_segment: Callable[[Segment], None] | None = None,
) -> Transcript:
    """Like :func:`~.transcribe.transcribe`, over the speech regions of ``audio`` only."""
    from ..audio.speech_gate import speech_probabilities

    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    t0 = time.perf_counter()
    found = regions_from_probabilities(speech_probabilities(audio), audio.size, regions)
    vad_s = time.perf_counter() - t0
    if not found:
        if progress:
            progress(duration, duration)
        return Transcript(
            segments=[],
            duration=duration,
            backend=engine.backend.label,
            timings={"vad_s": vad_s, "speech_s": 0.0, "total_s": vad_s},
        )
    tmap = TimeMap(found)

    def mapped(seg: Segment) -> Segment:
        start = tmap.to_file(seg.start)
        end = max(start, min(duration, tmap.to_file(seg.end, is_end=True)))
        words, floor = [], start  # word timestamps, on the file's time too (inside the segment, increasing)
        for w in seg.words:
            w_start = min(max(tmap.to_file(w.start), floor), end)
            floor = min(max(tmap.to_file(w.end, is_end=True), w_start), end)
            words.append(replace(w, start=round(w_start, 3), end=round(floor, 3)))
        return replace(seg, start=start, end=end, words=words)

    def on_clipped(seg: Segment) -> None:
        if on_segment:
            on_segment(mapped(seg))

    def on_progress(done: float, _total: float) -> None:
        if progress:
            progress(min(duration, tmap.to_file(done, is_end=True)), duration)

    result = transcribe(
        engine,
        clip(audio, found),
        gated_options(opts),
        progress=on_progress if progress else None,
        cancel=cancel,
        on_segment=on_clipped if on_segment else None,
    )
    result.segments = [mapped(s) for s in result.segments]
    result.duration = duration
    if progress:
        progress(duration, duration)
    result.timings = {**result.timings, "vad_s": vad_s, "speech_s": tmap.clipped_samples / SAMPLE_RATE}
    return result
