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

from dataclasses import dataclass

import numpy as np

from ..audio.speech_gate import CHUNK_S, SpeechGate

DEFAULT_THRESHOLD = 0.5
DEFAULT_CONFIRM_S = 0.2


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

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, confirm_s: float = DEFAULT_CONFIRM_S,
                 gate: SpeechGate | None = None):
        if not 0.0 < threshold < 1.0:
            raise ValueError("the speech threshold must be between 0 and 1")
        self.threshold = float(threshold)
        self.confirm_s = float(confirm_s)
        self.gate = gate or SpeechGate()
        self.verdicts: dict[int, Verdict] = {}
        self._current: Verdict | None = None
        self._split = False  # the last close was a split: the next open continues the same speech

    def confirmed(self, segment_id: int) -> bool:
        v = self.verdicts.get(segment_id)
        return bool(v and v.confirmed)

    def feed(self, events) -> list[int]:
        """Score the audio of ``events`` (SegmentEvent items); returns the ids confirmed by them."""
        newly: list[int] = []
        for e in events:
            if e.kind == "open":
                inherited = self._split and self._current is not None and self._current.confirmed
                if not self._split:
                    self.gate.reset()
                self._current = Verdict(e.segment_id, confirmed=inherited, confirmed_after_s=0.0 if inherited
                                        else None)
                self.verdicts[e.segment_id] = self._current
                self._score(e.audio, newly)
            elif e.kind == "audio" and self._current is not None and self._current.segment_id == e.segment_id:
                self._score(e.audio, newly)
            elif e.kind == "close":
                self._split = e.reason == "split"
        return newly

    def forget(self, segment_id: int) -> None:
        """Drop a finished segment's verdict (the pipeline calls it after the segment's final)."""
        self.verdicts.pop(segment_id, None)

    def _score(self, audio: np.ndarray, newly: list[int]) -> None:
        v = self._current
        if v is None or audio.size == 0:
            return
        probs = self.gate.push(audio)
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
