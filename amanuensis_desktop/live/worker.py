"""The worker thread: transcribes segments strictly in order.

A closed segment always goes first (its final); otherwise, while the open segment grows by new speech, it is
re-decoded greedily (temperature 0, no fallback) every ``partial_interval_s`` — stretched to 1.5x the last
partial's cost on slow backends so the worker never saturates — and words are confirmed by local agreement.
Finals use the full temperature fallback (or ``final_beam_size``). Speculative final: once ``tail_s`` of
silence follows the last voiced frame, the segment's final audio is known unless speech resumes, so the worker
decodes the final during the hang-over; when the segment closes on exactly that audio the result is emitted at
once (else it is decoded again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UserError, one_sentence
from ..whisper.audio import SAMPLE_RATE
from ..whisper.speech_only import GATED_NO_SPEECH_THRESHOLD
from .events import BackendInfo, Error, Final, Partial
from .prompting import Prompter
from .segments import Segment, SegmentBoard, Speculation
from .vad import CloseReason

if TYPE_CHECKING:
    from .endpoint import Endpointer
    from .pipeline import LiveOptions

SR = SAMPLE_RATE


def session_words(result: Any, offset: float) -> tuple:
    """The words of a segment's transcript, their times moved from the segment's start to the session's."""
    return tuple(
        replace(w, start=round(w.start + offset, 3), end=round(w.end + offset, 3))
        for seg in getattr(result, "segments", ())
        for w in getattr(seg, "words", ())
    )


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
                    # The tail after the last voiced frame is complete: if no speech follows, the segment will
                    # close on exactly this audio, so decode its final now (used only when it matches).
                    spec_n = seg.last_voiced - seg.start + self.tail
                    if seg.n >= spec_n and seg.spec_n != spec_n and seg.voiced >= v.min_speech_s * SR and o.speculate:
                        return Job.SPECULATE, seg, spec_n
                    if (
                        o.partials
                        and seg.voiced >= o.first_partial_speech_s * SR
                        and seg.last_voiced - seg.start > seg.decoded_n  # new speech since the last decode
                        and seg.n - seg.decoded_n >= min(o.partial_interval_s, 0.3) * SR
                    ):
                        due = seg.last_partial_t + interval
                        if now >= due:
                            return Job.PARTIAL, seg, seg.n
                        wait = due - now
                elif board.input_done:
                    return None
                board.cond.wait(wait)

    def _decode(self, seg: Segment, audio: np.ndarray, final: bool) -> tuple[Any, bool]:
        """(result, whether it was decoded with a prompt)."""
        prompt = self.prompter.prompt_for(seg, audio)
        kw: dict[str, Any] = {"beam_size": self.options.final_beam_size} if final else {"temperature": 0.0}
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
        try:
            text = self._decode(seg, audio, final=False)[0].text
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
        try:
            result, prompted = self._decode(seg, audio, final=True)
        except Exception:  # the real final will decode again and report the error
            result = None
        seg.spec = Speculation(n, result, prompted, time.monotonic() - t0)
        if self.endpointer is not None and result is not None:
            self.endpointer.offer(seg.id, seg.start + n, result.text)
        self.stats["speculative"] = self.stats.get("speculative", 0) + 1

    def _final(self, seg: Segment) -> None:
        text = ""
        words: tuple = ()
        with self.board.cond:
            audio = seg.audio()
        t0 = time.monotonic()
        if not seg.confirmed and not seg.too_short:
            self.stats["gate_dropped"] = self.stats.get("gate_dropped", 0) + 1  # noise: never decoded
        elif not seg.too_short and audio.size:
            try:
                if seg.spec is not None and seg.spec.n == seg.n and seg.spec.result is not None:
                    result, prompted = seg.spec.result, seg.spec.prompted
                    self.stats["speculative_used"] = self.stats.get("speculative_used", 0) + 1
                else:
                    result, prompted = self._decode(seg, audio, final=True)
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
