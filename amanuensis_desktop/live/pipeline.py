"""The live dictation pipeline: capture → VAD segments → worker (partials, finals) → events.

A façade over three threads and their shared state: the source's own thread only queues blocks; the
:class:`~.listener.Listener` turns them into level events and VAD segments on a :class:`~.segments.SegmentBoard`;
the :class:`~.worker.Worker` transcribes those segments in order (partials, speculative and real finals; the
prompting rule is in :mod:`.prompting`).

``stop()`` closes the source, lets the listener flush the resampler and the segmenter (the open segment closes
with every captured sample) and waits for the worker to transcribe all of it; then ``Stopped``. A device lost
mid-stream closes the open segment (its final follows), is told as a non-fatal :class:`~.events.Error`, and
dictation goes on when the device delivers audio again (:class:`~.events.Notice`); with ``reconnect_s=0`` (or
a source that cannot come back) it is a fatal Error followed by the same flush as ``stop()``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field, replace
from enum import Enum
from typing import Any

from ..audio.sources import AudioSource, MicrophoneSource, SourceMessage, SourceQueue
from ..errors import one_sentence
from ..whisper.audio import SAMPLE_RATE
from .confirm import GateOptions, SpeechConfirmation
from .endpoint import Endpointer, EndpointOptions
from .events import Backlog, Error, Stopped
from .listener import Listener
from .segments import SegmentBoard
from .vad import FRAME, FRAME_MS, Segmenter, SpeechDetector, VadOptions
from .worker import Worker

logger = logging.getLogger(__name__)

SR = SAMPLE_RATE
MAX_SEGMENT_LIMIT_S = 28.0  # a segment must fit one 30 s Whisper window


@dataclass(frozen=True)
class LiveOptions:
    device: str | int | None = None  # name (exact or substring), index, or None for the default input
    vad: VadOptions = field(default_factory=VadOptions)  # segmentation (aggressiveness, hang-over, ...)
    vad_aggressiveness: InitVar[int | None] = None  # shortcut: sets vad.aggressiveness
    partial_interval_s: float = 0.6  # re-decode cadence of the growing segment
    use_prompt: bool = True  # previous final as prompt when the speech continues its sentence (prompting.py)
    partials: bool = True
    first_partial_speech_s: float = 0.4  # voiced speech needed before the first partial
    stall_timeout_s: float = 1.0  # no audio from the device for this long = device lost
    reconnect_s: float = 1.0  # a lost microphone is waited for (reopened this often), dictation goes on; 0: it ends
    prompt_max_chars: int = 200
    prompt_max_gap_s: float = 3.0  # a previous final that ended longer ago is not used as prompt
    final_beam_size: int | None = None  # beam search for finals (None: greedy + temperature fallback, as files)
    speculate: bool = True  # decode the final during the hang-over (kept when no speech follows)
    word_timestamps: bool = False  # finals carry their words, timed (session seconds) and weighed
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)  # a sentence's end shortens the hang-over
    push_to_talk: bool = False  # silence never ends a segment: end_utterance() (release) does; begin_utterance()
    language: str | None = None  # a code ("en", "de"...); None: detected (multilingual models)
    task: str = "transcribe"  # or "translate" (into English)
    gate: GateOptions = field(default_factory=GateOptions)  # the neural detector confirms segments (confirm.py)
    # The encoder sees a segment's audio plus this much padding instead of a padded 30 s window (None: 30 s, as
    # Whisper was trained): a 5 s segment encodes in ~0.08 s instead of ~0.35 s here; a short window that loops
    # or fails Whisper's fallback rule is decoded again on the 30 s one. Partials use it; finals do not by default:
    # on the shared clips it lost one word (1.33 -> 2.67 % WER clean) for final latency 1.1-1.2 -> 0.8 s hands-free
    # and 0.8 -> 0.45-0.5 s push-to-talk (docs/decisions/live.md). final_pad_s=4.0 opts in.
    partial_pad_s: float | None = 4.0
    final_pad_s: float | None = None
    detector: SpeechDetector | None = field(default=None, repr=False, compare=False)  # None = webrtcvad (tests: fakes)

    def __post_init__(self, vad_aggressiveness: int | None) -> None:
        if vad_aggressiveness is not None:
            object.__setattr__(self, "vad", replace(self.vad, aggressiveness=int(vad_aggressiveness)))


class PipelineState(Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"  # Stopped was sent


class LivePipeline:
    """Live dictation over a microphone (``source=None``) or a :class:`~amanuensis_desktop.audio.sources.FileSource`.

    ``engine`` is an :class:`~amanuensis_desktop.engine.Engine`, or a zero-argument callable returning one
    (it is then loaded on the worker thread while the microphone already records, so nothing said during
    start-up is lost). ``on_event`` is called from the pipeline's threads.
    """

    def __init__(
        self,
        engine: Any,
        options: LiveOptions | None = None,
        on_event: Callable[[Any], None] | None = None,
        source: AudioSource | None = None,
    ) -> None:
        self.options = options or LiveOptions()
        if self.options.vad.max_segment_s > MAX_SEGMENT_LIMIT_S:
            raise ValueError("max_segment_s must fit one 30 s window (at most 28 s)")
        self._engine = engine
        self.on_event = on_event
        self.source = source
        self._q: SourceQueue = queue.SimpleQueue()
        self._board = SegmentBoard()
        self._state = PipelineState.NEW
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._worker: Worker | None = None
        self.stats: dict[str, Any] = {
            "partials": 0,
            "finals": 0,
            "partial_decode_s": 0.0,
            "final_decode_s": 0.0,
            "max_backlog_s": 0.0,
            "errors": 0,
        }

    # -- public API -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._state is PipelineState.RUNNING

    @property
    def backlog_seconds(self) -> float:
        pending = self._board.pending_samples()
        raw = 0.0
        if self.running and self._listener is not None:
            try:  # blocks the listener has not taken yet
                raw = self._q.qsize() * self._listener.block_s
            except NotImplementedError:  # pragma: no cover (macOS)
                raw = 0.0
        return pending / SR + raw

    @property
    def idle(self) -> bool:
        """No speech segment open or waiting for its final."""
        return self._board.idle

    @property
    def captured_seconds(self) -> float:
        return (self._listener.captured if self._listener else 0) / SR

    def start(self) -> None:
        """Open the source (raises :class:`UserError` with one sentence if it cannot) and start listening."""
        if self._state is not PipelineState.NEW:
            raise RuntimeError("a LivePipeline starts once; create a new one")
        o = self.options
        endpointer = Endpointer(o.endpoint, FRAME_MS / 1000) if o.endpoint.enabled and o.speculate else None
        segmenter = Segmenter(o.vad, o.detector, endpointer=endpointer, push_to_talk=o.push_to_talk)
        if endpointer is not None:
            endpointer.tail_frames = segmenter.tail
        if self.source is None:
            self.source = MicrophoneSource(o.device, stall_timeout_s=o.stall_timeout_s)
        self.source.open(self._q)  # UserError propagates: nothing started
        try:
            gate = SpeechConfirmation(o.gate.threshold, o.gate.confirm_s) if o.gate.enabled else None
            self._listener = Listener(
                self.source,
                self._q,
                segmenter,
                self._board,
                self._emit,
                self._publish_backlog,
                self._device_lost,
                confirmation=gate,
                stats=self.stats,
                reconnect_s=o.reconnect_s,
            )
        except Exception:
            self.source.close()
            raise
        self._worker = Worker(
            self._engine,
            o,
            self._board,
            segmenter.tail * FRAME,
            self._emit,
            self.stats,
            self._close_source,
            self._publish_backlog,
            endpointer=endpointer,
        )
        self._state = PipelineState.RUNNING
        if hasattr(self._engine, "transcribe"):
            self._worker.check_backend()  # BackendInfo is the first event
        self._threads = [
            threading.Thread(target=self._guard(self._listen), name="amanuensis-listener", daemon=True),
            threading.Thread(target=self._guard(self._work), name="amanuensis-worker", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def end_utterance(self) -> None:
        """The utterance is over now — push-to-talk's release (used by the hotkey helper): the open segment
        closes with everything captured so far, with no hang-over, and its final follows as soon as it is
        decoded. With ``push_to_talk`` no new segment opens until :meth:`begin_utterance` (the next press); the
        pipeline keeps capturing (the pre-roll before a press is kept). Hands-free, it only ends the current
        utterance. Any thread may call it."""
        if self._listener is not None and self.running:
            self._listener.request_end()

    def begin_utterance(self) -> None:
        """Push-to-talk press: speech opens segments again (a pipeline starts pressed). Any thread."""
        if self._listener is not None and self.running:
            self._listener.request_begin()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the first audio block has arrived (the microphone is really live)."""
        return self._listener.ready.wait(timeout) if self._listener else False

    def stop(self) -> None:
        """Stop capturing and block until every captured sample is transcribed (last Final, then Stopped)."""
        if self._state is PipelineState.NEW:
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

    # -- threads ----------------------------------------------------------------------------------------
    def _listen(self) -> None:
        assert self._listener is not None
        self._listener.run()

    def _work(self) -> None:
        assert self._worker is not None
        self._worker.run()
        self._engine = self._worker.engine
        self._finish()

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # last resort: never die silently, never hang stop()
                self.stats["errors"] += 1
                self._emit(Error(one_sentence(exc, "Live dictation failed unexpectedly"), True))
                worker = fn == self._work
                self._board.end_input(drop_segments=worker)  # a dead worker leaves nobody to transcribe them
                self._close_source()
                if worker:
                    self._finish()

        return run

    # -- helpers ----------------------------------------------------------------------------------------
    def _emit(self, event: Any) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception as exc:  # a faulty handler must not stop transcription
            logger.error("event handler failed on %s: %s", type(event).__name__, one_sentence(exc))

    def _device_lost(self, message: str) -> None:
        self.stats["errors"] += 1
        self._emit(Error(message, True))
        self._close_source()

    def _close_source(self) -> None:
        src = self.source
        if src is not None:
            try:
                src.close()
            except Exception:  # closing is best effort: the stream may already be gone with its device
                logger.debug("closing the audio source failed", exc_info=True)
        self._q.put((SourceMessage.END, None))
        if self._listener is not None:
            self._listener.wake()

    def _publish_backlog(self) -> None:
        b = self.backlog_seconds
        self.stats["max_backlog_s"] = max(self.stats["max_backlog_s"], b)
        self._emit(Backlog(round(b, 3)))

    def _finish(self) -> None:
        if self._stopped.is_set():
            return
        self._state = PipelineState.STOPPED
        self._emit(Backlog(0.0))
        self._emit(Stopped())
        self._stopped.set()
