"""Segment state shared by the listener (which fills segments) and the worker (which transcribes them).

:class:`Segment` is one stretch of speech as the worker sees it: its audio so far, how much of it each decode
covered, the local agreement of its partials and the speculative final. :class:`SegmentBoard` holds the open
and waiting segments in order under one condition variable: the listener applies the segmenter's events to it,
the worker waits on it for work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .agreement import LocalAgreement
from .vad import CloseReason, EventKind, SegmentEvent


@dataclass
class Speculation:
    """A final decoded during the hang-over on the first ``n`` samples (``result`` None: it failed)."""

    n: int
    result: Any
    prompted: bool
    seconds: float
    started: float = 0.0  # time.monotonic() when its decode started
    done: float = 0.0  # ... and ended


class Segment:
    __slots__ = (
        "id",
        "start",
        "chunks",
        "n",
        "closed",
        "end",
        "closed_at",
        "voiced",
        "last_voiced",
        "too_short",
        "decoded_n",
        "last_partial_t",
        "agree",
        "shown",
        "spec",
        "reason",
        "confirmed",
    )

    def __init__(self, sid: int, start: int) -> None:
        self.id, self.start = sid, start
        self.chunks: list[np.ndarray] = []
        self.n = 0
        self.closed = False
        self.end = start
        self.closed_at = 0.0
        self.voiced = 0
        self.last_voiced = start
        self.too_short = False
        self.decoded_n = 0
        self.last_partial_t = 0.0
        self.agree = LocalAgreement()
        self.shown: tuple[str, str] | None = None
        self.spec: Speculation | None = None  # the speculative final
        self.reason = CloseReason.NONE
        self.confirmed = True  # the neural speech gate confirmed it (always True without the gate)

    @property
    def spec_n(self) -> int:
        """Audio length the speculative final was decoded on (-1: none)."""
        return -1 if self.spec is None else self.spec.n

    def add(self, audio: np.ndarray, voiced: int, last_voiced: int) -> None:
        if audio.size:
            self.chunks.append(audio)
            self.n += audio.size
        self.voiced += voiced
        self.last_voiced = max(self.last_voiced, last_voiced)

    def audio(self, n: int | None = None) -> np.ndarray:
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
        a = self.chunks[0] if self.chunks else np.zeros(0, np.float32)
        return a[: self.n if n is None else n]

    def close(self, end: int, now: float, voiced: int, too_short: bool, reason: CloseReason) -> None:
        self.closed, self.end, self.closed_at = True, end, now
        self.n = min(self.n, max(0, end - self.start))
        self.voiced, self.too_short, self.reason = voiced, too_short, reason

    @property
    def pending(self) -> int:
        """Samples not covered by any decode yet (partials, or the speculative final)."""
        if not self.confirmed:
            return 0  # not speech (yet): nothing waits for Whisper
        covered = max(self.decoded_n, self.spec_n if self.spec_n <= self.n else 0)
        return max(0, self.n - covered)


class SegmentBoard:
    """The segments not yet finalised, oldest first, and whether input has ended. ``cond`` guards both (and the
    segments' audio): the listener notifies it on every change, the worker waits on it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.segments: list[Segment] = []
        self.input_done = False

    def apply(self, events: list[SegmentEvent], confirmed: Callable[[int], bool] | None = None) -> int:
        """Apply the segmenter's events (open / audio / close) and wake the worker. ``confirmed``: the speech
        gate's verdict by segment id (None: no gate, every segment counts as speech). Returns how many segments
        it newly confirmed."""
        if not events:
            return 0
        now = time.monotonic()
        newly = 0
        with self.cond:
            for e in events:
                if e.kind == EventKind.OPEN:
                    seg = Segment(e.segment_id, e.start)
                    seg.confirmed = confirmed is None
                    seg.add(e.audio, e.voiced, e.last_voiced)
                    self.segments.append(seg)
                    continue
                found = next((s for s in reversed(self.segments) if s.id == e.segment_id), None)
                if found is None:
                    continue
                if e.kind == EventKind.AUDIO:
                    found.add(e.audio, e.voiced, e.last_voiced)
                elif e.kind == EventKind.CLOSE:
                    found.close(e.end, now, e.voiced, e.too_short, e.reason)
            if confirmed is not None:
                for seg in self.segments:
                    if not seg.confirmed and confirmed(seg.id):
                        seg.confirmed = True
                        newly += 1
            self.cond.notify_all()
        return newly

    def end_input(self, drop_segments: bool = False) -> None:
        """No more input will come (``drop_segments``: nobody is left to transcribe them either)."""
        with self.cond:
            self.input_done = True
            if drop_segments:
                self.segments.clear()
            self.cond.notify_all()

    def remove(self, seg: Segment) -> None:
        with self.cond:
            if self.segments and self.segments[0] is seg:
                self.segments.pop(0)

    def pending_samples(self) -> int:
        with self.cond:
            return sum(s.pending for s in self.segments)

    @property
    def idle(self) -> bool:
        with self.cond:
            return not self.segments
