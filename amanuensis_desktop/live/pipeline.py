"""The live dictation pipeline: capture → VAD segments → worker (partials, finals) → events.

Threads:

* the source's own thread (PortAudio callback or the file player) only puts blocks into a queue;
* the *listener* converts blocks to 16 kHz mono (soxr, streaming), publishes the level (~20/s) and the
  backlog (2/s), runs the VAD segmenter (30 ms frames; no model runs on silence) and hands segments over;
* the *worker* transcribes segments strictly in order. A closed segment always goes first (its final);
  otherwise, while the open segment grows by new speech, it re-decodes it greedily (temperature 0, no
  fallback) every ``partial_interval_s`` — stretched to 1.5x the last partial's cost on slow backends so the
  worker never saturates — and confirms words by local agreement. Finals use the full temperature fallback.
  Speculative final: once ``tail_s`` of silence follows the last voiced frame, the segment's final audio is
  known unless speech resumes, so the worker decodes the final during the hang-over; when the segment closes
  on exactly that audio the result is emitted at once (else it is decoded again).
* prompts: the previous final is passed as ``initial_prompt`` only when it was cut mid-sentence (a split at
  ``max_segment_s``, or no closing punctuation and not itself prompted), ended under ``prompt_max_gap_s``
  ago, and the new segment is not near-silent (>= 0.5 s voiced, a 100 ms block louder than -40 dBFS).
  Measured on the shared clips, prompting after finished sentences made tiny.en repeat its own mistakes.

``stop()`` closes the source, lets the listener flush the resampler and the segmenter (the open segment
closes with every captured sample) and waits for the worker to transcribe all of it; then ``Stopped``.
A device lost mid-stream is a fatal :class:`Error` followed by the same flush.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..audio.capture import Converter, MicrophoneSource
from ..errors import UserError, one_sentence
from ..whisper.audio import SAMPLE_RATE
from .agreement import LocalAgreement
from .events import Backlog, BackendInfo, Error, Final, Level, Partial, Stopped
from .vad import FRAME, Segmenter

SR = SAMPLE_RATE


@dataclass
class LiveOptions:
    device: str | int | None = None  # name (exact or substring), index, or None for the default input
    vad_aggressiveness: int = 2  # webrtcvad 0 (least) .. 3 (most aggressive at rejecting non-speech)
    pre_roll_s: float = 0.4  # audio kept before the detected onset
    hangover_s: float = 0.5  # silence that ends a segment
    short_speech_s: float = 3.0  # ... but while a segment holds less speech than this,
    short_hangover_s: float = 1.2  # the silence must last this long (short phrases keep their context)
    max_segment_s: float = 15.0  # longer speech is split at its quietest point
    min_speech_s: float = 0.25  # a segment with less voiced speech is noise: empty final, no decoding
    partial_interval_s: float = 0.6  # re-decode cadence of the growing segment
    use_prompt: bool = True  # previous final as prompt when the speech continues its sentence (see _prompt_for)
    partials: bool = True
    first_partial_speech_s: float = 0.4  # voiced speech needed before the first partial
    tail_s: float = 0.2  # silence kept after the last voiced frame
    stall_timeout_s: float = 1.0  # no audio from the device for this long = device lost
    prompt_max_chars: int = 200
    prompt_max_gap_s: float = 3.0  # a previous final that ended longer ago is not used as prompt
    final_beam_size: int | None = None  # beam search for finals (None: greedy + temperature fallback, as files)
    speculate: bool = True  # decode the final during the hang-over (kept when no speech follows)
    vad: Any = field(default=None, repr=False, compare=False)  # a webrtcvad-like detector (tests); None = webrtcvad


class _Seg:
    __slots__ = ("id", "start", "chunks", "n", "closed", "end", "closed_at", "voiced", "last_voiced",
                 "too_short", "decoded_n", "last_partial_t", "agree", "shown", "opened_at", "spec_n", "spec", "reason")

    def __init__(self, sid: int, start: int):
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
        self.opened_at = time.monotonic()
        self.spec_n = -1  # audio length the speculative final was decoded on (-1: none)
        self.spec = None  # (result, decode seconds) of the speculative final
        self.reason = ""  # why it closed: "silence", "split" (max length) or "flush" (stop / end of input)

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

    @property
    def pending(self) -> int:
        """Samples not covered by any decode yet (partials, or the speculative final)."""
        covered = max(self.decoded_n, self.spec_n if self.spec_n <= self.n else 0)
        return max(0, self.n - covered)


def _peak_rms(audio: np.ndarray, block: int = SR // 10) -> float:
    n = audio.size // block
    if n == 0:
        return float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    return float(np.sqrt(np.mean(audio[: n * block].reshape(n, block) ** 2, axis=1)).max())


class LivePipeline:
    """Live dictation over a microphone (``source=None``) or a :class:`~.sources.FileSource`.

    ``engine`` is an :class:`~amanuensis_desktop.engine.Engine`, or a zero-argument callable returning one
    (it is then loaded on the worker thread while the microphone already records, so nothing said during
    start-up is lost). ``on_event`` is called from the pipeline's threads.
    """

    def __init__(self, engine: Any, options: LiveOptions | None = None,
                 on_event: Callable[[Any], None] | None = None, source=None):
        self.options = options or LiveOptions()
        if self.options.max_segment_s > 28.0:
            raise ValueError("max_segment_s must fit one 30 s window (at most 28 s)")
        self._engine = engine
        self.on_event = on_event
        self.source = source
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._segments: list[_Seg] = []
        self._input_done = False
        self._running = False
        self._started = False
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._label = ""
        self._prompt_text = ""
        self._prompt_end = 0  # sample where the prompting final ended
        self._prompt_continues = False  # that final ended mid-sentence
        self._captured = 0  # 16 kHz samples seen by the listener
        self._block_s = 0.01
        self._ready = threading.Event()
        self.stats = {"partials": 0, "finals": 0, "partial_decode_s": 0.0, "final_decode_s": 0.0,
                      "max_backlog_s": 0.0, "errors": 0}

    # -- public API -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def backlog_seconds(self) -> float:
        with self._cond:
            pending = sum(s.pending for s in self._segments)
        try:  # blocks the listener has not taken yet
            raw = self._q.qsize() * self._block_s if self._running else 0.0
        except NotImplementedError:  # pragma: no cover (macOS)
            raw = 0.0
        return pending / SR + raw

    @property
    def idle(self) -> bool:
        """No speech segment open or waiting for its final."""
        with self._cond:
            return not self._segments

    @property
    def captured_seconds(self) -> float:
        return self._captured / SR

    def start(self) -> None:
        """Open the source (raises :class:`UserError` with one sentence if it cannot) and start listening."""
        if self._started:
            raise RuntimeError("a LivePipeline starts once; create a new one")
        o = self.options
        self._segmenter = Segmenter(o.vad_aggressiveness, o.pre_roll_s, o.hangover_s, o.max_segment_s,
                                    o.min_speech_s, tail_s=o.tail_s, vad=o.vad, short_speech_s=o.short_speech_s,
                                    short_hangover_s=o.short_hangover_s)
        self._tail = self._segmenter.tail * FRAME
        if self.source is None:
            self.source = MicrophoneSource(o.device, stall_timeout_s=o.stall_timeout_s)
        self.source.open(self._q)  # UserError propagates: nothing started
        try:
            self._converter = Converter(self.source.sample_rate, self.source.channels)
        except Exception:
            self.source.close()
            raise
        self._started = self._running = True
        if hasattr(self._engine, "transcribe"):
            self._check_backend()  # BackendInfo is the first event
        self._threads = [threading.Thread(target=self._guard(self._listen), name="amanuensis-listener", daemon=True),
                         threading.Thread(target=self._guard(self._work), name="amanuensis-worker", daemon=True)]
        for t in self._threads:
            t.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the first audio block has arrived (the microphone is really live)."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Stop capturing and block until every captured sample is transcribed (last Final, then Stopped)."""
        if not self._started:
            return
        self._close_source()
        if threading.current_thread() in self._threads:
            return  # called from an event handler: the threads finish by themselves
        for t in self._threads:
            t.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the pipeline has stopped by itself (end of a file, lost device) or was stopped."""
        ok = self._stopped.wait(timeout)
        if ok and threading.current_thread() not in self._threads:
            for t in self._threads:
                t.join()
        return ok

    # -- helpers ----------------------------------------------------------------------------------------
    def _emit(self, event) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception as exc:  # a faulty handler must not stop transcription
            print(f"amanuensis: event handler failed on {type(event).__name__}: {one_sentence(exc)}", file=sys.stderr)

    def _guard(self, fn):
        def run():
            try:
                fn()
            except Exception as exc:  # last resort: never die silently, never hang stop()
                self.stats["errors"] += 1
                self._emit(Error(one_sentence(exc, "Live dictation failed unexpectedly"), True))
                worker = fn == self._work
                with self._cond:
                    self._input_done = True
                    if worker:  # nobody is left to transcribe them
                        self._segments.clear()
                    self._cond.notify_all()
                self._close_source()
                if worker:
                    self._finish()
        return run

    def _close_source(self) -> None:
        src = self.source
        if src is not None:
            try:
                src.close()
            except Exception:
                pass
        self._q.put(("end", None))

    def _finish(self) -> None:
        if self._stopped.is_set():
            return
        self._running = False
        self._emit(Backlog(0.0))
        self._emit(Stopped())
        self._stopped.set()

    # -- listener ---------------------------------------------------------------------------------------
    def _listen(self) -> None:
        level_block = SR // 20
        level_buf: list[np.ndarray] = []
        level_n = 0
        next_backlog = time.monotonic()
        next_check = time.monotonic()
        overflow_told = False
        while True:
            try:
                kind, data = self._q.get(timeout=0.05)
            except queue.Empty:
                kind, data = None, None
            if kind == "audio":
                self._ready.set()
                self._block_s = data.shape[0] / max(1.0, self.source.sample_rate)
                x = self._converter.push(data)
                if x.size:
                    level_buf.append(x)
                    level_n += x.size
                    while level_n >= level_block:
                        buf = np.concatenate(level_buf)
                        blk, rest = buf[:level_block], buf[level_block:]
                        rms = float(np.sqrt(np.mean(blk.astype(np.float64) ** 2)))
                        self._emit(Level(rms, 20.0 * math.log10(max(rms, 1e-5))))
                        level_buf, level_n = ([rest] if rest.size else []), rest.size
                    self._feed(x)
            elif kind == "end":
                break
            elif kind == "error":
                self._device_lost(str(data))
                break
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.1
                if getattr(self.source, "overflows", 0) and not overflow_told:
                    overflow_told = True
                    self._emit(Error("The audio system dropped some input (the computer was too busy); a few "
                                     "words may be missing.", False))
                problem = self.source.check()
                if problem:
                    self._device_lost(problem)
                    break
            if now >= next_backlog:
                next_backlog = now + 0.5
                self._publish_backlog()
        # Flush: what PortAudio/soxr/the segmenter still hold becomes part of the last segment.
        while True:
            try:
                kind, data = self._q.get_nowait()
            except queue.Empty:
                break
            if kind == "audio":
                self._feed(self._converter.push(data))
        self._feed(self._converter.flush())
        self._apply(self._segmenter.flush())
        with self._cond:
            self._input_done = True
            self._cond.notify_all()

    def _device_lost(self, message: str) -> None:
        self.stats["errors"] += 1
        self._emit(Error(message, True))
        self._close_source()

    def _feed(self, x: np.ndarray) -> None:
        if x.size:
            self._captured += x.size
            self._apply(self._segmenter.push(x))

    def _apply(self, events) -> None:
        if not events:
            return
        now = time.monotonic()
        with self._cond:
            for e in events:
                if e.kind == "open":
                    seg = _Seg(e.segment_id, e.start)
                    seg.add(e.audio, e.voiced, e.last_voiced)
                    self._segments.append(seg)
                    continue
                seg = next((s for s in reversed(self._segments) if s.id == e.segment_id), None)
                if seg is None:
                    continue
                if e.kind == "audio":
                    seg.add(e.audio, e.voiced, e.last_voiced)
                elif e.kind == "close":
                    seg.closed, seg.end, seg.closed_at = True, e.end, now
                    seg.n = min(seg.n, max(0, e.end - seg.start))
                    seg.voiced, seg.too_short, seg.reason = e.voiced, e.too_short, e.reason
            self._cond.notify_all()

    def _publish_backlog(self) -> None:
        b = self.backlog_seconds
        self.stats["max_backlog_s"] = max(self.stats["max_backlog_s"], b)
        self._emit(Backlog(round(b, 3)))

    # -- worker -----------------------------------------------------------------------------------------
    def _work(self) -> None:
        engine = self._engine
        if not hasattr(engine, "transcribe") and callable(engine):
            try:
                engine = engine()
            except UserError as exc:
                self._emit(Error(one_sentence(exc), True))
                self._close_source()
                with self._cond:
                    while not self._input_done:
                        self._cond.wait(0.5)
                self._finish()
                return
            self._engine = engine
        self._check_backend()
        partial_cost = 0.0
        while True:
            job = self._next_job(partial_cost)
            if job is None:
                break
            kind, seg, n = job
            if kind == "final":
                self._final(seg)
            elif kind == "spec":
                self._speculate(seg, n)
            else:
                t0 = time.monotonic()
                self._partial(seg, n)
                partial_cost = time.monotonic() - t0
            self._check_backend()
            self._publish_backlog()
        self._finish()

    def _check_backend(self) -> None:
        label = getattr(getattr(self._engine, "backend", None), "label", "") or ""
        if label != self._label:
            self._label = label
            self._emit(BackendInfo(label))

    def _next_job(self, partial_cost: float):
        o = self.options
        interval = max(o.partial_interval_s, 1.5 * partial_cost)
        with self._cond:
            while True:
                wait = 0.5
                now = time.monotonic()
                if self._segments:
                    seg = self._segments[0]
                    if not seg.closed and self._input_done:
                        # No more input will come (the listener died without flushing the segmenter): the
                        # open segment ends with what it has, or the worker would wait for it forever.
                        seg.closed, seg.end, seg.closed_at, seg.reason = True, seg.start + seg.n, now, "flush"
                        seg.too_short = seg.voiced < o.min_speech_s * SR
                    if seg.closed:
                        return "final", seg, seg.n
                    # The tail after the last voiced frame is complete: if no speech follows, the segment will
                    # close on exactly this audio, so decode its final now (used only when it matches).
                    spec_n = seg.last_voiced - seg.start + self._tail
                    if (seg.n >= spec_n and seg.spec_n != spec_n and seg.voiced >= o.min_speech_s * SR
                            and o.speculate):
                        return "spec", seg, spec_n
                    if (o.partials and seg.voiced >= o.first_partial_speech_s * SR
                            and seg.last_voiced - seg.start > seg.decoded_n  # new speech since the last decode
                            and seg.n - seg.decoded_n >= min(o.partial_interval_s, 0.3) * SR):
                        due = seg.last_partial_t + interval
                        if now >= due:
                            return "partial", seg, seg.n
                        wait = due - now
                elif self._input_done:
                    return None
                self._cond.wait(wait)

    def _prompt_for(self, seg: _Seg, audio: np.ndarray) -> str | None:
        o = self.options
        if not (o.use_prompt and self._prompt_text):
            return None
        if seg.start - self._prompt_end > o.prompt_max_gap_s * SR:
            return None
        # Only where it helps: the previous final was cut mid-sentence (a split at max length, or a pause
        # inside a sentence). After a finished sentence a prompt mostly makes Whisper repeat its mistakes.
        if not self._prompt_continues:
            return None
        # Never over near-silence: a prompt makes Whisper continue it from noise.
        if seg.voiced < 0.5 * SR or _peak_rms(audio) < 0.01:
            return None
        text = self._prompt_text[-o.prompt_max_chars :]
        if len(text) < len(self._prompt_text) and " " in text:
            text = text[text.index(" ") + 1 :]
        return text

    def _decode(self, seg: _Seg, audio: np.ndarray, final: bool):
        prompt = self._prompt_for(seg, audio)
        kw = {"beam_size": self.options.final_beam_size} if final else {"temperature": 0.0}
        result = self._engine.transcribe(audio, condition_on_previous_text=False, initial_prompt=prompt, **kw)
        try:
            result.prompted = prompt is not None
        except AttributeError:
            pass
        return result

    def _partial(self, seg: _Seg, n: int) -> None:
        with self._cond:
            audio = seg.audio(n)
        t0 = time.monotonic()
        try:
            text = self._decode(seg, audio, final=False).text
        except Exception as exc:
            self.stats["errors"] += 1
            self._emit(Error(one_sentence(exc, "A partial transcription failed"), False))
            text = ""
        self.stats["partial_decode_s"] += time.monotonic() - t0
        seg.decoded_n = n
        seg.last_partial_t = time.monotonic()
        shown = seg.agree.update(text)
        if seg.closed or shown == seg.shown or (seg.shown is None and not any(shown)):
            return
        seg.shown = shown
        self.stats["partials"] += 1
        self._emit(Partial(seg.id, shown[0], shown[1], round(seg.start / SR, 3)))

    def _speculate(self, seg: _Seg, n: int) -> None:
        with self._cond:  # the listener appends to seg.chunks under this lock
            audio = seg.audio(n)
        t0 = time.monotonic()
        try:
            result = self._decode(seg, audio, final=True)
        except Exception:
            result = None  # the real final will decode again and report the error
        seg.spec_n, seg.spec = n, (result, time.monotonic() - t0)
        self.stats["speculative"] = self.stats.get("speculative", 0) + 1

    def _final(self, seg: _Seg) -> None:
        text = ""
        with self._cond:
            audio = seg.audio()
        t0 = time.monotonic()
        if not seg.too_short and audio.size:
            try:
                if seg.spec is not None and seg.spec_n == seg.n and seg.spec[0] is not None:
                    result = seg.spec[0]
                    self.stats["speculative_used"] = self.stats.get("speculative_used", 0) + 1
                else:
                    result = self._decode(seg, audio, final=True)
                text = result.text.strip()
                prompted = bool(getattr(result, "prompted", False))
                trusted = text and all(s.temperature <= 0.5 and s.compression_ratio <= 2.4 for s in result.segments)
                if trusted:
                    self._prompt_text, self._prompt_end = text, seg.start + seg.n
                    # A split always continues a sentence; an unpunctuated ending does too, unless that final
                    # was itself prompted (prompts pass their style on: no chains of prompts).
                    self._prompt_continues = seg.reason == "split" or (
                        not text.endswith((".", "!", "?", "…")) and not prompted)
                elif text:
                    self._prompt_text = ""
            except Exception as exc:
                self.stats["errors"] += 1
                self._emit(Error(one_sentence(exc, f"Transcribing the speech at {seg.start / SR:.1f} s failed"),
                                 False))
        self.stats["final_decode_s"] += time.monotonic() - t0
        with self._cond:
            seg.decoded_n = seg.n
            if self._segments and self._segments[0] is seg:
                self._segments.pop(0)
        self.stats["finals"] += 1
        self._emit(Final(seg.id, text, round(seg.start / SR, 3), round((seg.start + seg.n) / SR, 3),
                         round(time.monotonic() - seg.closed_at, 4)))
