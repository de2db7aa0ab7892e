"""The listener thread: source blocks → 16 kHz mono → level and backlog events → VAD segments on the board.

The source's own thread (PortAudio callback or the file player) only puts blocks into a queue; the listener
converts them (soxr, streaming), publishes the level (~20/s) and the backlog (2/s), runs the segmenter (30 ms
frames; no model runs on silence) and applies its events to the :class:`~.segments.SegmentBoard`. At the end
of input (stop, end of a file, lost device) it flushes the resampler and the segmenter, so the open segment
closes with every captured sample.

Listening to silence, the listener wakes every ``idle_batch_s`` (0.15 s) and takes what arrived in one go:
nothing is lost (the segmenter keeps the pre-roll), an onset is noticed at most that much later, and the thread
wakes ~7 times a second instead of at every block. While a segment is open, or a request waits, every block is
handled as it comes (the end of speech and a push-to-talk release are not delayed).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..audio.convert import Converter
from ..audio.sources import AudioSource, SourceMessage, SourceQueue
from ..whisper.audio import SAMPLE_RATE
from .confirm import SpeechConfirmation
from .events import Error, Level, Notice
from .segments import SegmentBoard
from .vad import Segmenter, SegmentEvent

logger = logging.getLogger(__name__)

SR = SAMPLE_RATE
WAKE = "wake"  # a queue item that only wakes the listener (for a request)
BEGIN_UTTERANCE, END_UTTERANCE = "begin", "end"  # requests (push-to-talk press / release)
LEVELS_PER_S = 20
IDLE_BATCH_S = 0.15
RETELL_S = 15.0  # a microphone lost again within this time is not told again
OVERFLOW_MESSAGE = "The audio system dropped some input (the computer was too busy); a few words may be missing."


class Listener:
    """Runs on its own thread (:meth:`run`); ``emit`` sends events, ``publish_backlog`` the backlog (2/s),
    ``device_lost(sentence)`` reports a lost source (it closes the source, which ends the queue)."""

    def __init__(
        self,
        source: AudioSource,
        q: SourceQueue,
        segmenter: Segmenter,
        board: SegmentBoard,
        emit: Callable[[Any], None],
        publish_backlog: Callable[[], None],
        device_lost: Callable[[str], None],
        confirmation: SpeechConfirmation | None = None,
        stats: dict[str, Any] | None = None,
        idle_batch_s: float = IDLE_BATCH_S,
        reconnect_s: float = 0.0,
    ) -> None:
        self.source, self.q, self.segmenter, self.board = source, q, segmenter, board
        self.idle_batch_s = idle_batch_s
        self.reconnect_s = reconnect_s  # > 0: a lost microphone is waited for (tried this often), not the end
        self._lost_since: float | None = None  # the microphone was lost then and has not delivered audio since
        self._told_at = -RETELL_S  # when the user was last told of a loss
        self._wake = threading.Event()  # a request (or the end) cuts an idle wait short
        self._held: tuple[str, Any] | None = None  # an item taken after a batch of audio: the next one
        self.confirmation = confirmation  # the neural speech gate (None: off)
        self.stats = stats if stats is not None else {}
        self.emit, self.publish_backlog, self.device_lost = emit, publish_backlog, device_lost
        self.converter = Converter(source.sample_rate, source.channels)
        self.ready = threading.Event()  # the first audio block has arrived
        self.captured = 0  # 16 kHz samples seen
        self.block_s = 0.01  # duration of the latest source block
        self._requests: queue.SimpleQueue[str] = queue.SimpleQueue()  # request_begin/end, run on this thread

    def run(self) -> None:
        if self.confirmation is not None:
            self.confirmation.prepare()  # before the first block: the microphone's queue holds what arrives meanwhile
        level_block = SR // LEVELS_PER_S
        level_buf: list[np.ndarray] = []
        level_n = 0
        next_backlog = next_check = time.monotonic()
        overflow_told = False
        last_batch = next_resume = time.monotonic()
        while True:
            if self.idle_batch_s > 0 and self.segmenter.idle and self._requests.empty():
                wait_s = last_batch + self.idle_batch_s - time.monotonic()
                if wait_s > 0 and self._wake.wait(wait_s):
                    self._wake.clear()
            kind, data = self._take()
            last_batch = time.monotonic()
            if kind == SourceMessage.AUDIO:
                self.ready.set()
                x = self.converter.push(data)
                if x.size:
                    level_buf.append(x)
                    level_n += x.size
                    levels = []
                    while level_n >= level_block:
                        buf = np.concatenate(level_buf)
                        blk, rest = buf[:level_block], buf[level_block:]
                        levels.append(float(np.sqrt(np.mean(blk.astype(np.float64) ** 2))))
                        level_buf, level_n = ([rest] if rest.size else []), rest.size
                    if levels and self.segmenter.idle:  # an idle batch: its loudest level only (fewer UI wake-ups)
                        levels = [max(levels)]
                    for rms in levels:
                        self.emit(Level(rms, 20.0 * math.log10(max(rms, 1e-5))))
                    self._feed(x)
            elif kind == SourceMessage.END:
                break
            elif kind == SourceMessage.ERROR:
                if not self._suspend(str(data)):
                    self.device_lost(str(data))
                    break
            while not self._requests.empty():  # every block queued before a request is in by now
                if self._requests.get_nowait() == END_UTTERANCE:
                    self._apply(self.segmenter.end_now(release=True))
                else:
                    self.segmenter.press()
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.1
                if getattr(self.source, "overflows", 0) and not overflow_told:
                    overflow_told = True
                    self.emit(Error(OVERFLOW_MESSAGE, False))
                problem = self.source.check()
                if problem and not self._suspend(problem):
                    self.device_lost(problem)
                    break
                if self._lost_since is not None and now >= next_resume:
                    next_resume = now + self.reconnect_s
                    self._try_resume()
            if now >= next_backlog:
                next_backlog = now + 0.5
                self.publish_backlog()
        self._flush()

    def _suspend(self, problem: str) -> bool:
        """The microphone was lost: with ``reconnect_s``, the open segment closes with every sample captured
        (its final follows: nothing said is lost), the user is told once, and dictation goes on when the device
        delivers audio again (:meth:`_try_resume`). False: no reconnecting here (the loss ends the capture)."""
        if self.reconnect_s <= 0 or not hasattr(self.source, "resume"):
            return False
        if self._lost_since is None:
            self._lost_since = time.monotonic()
            self._feed(self.converter.flush())
            self._apply(self.segmenter.flush())
            self.converter = Converter(self.source.sample_rate, self.source.channels)
            self.stats["device_lost"] = self.stats.get("device_lost", 0) + 1
            # PulseAudio moves the stream to another source after ~2 s and back when the microphone returns,
            # which stalls it once more: one sentence per episode, not one per stall
            if self._lost_since - self._told_at > RETELL_S:
                self._told_at = self._lost_since
                sentence = problem.rstrip(".")
                self.emit(Error(f"{sentence}; the words so far are kept and dictation goes on when it is back.", False))
        return True

    def _try_resume(self) -> None:
        resume = getattr(self.source, "resume", None)
        if resume is None or not resume():
            return
        lost_s = time.monotonic() - (self._lost_since or time.monotonic())
        self._lost_since = None
        self.converter = Converter(self.source.sample_rate, self.source.channels)  # a reopened stream's rate
        self.stats["device_resumed"] = self.stats.get("device_resumed", 0) + 1
        logger.info("the microphone delivers audio again after %.1f s", lost_s)
        self.emit(Notice(f"The microphone '{self.source.label}' delivers audio again; dictation goes on."))

    def _take(self) -> tuple[str | None, Any]:
        """The next item: every audio block queued by now joined into one (a batch), else an END/ERROR/WAKE."""
        if self._held is not None:
            (kind, data), self._held = self._held, None
        else:
            try:
                kind, data = self.q.get(timeout=0.05)
            except queue.Empty:
                return None, None
        if kind != SourceMessage.AUDIO:
            return kind, data
        blocks = [data]
        while True:
            try:
                k, d = self.q.get_nowait()
            except queue.Empty:
                break
            if k != SourceMessage.AUDIO:  # the next item, after this batch
                self._held = (k, d)
                break
            blocks.append(d)
        self.block_s = data.shape[0] / max(1.0, self.source.sample_rate)
        return SourceMessage.AUDIO, blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def request_end(self) -> None:
        """End the utterance now (push-to-talk release), after the audio already queued; from any thread."""
        self._requests.put(END_UTTERANCE)
        self.q.put((WAKE, None))
        self._wake.set()

    def request_begin(self) -> None:
        """Push-to-talk press: speech opens segments again; from any thread."""
        self._requests.put(BEGIN_UTTERANCE)
        self.q.put((WAKE, None))
        self._wake.set()

    def wake(self) -> None:
        """Cut an idle wait short (the source was closed: its END is queued)."""
        self._wake.set()

    def _flush(self) -> None:
        """What PortAudio, soxr and the segmenter still hold becomes part of the last segment."""
        while True:
            try:
                kind, data = self.q.get_nowait()
            except queue.Empty:
                break
            if kind == SourceMessage.AUDIO:
                self._feed(self.converter.push(data))
        self._feed(self.converter.flush())
        self._apply(self.segmenter.flush())
        self.board.end_input()

    def _feed(self, x: np.ndarray) -> None:
        if x.size:
            self.captured += x.size
            self._apply(self.segmenter.push(x))

    def _apply(self, events: list[SegmentEvent]) -> None:
        gate = self.confirmation
        if gate is None:
            self.board.apply(events)
            return
        gate.feed(events)  # scores the segments' audio as it arrives (~0.45 ms per 32 ms), outside the lock
        newly = self.board.apply(events, gate.confirmed)
        if newly:
            self.stats["gate_confirmed"] = self.stats.get("gate_confirmed", 0) + newly
