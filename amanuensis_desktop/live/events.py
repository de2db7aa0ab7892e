"""Events of the live pipeline, independent of any GUI toolkit.

They are delivered to ``on_event`` from the pipeline's own threads, in order per kind: a window re-emits them
as signals, the terminal prints them. Times (``start``/``end``) are seconds of audio since the pipeline
started (the capture clock); ``latency`` is wall-clock seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Partial:
    """Text of a segment still being spoken. ``text = stable + unstable``; ``stable`` only ever grows within a
    segment (words two consecutive hypotheses agreed on); ``unstable`` may still change (when both are
    non-empty, ``unstable`` begins with a space)."""

    segment_id: int
    stable: str
    unstable: str
    start: float

    @property
    def text(self) -> str:
        return self.stable + self.unstable


@dataclass(frozen=True)
class Final:
    """The final text of a segment; it replaces that segment's partial. ``text`` may be empty (noise or a
    sound too short to be speech): nothing was said, drop the partial. ``latency`` is seconds from the moment
    the end of speech was detected to this event."""

    segment_id: int
    text: str
    start: float
    end: float
    latency: float
    #: the words (whisper.words.Word, times in session seconds) when word timestamps are on; else empty
    words: tuple = ()
    #: the segment's audio (16 kHz float32, from ``start``) when word timestamps are on, for click-to-listen
    audio: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Level:
    """Input level of the latest ~50 ms (about 20 per second): RMS of the 16 kHz samples and dBFS."""

    rms: float
    db: float


@dataclass(frozen=True)
class Backlog:
    """Seconds of captured audio not yet transcribed (speech waiting for the worker)."""

    seconds: float


@dataclass(frozen=True)
class BackendInfo:
    """What computes the transcription (``engine.backend.label``); sent at start and whenever it changes."""

    label: str


@dataclass(frozen=True)
class Error:
    """One sentence for people. ``fatal``: capture has ended (the pipeline still transcribes what it has and
    then sends :class:`Stopped`)."""

    message: str
    fatal: bool


@dataclass(frozen=True)
class Notice:
    """One sentence for people that is not a failure (e.g. the microphone delivers audio again)."""

    message: str


@dataclass(frozen=True)
class Stopped:
    """The last event: everything captured has been transcribed and its :class:`Final` sent."""


Event = Partial | Final | Level | Backlog | BackendInfo | Error | Notice | Stopped

__all__ = ["Partial", "Final", "Level", "Backlog", "BackendInfo", "Error", "Notice", "Stopped", "Event"]
