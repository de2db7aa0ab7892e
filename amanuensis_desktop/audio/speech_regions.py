"""Where a file holds speech: regions from the neural speech detector, the audio cut down to them, and the way
back from the cut audio's time to the file's time.

A region opens at the first 32 ms chunk whose speech probability reaches ``threshold`` and closes at the
start of a stretch of ``min_silence_s`` under ``threshold - 0.15`` (hysteresis: a word's quieter end does not
close it). Regions shorter than ``min_speech_s`` are dropped (a knock, a click). Each region is widened by
``pad_s`` on both sides (soft word edges, breath before speech), and regions then closer than ``merge_gap_s``
are merged, so a short pause stays in the audio Whisper hears. Whisper then runs on :func:`clip` of the audio
— long silences and music intros are never encoded — and :class:`TimeMap` puts its timestamps back on the
file's time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .speech_gate import CHUNK, SAMPLE_RATE, speech_probabilities

NEG_OFFSET = 0.15  # a region ends below threshold - NEG_OFFSET


@dataclass(frozen=True)
class RegionOptions:
    threshold: float = 0.5
    min_speech_s: float = 0.25
    min_silence_s: float = 1.0
    pad_s: float = 0.4
    merge_gap_s: float = 0.5


def regions_from_probabilities(
    probs: np.ndarray, n_samples: int, options: RegionOptions | None = None
) -> list[tuple[int, int]]:
    """Speech regions as ``(start, end)`` sample positions, from one probability per 512-sample chunk."""
    o = options or RegionOptions()
    if not 0.0 < o.threshold < 1.0:
        raise ValueError("the speech threshold must be between 0 and 1")
    neg = max(0.01, o.threshold - NEG_OFFSET)
    min_silence = max(1, int(round(o.min_silence_s * SAMPLE_RATE / CHUNK)))
    raw: list[tuple[int, int]] = []
    start: int | None = None
    quiet_from: int | None = None
    for i, p in enumerate(np.asarray(probs, np.float32)):
        if start is None:
            if p >= o.threshold:
                start, quiet_from = i, None
            continue
        if p >= o.threshold:
            quiet_from = None
        elif p < neg:
            if quiet_from is None:
                quiet_from = i
            if i + 1 - quiet_from >= min_silence:
                raw.append((start, quiet_from))
                start = quiet_from = None
    if start is not None:
        raw.append((start, quiet_from if quiet_from is not None else len(probs)))
    min_chunks = o.min_speech_s * SAMPLE_RATE / CHUNK
    pad = int(round(o.pad_s * SAMPLE_RATE))
    gap = int(round(o.merge_gap_s * SAMPLE_RATE))
    regions: list[tuple[int, int]] = []
    for a, b in raw:
        if b - a < min_chunks:
            continue
        s, e = max(0, a * CHUNK - pad), min(n_samples, b * CHUNK + pad)
        if e <= s:
            continue
        if regions and s - regions[-1][1] < gap:
            regions[-1] = (regions[-1][0], max(regions[-1][1], e))
        else:
            regions.append((s, e))
    return regions


def speech_regions(
    audio: np.ndarray,
    threshold: float = 0.5,
    min_speech_s: float = 0.25,
    min_silence_s: float = 1.0,
    pad_s: float = 0.4,
    merge_gap_s: float = 0.5,
) -> list[tuple[int, int]]:
    """Speech regions of ``audio`` (16 kHz mono float32) as ``(start, end)`` sample positions, padded and merged
    (see the module docstring). An empty list: nothing in the audio is speech."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    options = RegionOptions(threshold, min_speech_s, min_silence_s, pad_s, merge_gap_s)
    return regions_from_probabilities(speech_probabilities(audio), audio.size, options)


def clip(audio: np.ndarray, regions: list[tuple[int, int]]) -> np.ndarray:
    """The samples of ``regions`` joined end to end."""
    if not regions:
        return np.zeros(0, np.float32)
    return np.concatenate([audio[s:e] for s, e in regions]).astype(np.float32, copy=False)


class TimeMap:
    """Seconds in the clipped audio → seconds in the file. A time exactly on a join belongs to the next region
    (a segment starts there), or to the previous one with ``is_end=True`` (a segment ends there)."""

    def __init__(self, regions: list[tuple[int, int]], sample_rate: int = SAMPLE_RATE):
        self.sample_rate = sample_rate
        self.regions = list(regions)
        self._starts: list[int] = []  # clipped-audio start of each region, in samples
        total = 0
        for s, e in self.regions:
            self._starts.append(total)
            total += e - s
        self.clipped_samples = total

    def to_file(self, t: float, is_end: bool = False) -> float:
        if not self.regions:
            return t
        x = int(round(t * self.sample_rate))
        k = (bisect.bisect_left(self._starts, x) - 1) if is_end else (bisect.bisect_right(self._starts, x) - 1)
        k = min(max(k, 0), len(self.regions) - 1)
        return round((self.regions[k][0] + x - self._starts[k]) / self.sample_rate, 3)
