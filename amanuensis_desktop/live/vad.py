"""Speech segmentation with webrtcvad on 30 ms frames of 16 kHz audio (the rules: :class:`VadOptions`).

A segment opens when ``onset_voiced`` of the last ``onset_window`` frames are voiced; it starts ``pre_roll_s``
before the first voiced frame of that window (never before the previous segment's end), so first words are not
clipped. It closes when the last ``hangover_s`` hold (almost) no voiced frame — at most one in ten, so a stray
noise frame does not keep it open. While the segment holds less than ``short_speech_s`` of voiced speech the
pause must last ``short_hangover_s``, so a short opening phrase joins what follows instead of being decoded
alone with too little context (measurement: docs/decisions/live.md). Its audio ends ``tail_s`` after the last
voiced frame. A segment reaching ``max_segment_s`` is split at its quietest 30 ms frame (smoothed RMS over
90 ms, voiced frames penalised) in its second half; the rest continues as a new segment. A closed segment
with less than ``min_speech_s`` of voiced frames is marked ``too_short``.

Pure and synchronous: ``push(audio)`` / ``flush()`` return :class:`SegmentEvent` items, in order: ``OPEN``
(with the pre-roll and onset audio), ``AUDIO`` (every later frame as it arrives), ``CLOSE`` (the segment ends
at sample ``end``: a consumer drops the audio it holds past that point — the hang-over beyond ``tail_s``, or
the part after a split point, which the next ``OPEN`` carries again). Sample positions count from the first
sample pushed. ``detector`` can be any object with ``is_speech(bytes, rate)`` (tests use fakes).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..whisper.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from .endpoint import Endpointer

FRAME_MS = 30
FRAME = SAMPLE_RATE * FRAME_MS // 1000  # 480 samples


class SpeechDetector(Protocol):
    """webrtcvad.Vad's interface: is this 10/20/30 ms frame of 16-bit PCM speech?"""

    def is_speech(self, buf: bytes, sample_rate: int) -> bool: ...


@dataclass(frozen=True)
class VadOptions:
    aggressiveness: int = 2  # webrtcvad 0 (least) .. 3 (most aggressive at rejecting non-speech)
    pre_roll_s: float = 0.4  # audio kept before the detected onset
    hangover_s: float = 0.5  # silence that ends a segment
    short_speech_s: float = 3.0  # ... but while a segment holds less speech than this,
    short_hangover_s: float = 1.2  # the silence must last this long (short phrases keep their context)
    max_segment_s: float = 15.0  # longer speech is split at its quietest point
    min_speech_s: float = 0.25  # a segment with less voiced speech is noise (too_short)
    tail_s: float = 0.2  # silence kept after the last voiced frame
    onset_voiced: int = 5  # a segment opens when this many of ...
    onset_window: int = 8  # ... the last frames are voiced (150 ms of speech within 240 ms)


class EventKind(StrEnum):
    OPEN = "open"
    AUDIO = "audio"
    CLOSE = "close"


class CloseReason(StrEnum):
    NONE = ""  # not closed
    SILENCE = "silence"  # the hang-over passed
    SPLIT = "split"  # max_segment_s reached
    FLUSH = "flush"  # end of input (stop, end of a file, lost device)
    ENDPOINT = "endpoint"  # a shorter pause after a sentence's end (endpoint.py)
    RELEASE = "release"  # the end of the utterance was given (push-to-talk release: end_now())


@dataclass
class SegmentEvent:
    kind: EventKind
    segment_id: int
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # appended samples
    start: int = 0  # open: first sample of the segment
    end: int = 0  # close: one past the last sample of the segment
    voiced: int = 0  # voiced samples in ``audio`` (open/audio) or in the whole segment (close)
    last_voiced: int = 0  # open/audio: end sample of the latest voiced frame so far
    too_short: bool = False  # close: less voiced speech than min_speech_s
    reason: CloseReason = CloseReason.NONE  # close: why


@dataclass(eq=False)
class _Frame:
    pos: int
    audio: np.ndarray
    voiced: bool
    rms: float


class Segmenter:
    """``endpointer`` (:class:`~.endpoint.Endpointer`): may end a segment after a shorter pause.
    ``push_to_talk``: silence never closes a segment; :meth:`end_now` (the key's release) does."""

    def __init__(
        self,
        options: VadOptions | None = None,
        detector: SpeechDetector | None = None,
        *,
        endpointer: Endpointer | None = None,
        push_to_talk: bool = False,
    ) -> None:
        o = options or VadOptions()
        self.endpointer = endpointer
        self.push_to_talk = push_to_talk
        self.quiet_ratio = endpointer.options.quiet_ratio if endpointer is not None else 0.0
        self._level, self._level_n = 0.0, -1  # the open segment's loud level (see _speech) and its voiced count
        self.holding = True  # push-to-talk: the key is down (press() / end_now(release=True)); else no new segment
        if detector is None:
            import webrtcvad

            if not 0 <= int(o.aggressiveness) <= 3:
                raise ValueError("VAD aggressiveness must be 0, 1, 2 or 3")
            detector = webrtcvad.Vad(int(o.aggressiveness))
        self.options = o
        self.vad: SpeechDetector = detector
        self.pre_roll = max(0, int(round(o.pre_roll_s * 1000 / FRAME_MS)))
        self.hangover = max(1, int(round(o.hangover_s * 1000 / FRAME_MS)))
        self.short_hangover = max(self.hangover, int(round(o.short_hangover_s * 1000 / FRAME_MS)))
        self.short_voiced = int(round(o.short_speech_s * 1000 / FRAME_MS))
        self._seg_voiced = 0  # voiced frames in the open segment
        self.max_frames = max(4, int(round(o.max_segment_s * 1000 / FRAME_MS)))
        self.min_voiced = int(np.ceil(o.min_speech_s * 1000 / FRAME_MS - 1e-9))
        self.tail = min(self.hangover, max(0, int(round(o.tail_s * 1000 / FRAME_MS))))
        self.onset_voiced = o.onset_voiced
        self.onset_window = max(o.onset_window, o.onset_voiced)
        self._pending = np.zeros(0, np.float32)
        self._pos = 0  # sample position of the next frame
        self._history: deque[_Frame] = deque(maxlen=self.pre_roll + self.onset_window)
        self._seg: list[_Frame] | None = None  # frames of the open segment
        self._seg_id = -1
        self._last_end = 0  # end sample of the previous segment

    # -- public -----------------------------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        """No segment is open (silence, or push-to-talk with the key up)."""
        return self._seg is None

    def push(self, audio: np.ndarray) -> list[SegmentEvent]:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._pending, audio]) if self._pending.size else audio
        n = buf.size // FRAME
        events: list[SegmentEvent] = []
        if n:
            frames = buf[: n * FRAME].reshape(n, FRAME)
            rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
            pcm = (np.clip(frames, -1.0, 1.0) * 32767.0).astype("<i2")
            grown: list[_Frame] = []
            for i in range(n):
                voiced = bool(self.vad.is_speech(pcm[i].tobytes(), SAMPLE_RATE))
                fr = _Frame(self._pos, frames[i].copy(), voiced, float(rms[i]))
                self._pos += FRAME
                self._step(fr, events, grown)
            if grown:
                events.append(self._audio_event(grown))
        self._pending = buf[n * FRAME :].copy()
        return events

    def flush(self) -> list[SegmentEvent]:
        """End of input: close the open segment with every remaining sample (no audio is dropped)."""
        events: list[SegmentEvent] = []
        rest = self._pending
        self._pending = np.zeros(0, np.float32)
        if self._seg is None and self.holding:
            voiced = sum(f.voiced for f in self._history)
            if voiced and voiced >= self.min_voiced:  # speech cut off before the onset rule fired
                frames = self._onset_frames()
                self._open(frames, events)
        if self._seg is not None:
            if rest.size:
                events.append(
                    SegmentEvent(EventKind.AUDIO, self._seg_id, audio=rest.copy(), last_voiced=self._last_voiced_end())
                )
            end = self._pos + rest.size
            self._close(self._seg, end, CloseReason.FLUSH, events)
        self._pos += rest.size
        return events

    def press(self) -> None:
        """Push-to-talk: the key is down; speech opens segments again (the pre-roll may reach before the press)."""
        self.holding = True

    def end_now(self, release: bool = False) -> list[SegmentEvent]:
        """The utterance is over (push-to-talk release): close the open segment now, with no hang-over. It ends
        ``tail_s`` after its last voiced frame when only silence followed (as after a hang-over, so a final
        speculated on that audio is used as is), else with every frame so far. Speech cut off before the onset
        rule fired becomes a segment of its own, as in :meth:`flush`. ``release`` (push-to-talk): no segment
        opens again until :meth:`press`."""
        events: list[SegmentEvent] = []
        holding = self.holding
        if release and self.push_to_talk:
            self.holding = False
        if self._seg is None:
            voiced = sum(f.voiced for f in self._history)
            if not holding or not voiced or voiced < self.min_voiced:
                return events
            self._open(self._onset_frames(), events)
        seg = self._seg
        assert seg is not None
        last = max((i for i, f in enumerate(seg) if self._speech(f)), default=-1)
        if 0 <= last and len(seg) > last + 1 + self.tail:
            self._end_on_silence(events, CloseReason.RELEASE)
        else:
            self._close(seg, self._pos, CloseReason.RELEASE, events)
        return events

    # -- internals --------------------------------------------------------------------------------------
    def _step(self, fr: _Frame, events: list[SegmentEvent], grown: list[_Frame]) -> None:
        if self._seg is None:
            self._history.append(fr)
            if not self.holding:  # push-to-talk with the key up: the history is only the next pre-roll
                return
            recent = list(self._history)[-self.onset_window :]
            if fr.voiced and sum(f.voiced for f in recent) >= self.onset_voiced:
                self._open(self._onset_frames(), events)
            return
        seg = self._seg
        seg.append(fr)
        grown.append(fr)
        self._seg_voiced += fr.voiced
        short = self._seg_voiced < self.short_voiced
        hang = self.short_hangover if short else self.hangover
        reason = CloseReason.SILENCE
        if self.push_to_talk:
            hang = self.max_frames + 1  # only the release (end_now) or the maximum length ends a segment
        elif self.endpointer is not None and not self._speech(fr):
            speech_end = self._last_voiced_end()
            early = self.endpointer.hangover(self._seg_id, speech_end + self.tail * FRAME, short)
            if early is not None and early < hang and fr.pos + FRAME - speech_end >= early * FRAME:
                events.append(self._audio_event(grown))
                grown.clear()
                self._end_on_silence(events, CloseReason.ENDPOINT)
                return
        if len(seg) > hang and not fr.voiced and sum(f.voiced for f in seg[-hang:]) <= hang // 10:
            events.append(self._audio_event(grown))
            grown.clear()
            self._end_on_silence(events, reason)
        elif len(seg) >= self.max_frames:
            events.append(self._audio_event(grown))
            grown.clear()
            self._split(events)

    def _onset_frames(self) -> list[_Frame]:
        hist = list(self._history)
        recent = hist[-self.onset_window :]
        offset = len(hist) - len(recent)
        i = offset + next((k for k, f in enumerate(recent) if f.voiced), 0)
        frames = hist[max(0, i - self.pre_roll) :]
        return [f for f in frames if f.pos >= self._last_end]

    def _open(self, frames: list[_Frame], events: list[SegmentEvent]) -> None:
        self._seg_id += 1
        self._seg = list(frames)
        self._seg_voiced = sum(f.voiced for f in frames)
        self._level_n = -1
        self._history.clear()
        audio = np.concatenate([f.audio for f in frames]) if frames else np.zeros(0, np.float32)
        events.append(
            SegmentEvent(
                EventKind.OPEN,
                self._seg_id,
                audio=audio,
                start=frames[0].pos if frames else self._pos,
                voiced=FRAME * sum(f.voiced for f in frames),
                last_voiced=self._last_voiced_end(),
            )
        )

    def _speech(self, f: _Frame) -> bool:
        """A voiced frame that counts as speech for where a segment ends: with end-pointing, voiced frames
        ``quiet_ratio`` below the segment's loud level (its 95th-percentile voiced RMS) do not — webrtcvad
        keeps marking breath and room noise after the last word as voiced (0.1-0.5 s on the shared clips)."""
        if not f.voiced or self.quiet_ratio <= 0 or not self._seg:
            return f.voiced
        if self._level_n != self._seg_voiced:
            rms = [g.rms for g in self._seg if g.voiced]
            self._level = float(np.percentile(rms, 95)) if rms else 0.0
            self._level_n = self._seg_voiced
        return f.rms >= self.quiet_ratio * self._level

    def _last_voiced_end(self) -> int:
        for f in reversed(self._seg or []):
            if self._speech(f):
                return f.pos + FRAME
        return self._seg[0].pos if self._seg else self._pos

    def _audio_event(self, frames: list[_Frame]) -> SegmentEvent:
        if not frames:
            return SegmentEvent(EventKind.AUDIO, self._seg_id, last_voiced=self._last_voiced_end())
        return SegmentEvent(
            EventKind.AUDIO,
            self._seg_id,
            audio=np.concatenate([f.audio for f in frames]),
            voiced=FRAME * sum(f.voiced for f in frames),
            last_voiced=self._last_voiced_end(),
        )

    def _end_on_silence(self, events: list[SegmentEvent], reason: CloseReason = CloseReason.SILENCE) -> None:
        """The hang-over passed: the segment ends ``tail`` frames after its last voiced frame; the frames after
        that go back to the history (pre-roll of the next segment)."""
        seg = self._seg
        assert seg is not None
        last = max((i for i, f in enumerate(seg) if self._speech(f)), default=0)
        keep = min(len(seg), last + 1 + self.tail)
        kept, rest = seg[:keep], seg[keep:]
        self._close(kept, kept[-1].pos + FRAME, reason, events)
        for f in rest[-(self._history.maxlen or 1) :]:
            self._history.append(f)

    def _close(self, frames: list[_Frame], end: int, reason: CloseReason, events: list[SegmentEvent]) -> None:
        """Close the open segment at sample ``end``: consumers drop any reported audio past it."""
        voiced = sum(f.voiced for f in frames if f.pos < end)
        events.append(
            SegmentEvent(
                EventKind.CLOSE,
                self._seg_id,
                end=end,
                voiced=voiced * FRAME,
                too_short=voiced < self.min_voiced,
                reason=reason,
            )
        )
        self._last_end = end
        self._seg = None

    def _split(self, events: list[SegmentEvent]) -> None:
        """Maximum length reached: cut at the quietest frame of the second half (smoothed RMS, voiced frames
        count four times louder); that frame and the rest open the next segment."""
        seg = self._seg
        assert seg is not None
        rms = np.array([f.rms for f in seg])
        smooth = np.convolve(rms, np.ones(3) / 3, mode="same")
        score = smooth * np.where([f.voiced for f in seg], 4.0, 1.0)
        lo = max(1, len(seg) // 2)
        cut = min(len(seg) - 1, lo + int(np.argmin(score[lo:])))
        head, rest = seg[:cut], seg[cut:]
        self._close(head, rest[0].pos, CloseReason.SPLIT, events)
        self._open(rest, events)
