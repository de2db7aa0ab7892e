"""The second stage of the live speech gate: the neural detector confirms webrtcvad's segments.

webrtcvad is fast and keeps the onset and the pre-roll, but household noise (running water, rain, traffic,
music) passes it, and Whisper then invents words. :class:`SpeechConfirmation` follows the segmenter's events
and scores each segment's audio — the pre-roll and onset carried by ``open``, then every ``audio`` event — with
:class:`~amanuensis_desktop.audio.speech_gate.SpeechGate` as it arrives. A segment is *confirmed* once
``confirm_s`` of its audio scored at least ``threshold``; a segment that closes unconfirmed is noise, and the
pipeline drops it without running Whisper. Confirmation only ever looks at audio already in the segment, so it
neither clips first words nor delays a final.

The detector's state restarts at each segment (the 0.4 s pre-roll warms it up), except after a split at the
maximum length, where the next segment continues the same speech and inherits the confirmation. Only segment
audio is scored: silence costs nothing. Cost: ~0.45 ms per 32 ms of segment audio on one thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..audio.speech_gate import CHUNK_S, DEFAULT_THRESHOLD, SpeechGate
from .vad import CloseReason, EventKind, SegmentEvent

# 0.2 s: of the shared noise clips only the jazz guitar ever scores over 0.5, for 0.096 s (a cough, a vocal
# sound, reaches 1.6 s and is left to Whisper's stricter no-speech rule behind the gate); every clean speech
# segment reaches 0.2 s within 0.1 s past its open (pre-roll + onset) but one (0.32-0.49 s: a softer onset),
# always before or at most 0.09 s after its first partial would be due (0.4 s of webrtcvad-voiced audio).
DEFAULT_CONFIRM_S = 0.2
KEEP_VERDICTS = 16  # verdicts of the latest segments kept (the worker asks about the oldest unfinished one)


@dataclass(frozen=True)
class GateOptions:
    """The live speech gate: ``enabled`` (else every webrtcvad segment is decoded, as before), the detector's
    probability ``threshold`` and the segment audio above it that confirms a segment (``confirm_s``)."""

    enabled: bool = True
    threshold: float = DEFAULT_THRESHOLD
    confirm_s: float = DEFAULT_CONFIRM_S


@dataclass
class Verdict:
    segment_id: int
    speech_s: float = 0.0  # segment audio scored >= threshold so far
    scored_s: float = 0.0  # segment audio scored so far
    confirmed: bool = False
    confirmed_after_s: float | None = None  # segment audio scored when it was confirmed
    max_probability: float = 0.0


class SpeechConfirmation:
    """Feed it the segmenter's events (:meth:`feed`, in order); ask :meth:`confirmed` for a segment id."""

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, confirm_s: float = DEFAULT_CONFIRM_S, gate: SpeechGate | None = None
    ):
        if not 0.0 < threshold < 1.0:
            raise ValueError("the speech threshold must be between 0 and 1")
        self.threshold = float(threshold)
        self.confirm_s = float(confirm_s)
        self.gate = gate  # built by prepare() (compiling takes ~0.4 s: on the listener thread, not in start())
        self.verdicts: dict[int, Verdict] = {}
        self._current: Verdict | None = None
        self._split = False  # the last close was a split: the next open continues the same speech

    def prepare(self) -> SpeechGate:
        """Load and compile the detector now (else on the first event)."""
        if self.gate is None:
            self.gate = SpeechGate()
        return self.gate

    def confirmed(self, segment_id: int) -> bool:
        v = self.verdicts.get(segment_id)
        return bool(v and v.confirmed)

    def feed(self, events: Iterable[SegmentEvent]) -> list[int]:
        """Score the audio of ``events`` (SegmentEvent items); returns the ids confirmed by them."""
        newly: list[int] = []
        gate = self.prepare()
        for e in events:
            if e.kind == EventKind.OPEN:
                inherited = self._split and self._current is not None and self._current.confirmed
                if not self._split:
                    gate.reset()
                self._current = Verdict(e.segment_id, confirmed=inherited, confirmed_after_s=0.0 if inherited else None)
                self.verdicts[e.segment_id] = self._current
                while len(self.verdicts) > KEEP_VERDICTS:
                    del self.verdicts[next(iter(self.verdicts))]
                self._score(e.audio, newly)
            elif e.kind == EventKind.AUDIO and self._current is not None and self._current.segment_id == e.segment_id:
                self._score(e.audio, newly)
            elif e.kind == EventKind.CLOSE:
                self._split = e.reason == CloseReason.SPLIT
        return newly

    def _score(self, audio: np.ndarray, newly: list[int]) -> None:
        v = self._current
        if v is None or audio.size == 0:
            return
        probs = self.prepare().push(audio)
        if probs.size == 0:
            return
        scored, speech = v.scored_s, v.speech_s
        above = np.cumsum(probs >= self.threshold) * CHUNK_S
        v.scored_s += probs.size * CHUNK_S
        v.max_probability = max(v.max_probability, float(probs.max()))
        v.speech_s = speech + float(above[-1])
        if not v.confirmed and v.speech_s >= self.confirm_s - 1e-9:
            k = int(np.argmax(speech + above >= self.confirm_s - 1e-9))  # the chunk that confirmed it
            v.confirmed = True
            v.confirmed_after_s = scored + (k + 1) * CHUNK_S
            newly.append(v.segment_id)
