"""The dictation controller: its state, start/stop/quit sequencing, and the live pipeline's events as signals.

The pipeline starts and stops on Task threads (opening a microphone or finishing a transcription can take
seconds); its events arrive from its own threads and are re-emitted on the GUI thread through a queued signal.
Nothing here waits: a stop requested while the pipeline is still starting is carried out when it is up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Signal

from .. import live
from ..live.events import BackendInfo, Backlog, Error, Final, Level, Notice, Partial, Stopped
from .engines import EngineKeeper
from .threads import run_task

logger = logging.getLogger(__name__)


class DictationState(Enum):
    IDLE = "idle"
    STARTING = "starting"  # the pipeline is being started (the microphone opens)
    LISTENING = "listening"
    FINISHING = "finishing"  # stopping: what was captured is still being transcribed

    @property
    def active(self) -> bool:
        """Starting or listening: the microphone is (about to be) on."""
        return self in (DictationState.STARTING, DictationState.LISTENING)


#: make_pipeline(engine_or_callable, options, on_event) -> a pipeline with start() and stop() (called on Task
#: threads); the default is :class:`~amanuensis_desktop.live.LivePipeline` over the microphone.
PipelineFactory = Callable[[Any, Any, Callable[[Any], None]], Any]


def _live_pipeline(engine: Any, options: Any, on_event: Callable[[Any], None]) -> Any:
    return live.LivePipeline(engine, options, on_event=on_event)


class _Run:
    """One dictation: its pipeline once started; the key under which it holds its engine in the keeper."""

    def __init__(self, push_to_talk: bool = False) -> None:
        self.pipeline: Any = None
        self.over = False  # forgotten: an engine resolved later must not be held any more
        self.push_to_talk = push_to_talk  # the pipeline runs with LiveOptions.push_to_talk
        self.released = False  # push-to-talk: the key is up (also when released while the pipeline still starts)


class DictationController(QObject):
    state_changed = Signal(object)  # DictationState
    live_event = Signal(object)  # every pipeline event, delivered on the GUI thread (connected to route())
    partial = Signal(str, str)  # stable, unstable
    final = Signal(str, float, float, float)  # text, start, end (seconds since this dictation started), latency
    final_words = Signal(object)  # the next final's (words, audio): whisper Words and its audio, or ((), None)
    level = Signal(float)  # dBFS
    backlog = Signal(float)  # seconds not yet transcribed
    backend = Signal(str)  # what really computes
    error = Signal(str)  # one sentence
    notice = Signal(str)  # one sentence that is not a failure (the microphone is back)
    stopped = Signal()  # a dictation ended (stopped by the user, by quitting, or by itself)
    settled = Signal()  # nothing starts or stops any more

    def __init__(
        self, keeper: EngineKeeper, make_pipeline: PipelineFactory | None = None, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.keeper = keeper
        self._make_pipeline = make_pipeline or _live_pipeline
        self._state = DictationState.IDLE
        self._run: _Run | None = None  # the current dictation (listening or finishing)
        self._tasks = 0  # start tasks and background stops under way
        self._stop_when_started = False  # shut down while STARTING: stop the pipeline as soon as it is up
        self._shutting_down = False
        self._starting: _Run | None = None  # the dictation whose pipeline is being started
        self.live_event.connect(self.route)

    @property
    def state(self) -> DictationState:
        return self._state

    @property
    def push_to_talk(self) -> bool:
        """The current dictation (starting or listening) runs in push-to-talk mode."""
        run = self._run if self._state is DictationState.LISTENING else self._starting
        return self._state.active and run is not None and run.push_to_talk

    @property
    def busy(self) -> bool:
        """A dictation runs, or a pipeline is still starting or stopping."""
        return self._state is not DictationState.IDLE or self._run is not None or self._tasks > 0

    # -------------------------------------------------------------------------------------------- control
    def start(self, options: Any) -> bool:
        """Start dictating with ``options`` (LiveOptions). False (with ``error`` emitted when there is a
        reason to tell) if it cannot start now."""
        if self._state is not DictationState.IDLE or self._shutting_down:
            return False
        if self.keeper.failed:
            self.error.emit(self.keeper.error)
            return False
        self._set_state(DictationState.STARTING)
        run = _Run(bool(getattr(options, "push_to_talk", False)))
        self._starting = run
        engine = self.keeper.engine

        def engine_when_loaded() -> Any:  # still loading: the pipeline records while the engine finishes loading
            return self._engine_when_loaded(run)

        if engine is not None:
            self.keeper.hold(run, engine)
        source = engine if engine is not None else engine_when_loaded
        emit = self.live_event.emit

        def start() -> Any:
            pipeline = self._make_pipeline(source, options, emit)
            pipeline.start()
            return pipeline

        self._tasks += 1
        run_task(start, lambda pipeline: self._started(run, pipeline), lambda message: self._start_failed(run, message))
        return True

    def stop(self) -> None:
        """Stop dictating; what was captured is still transcribed (FINISHING) before IDLE."""
        if self._state is DictationState.STARTING:
            self._set_state(DictationState.IDLE)  # _started stops it when it arrives
            return
        if self._state is not DictationState.LISTENING or self._run is None:
            return
        pipeline = self._run.pipeline
        self._set_state(DictationState.FINISHING)
        run_task(pipeline.stop, lambda _result: self._ended(), self._stop_failed)

    def begin_utterance(self) -> None:
        """Push-to-talk press on a running push-to-talk dictation: speech opens segments again."""
        self._push_to_talk(released=False)

    def end_utterance(self) -> None:
        """Push-to-talk release: the utterance ends now (no hang-over; its final follows as soon as it is
        decoded). The microphone stays open, so the next press is heard from its first word. A release while
        the pipeline still starts is applied as soon as it is up."""
        self._push_to_talk(released=True)

    def _push_to_talk(self, released: bool) -> None:
        run = self._run if self._state is DictationState.LISTENING else self._starting
        if run is None or not run.push_to_talk:
            return
        run.released = released
        if run.pipeline is not None:
            (run.pipeline.end_utterance if released else run.pipeline.begin_utterance)()

    def toggle(self, options: Callable[[], Any]) -> None:
        """Start (with ``options()``) when idle, stop when starting or listening."""
        if self._state is DictationState.IDLE:
            self.start(options())
        elif self._state.active:
            self.stop()

    def shutdown(self) -> None:
        """Quitting: stop what runs (transcribing what was captured) and start nothing new. ``settled`` is
        emitted once nothing starts or stops any more (at once if nothing does)."""
        self._shutting_down = True
        if self._state is DictationState.STARTING:
            self._stop_when_started = True  # _started stops it (_start_failed ends it)
        elif self._state is DictationState.LISTENING:
            self.stop()
        self._check_settled()

    # --------------------------------------------------------------------------------------------- events
    def route(self, ev: Any) -> None:
        """One pipeline event (on the GUI thread) to the signal that carries it."""
        match ev:
            case Partial():
                self.partial.emit(ev.stable, ev.unstable)
            case Final():
                self.final_words.emit((ev.words, ev.audio))
                self.final.emit(ev.text, ev.start, ev.end, ev.latency)
            case Level():
                self.level.emit(ev.db)
            case Backlog():
                self.backlog.emit(ev.seconds)
            case BackendInfo():
                self.backend.emit(ev.label)
            case Error():
                self.error.emit(ev.message)
            case Notice():
                self.notice.emit(ev.message)
            case Stopped():
                if self._state.active:  # stopped by itself (device gone, end of a file, fatal error)
                    self._ended()
            case _:
                logger.warning("ignoring an unknown live event %s", type(ev).__name__)  # its repr may hold text

    # -------------------------------------------------------------------------------------------- private
    def _engine_when_loaded(self, run: _Run) -> Any:
        engine = self.keeper.wait()  # on the pipeline's worker thread
        if not run.over:
            self.keeper.hold(run, engine)
        return engine

    def _started(self, run: _Run, pipeline: Any) -> None:
        self._tasks -= 1
        run.pipeline = pipeline
        if self._starting is run:
            self._starting = None
        if self._state is not DictationState.STARTING:  # stopped while starting: stop it in the background
            self._tasks += 1

            def done(_result: object = None) -> None:
                self._tasks -= 1
                self._forget(run)
                self._check_settled()

            run_task(pipeline.stop, done, done)
            return
        self._run = run
        if run.push_to_talk and run.released:  # the key went up while the microphone opened
            pipeline.end_utterance()
        self._set_state(DictationState.LISTENING)
        if self._stop_when_started:  # quitting: what was captured is transcribed, then the app quits
            self._stop_when_started = False
            self.stop()

    def _start_failed(self, run: _Run, message: str) -> None:
        self._tasks -= 1
        if self._starting is run:
            self._starting = None
        self._stop_when_started = False
        self.error.emit(message)
        self._set_state(DictationState.IDLE)
        self._forget(run)
        self._check_settled()

    def _stop_failed(self, message: str) -> None:
        self.error.emit(message)
        self._ended()

    def _ended(self) -> None:
        run, self._run = self._run, None
        if self._state is not DictationState.IDLE:
            self._set_state(DictationState.IDLE)
        self.stopped.emit()
        if run is not None:
            self._forget(run)
        self._check_settled()

    def _forget(self, run: _Run) -> None:
        run.over = True
        self.keeper.release(run)

    def _check_settled(self) -> None:
        if self._shutting_down and not self.busy:
            self.settled.emit()

    def _set_state(self, state: DictationState) -> None:
        self._state = state
        self.state_changed.emit(state)
