"""The worker thread: transcribes segments strictly in order.

A closed segment always goes first (its final); otherwise, while the open segment grows by new speech, it is
re-decoded greedily (temperature 0, no fallback) every ``partial_interval_s`` — stretched to 1.5x the last
partial's cost on slow backends so the worker never saturates — and words are confirmed by local agreement.
Finals use the full temperature fallback (or ``final_beam_size``). Speculative final: once ``tail_s`` of
silence follows the last voiced frame, the segment's final audio is known unless speech resumes, so the worker
decodes the final during the hang-over; when the segment closes on exactly that audio the result is emitted at
once (else it is decoded again).

A partial never delays a final: a partial decode is abandoned between decoder steps (the engine's ``cancel``)
as soon as its segment closes or its speculative final is due, and a speculation is abandoned once speech
resumes after it (its audio can then no longer be the final's). Partials encode only their audio plus
``partial_pad_s`` of padding instead of a padded 30 s window (``LiveOptions``; see docs/decisions/live.md).
Every final's timeline (end detected, decode start, encoder time, emitted) is logged and kept in the
pipeline's ``stats["timeline"]`` (the last ``TIMELINE_KEEP`` finals).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UserError, one_sentence
from ..whisper.audio import SAMPLE_RATE
from ..whisper.decoding import Cancelled
from ..whisper.speech_only import GATED_NO_SPEECH_THRESHOLD
from .events import BackendInfo, Error, Final, Partial
from .prompting import Prompter
from .segments import Segment, SegmentBoard, Speculation
from .vad import CloseReason

if TYPE_CHECKING:
    from .endpoint import Endpointer
    from .pipeline import LiveOptions

logger = logging.getLogger(__name__)

SR = SAMPLE_RATE
TIMELINE_KEEP = 50  # finals whose timeline stats["timeline"] keeps


def session_words(result: Any, offset: float) -> tuple:
    """The words of a segment's transcript, their times moved from the segment's start to the session's."""
    return tuple(
        replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
        for seg in getattr(result, "segments", ())
        for w in getattr(seg, "words", ())
    )


class Stale(threading.Event):
    """A decode's cancel event that is also set by itself once ``stale()`` is true: the engine checks it between
    decoder steps, so a decode whose result can no longer be used stops within a few steps."""

    def __init__(self, stale: Callable[[], bool]) -> None:
        super().__init__()
        self._stale = stale

    def is_set(self) -> bool:
        return super().is_set() or self._stale()


class Job(Enum):
    FINAL = "final"
    SPECULATE = "speculate"
    PARTIAL = "partial"


class Worker:
    """Runs on its own thread (:meth:`run`). ``engine`` is an Engine or a zero-argument callable returning one
    (loaded here, while the source already records). ``tail`` is the segmenter's tail in samples."""

    def __init__(
        self,
        engine: Any,
        options: LiveOptions,
        board: SegmentBoard,
        tail: int,
        emit: Callable[[Any], None],
        stats: dict[str, Any],
        close_source: Callable[[], None],
        publish_backlog: Callable[[], None],
        endpointer: Endpointer | None = None,
    ) -> None:
        self.engine, self.options, self.board, self.tail = engine, options, board, tail
        self.endpointer = endpointer  # told every speculative final (end-pointing: endpoint.py)
        self.emit, self.stats, self.close_source, self.publish_backlog = emit, stats, close_source, publish_backlog
        self.prompter = Prompter(options.use_prompt, options.prompt_max_gap_s, options.prompt_max_chars)
        self.label = ""

    def check_backend(self) -> None:
        """Send :class:`BackendInfo` when what computes the transcription changed (or first became known)."""
        label = getattr(getattr(self.engine, "backend", None), "label", "") or ""
        if label != self.label:
            self.label = label
            self.emit(BackendInfo(label))

    def run(self) -> bool:
        """Transcribe until input has ended and every segment is final; False when the engine did not load."""
        if not hasattr(self.engine, "transcribe") and callable(self.engine):
            try:
                self.engine = self.engine()
            except UserError as exc:
                self.emit(Error(one_sentence(exc), True))
                self.close_source()
                with self.board.cond:
                    while not self.board.input_done:
                        self.board.cond.wait(0.5)
                return False
        self.check_backend()
        partial_cost = 0.0
        while True:
            job = self._next_job(partial_cost)
            if job is None:
                break
            kind, seg, n = job
            if kind is Job.FINAL:
                self._final(seg)
            elif kind is Job.SPECULATE:
                self._speculate(seg, n)
            else:
                t0 = time.monotonic()
                self._partial(seg, n)
                partial_cost = time.monotonic() - t0
            self.check_backend()
            self.publish_backlog()
        return True

    def _next_job(self, partial_cost: float) -> tuple[Job, Segment, int] | None:
        o, v = self.options, self.options.vad
        interval = max(o.partial_interval_s, 1.5 * partial_cost)
        board = self.board
        with board.cond:
            while True:
                wait = 0.5
                now = time.monotonic()
                if board.segments:
                    seg = board.segments[0]
                    if not seg.closed and board.input_done:
                        # No more input will come (the listener died without flushing the segmenter): the
                        # open segment ends with what it has, or the worker would wait for it forever.
                        seg.close(
                            seg.start + seg.n, now, seg.voiced, seg.voiced < v.min_speech_s * SR, CloseReason.FLUSH
                        )
                    if seg.closed:
                        return Job.FINAL, seg, seg.n
                    if not seg.confirmed:  # not speech (yet): Whisper never runs on it
                        board.cond.wait(wait)
                        continue
                    spec_n = self._speculation_due(seg)
                    if spec_n is not None:
                        return Job.SPECULATE, seg, spec_n
                    if (
                        o.partials
                        and seg.voiced >= o.first_partial_speech_s * SR
                        and seg.last_voiced - seg.start > seg.decoded_n  # new speech since the last decode
                        and seg.n - seg.decoded_n >= min(o.partial_interval_s, 0.3) * SR
                        # the speculation is due within half the tail: a partial started now would be abandoned
                        and (not o.speculate or seg.n - (seg.last_voiced - seg.start) < self.tail // 2)
                    ):
                        due = seg.last_partial_t + interval
                        if now >= due:
                            return Job.PARTIAL, seg, seg.n
                        wait = due - now
                elif board.input_done:
                    return None
                board.cond.wait(wait)

    def _speculation_due(self, seg: Segment) -> int | None:
        """The audio length to decode the speculative final on, when one is due now (else None). The tail after
        the last voiced frame is complete: if no speech follows, the segment will close on exactly this audio,
        so its final is decoded now (used only when it matches)."""
        o = self.options
        spec_n = seg.last_voiced - seg.start + self.tail
        if seg.n >= spec_n and seg.spec_n != spec_n and seg.voiced >= o.vad.min_speech_s * SR and o.speculate:
            return spec_n
        return None

    def _decode(
        self, seg: Segment, audio: np.ndarray, final: bool, cancel: threading.Event | None = None
    ) -> tuple[Any, bool]:
        """(result, whether it was decoded with a prompt). ``cancel``: raises Cancelled once set."""
        prompt = self.prompter.prompt_for(seg, audio)
        o = self.options
        kw: dict[str, Any] = {"beam_size": o.final_beam_size} if final else {"temperature": 0.0}
        pad = o.final_pad_s if final else o.partial_pad_s
        if pad is not None:
            kw["encoder_pad_s"] = pad
        if cancel is not None:
            kw["cancel"] = cancel
        if final and self.options.word_timestamps:
            kw["word_timestamps"] = True
        if self.options.language and self.options.language != "auto":
            kw["language"] = self.options.language
        if self.options.task != "transcribe":
            kw["task"] = self.options.task
        if self.options.gate.enabled:  # two detectors must agree: Whisper's no-speech rule is stricter
            kw["no_speech_threshold"] = GATED_NO_SPEECH_THRESHOLD
        result = self.engine.transcribe(audio, condition_on_previous_text=False, initial_prompt=prompt, **kw)
        return result, prompt is not None

    def _partial(self, seg: Segment, n: int) -> None:
        with self.board.cond:
            audio = seg.audio(n)
        t0 = time.monotonic()
        # abandoned when its segment closes or its speculative final is due: the final must not wait for it
        stale = Stale(lambda: seg.closed or self._speculation_due(seg) is not None)
        try:
            text = self._decode(seg, audio, final=False, cancel=stale)[0].text
        except Cancelled:
            self.stats["partial_decode_s"] += time.monotonic() - t0
            self.stats["partials_abandoned"] = self.stats.get("partials_abandoned", 0) + 1
            seg.last_partial_t = time.monotonic()
            return
        except Exception as exc:  # reported; the segment's final still comes
            self.stats["errors"] += 1
            self.emit(Error(one_sentence(exc, "A partial transcription failed"), False))
            text = ""
        self.stats["partial_decode_s"] += time.monotonic() - t0
        seg.decoded_n = n
        seg.last_partial_t = time.monotonic()
        shown = seg.agree.update(text)
        if seg.closed or shown == seg.shown or (seg.shown is None and not any(shown)):
            return
        seg.shown = shown
        self.stats["partials"] += 1
        self.emit(Partial(seg.id, shown[0], shown[1], round(seg.start / SR, 3)))

    def _speculate(self, seg: Segment, n: int) -> None:
        with self.board.cond:  # the listener appends to seg.chunks under this lock
            audio = seg.audio(n)
        t0 = time.monotonic()
        result, prompted = None, False
        # abandoned when speech resumes: the segment can then no longer close on exactly this audio
        stale = Stale(lambda: seg.last_voiced - seg.start + self.tail > n)
        try:
            result, prompted = self._decode(seg, audio, final=True, cancel=stale)
        except Cancelled:
            self.stats["speculative_abandoned"] = self.stats.get("speculative_abandoned", 0) + 1
            result = None
        except Exception:  # the real final will decode again and report the error
            result = None
        seg.spec = Speculation(n, result, prompted, time.monotonic() - t0, t0, time.monotonic())
        if self.endpointer is not None and result is not None:
            self.endpointer.offer(seg.id, seg.start + n, result.text)
        self.stats["speculative"] = self.stats.get("speculative", 0) + 1

    def _final(self, seg: Segment) -> None:
        text = ""
        words: tuple = ()
        with self.board.cond:
            audio = seg.audio()
        t0 = time.monotonic()
        timings: dict[str, float] = {}
        used: Speculation | None = None
        if not seg.confirmed and not seg.too_short:
            self.stats["gate_dropped"] = self.stats.get("gate_dropped", 0) + 1  # noise: never decoded
        elif not seg.too_short and audio.size:
            try:
                if seg.spec is not None and seg.spec.n == seg.n and seg.spec.result is not None:
                    used = seg.spec
                    result, prompted = seg.spec.result, seg.spec.prompted
                    self.stats["speculative_used"] = self.stats.get("speculative_used", 0) + 1
                else:
                    result, prompted = self._decode(seg, audio, final=True)
                timings = dict(getattr(result, "timings", None) or {})
                text = result.text.strip()
                words = session_words(result, seg.start / SR)
                self.prompter.after_final(seg, result, text, prompted)
            except Exception as exc:  # one sentence to the user; the next segment still gets transcribed
                self.stats["errors"] += 1
                self.emit(Error(one_sentence(exc, f"Transcribing the speech at {seg.start / SR:.1f} s failed"), False))
        self.stats["final_decode_s"] += time.monotonic() - t0
        with self.board.cond:
            seg.decoded_n = seg.n
        self.board.remove(seg)
        self.stats["finals"] += 1
        self._timeline(seg, t0, used, timings, bool(text))
        self.emit(
            Final(
                seg.id,
                text,
                round(seg.start / SR, 3),
                round((seg.start + seg.n) / SR, 3),
                round(time.monotonic() - seg.closed_at, 4),
                words,
                audio if self.options.word_timestamps else None,
            )
        )

    def _timeline(self, seg: Segment, picked: float, used: Speculation | None, timings: dict, text: bool) -> None:
        """Log and keep where a final's time went, in seconds after its end was detected (the close): when the
        worker took it (later than 0: a decode was running), when its decode started and ended (a speculation
        used as is: before the close, negative), the encoder's share, and when the final was emitted."""
        base = seg.closed_at
        now = time.monotonic()
        start, end = (used.started, used.done) if used is not None else (picked, now)
        entry = {
            "segment": seg.id,
            "audio_s": round(seg.n / SR, 2),
            "reason": str(seg.reason),
            "speculative": used is not None,
            "taken_s": round(picked - base, 3),
            "decode_start_s": round(start - base, 3),
            "encoder_s": round(float(timings.get("encode_s", 0.0)), 3),
            "decode_end_s": round(end - base, 3),
            "emitted_s": round(now - base, 3),
            "text": text,
        }
        logger.info("final timeline %s", entry)
        timeline = self.stats.setdefault("timeline", [])
        timeline.append(entry)
        del timeline[:-TIMELINE_KEEP]
