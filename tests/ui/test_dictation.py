"""The dictation controller on its own (no window): states, start/stop/quit sequencing, event routing.

Real parts: real CPU engines, the real LivePipeline fed by a FileSource (the recording played at a set speed
instead of a microphone), real Task threads. Nothing is faked.
"""

from __future__ import annotations

import logging
import time

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from amanuensis_desktop.engine import Engine  # noqa: E402
from amanuensis_desktop.live import FileSource, LiveOptions, LivePipeline  # noqa: E402
from amanuensis_desktop.live.events import BackendInfo, Backlog, Error, Final, Level, Partial, Stopped  # noqa: E402
from amanuensis_desktop.ui.dictation import DictationController, DictationState  # noqa: E402
from amanuensis_desktop.ui.engines import EngineKeeper  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402
from tests.ui.support import JFK_REF  # noqa: E402

IDLE, STARTING, LISTENING, FINISHING = (
    DictationState.IDLE,
    DictationState.STARTING,
    DictationState.LISTENING,
    DictationState.FINISHING,
)


def _file_pipelines(path, speed=4.0, start_delay=0.0):
    """make_pipeline for the controller: a real LivePipeline over ``path`` (after ``start_delay`` seconds, as
    a microphone that opens slowly)."""

    def make(engine, options, on_event):
        time.sleep(start_delay)
        return LivePipeline(engine, options, on_event=on_event, source=FileSource(path, speed=speed))

    return make


class _Recorder:
    """Everything the controller emits, in order."""

    def __init__(self, controller: DictationController):
        self.states: list[DictationState] = []
        self.finals: list[str] = []
        self.partials: list[str] = []
        self.errors: list[str] = []
        self.backends: list[str] = []
        self.stopped = 0
        self.settled = 0
        controller.state_changed.connect(self.states.append)
        controller.final.connect(lambda text, *_: self.finals.append(text))
        controller.partial.connect(lambda stable, unstable: self.partials.append(stable + unstable))
        controller.error.connect(self.errors.append)
        controller.backend.connect(self.backends.append)
        controller.stopped.connect(self._stopped)
        controller.settled.connect(self._settled)

    def _stopped(self) -> None:
        self.stopped += 1

    def _settled(self) -> None:
        self.settled += 1

    @property
    def text(self) -> str:
        return " ".join(t for t in self.finals if t)


class _Closer:
    def __init__(self) -> None:
        self.closed: list = []

    def __call__(self, engine) -> None:
        self.closed.append(engine)
        engine.close()


@pytest.fixture
def owned_keeper():
    """A keeper that loaded its engine itself (so it closes it when replaced), and its closer."""
    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    keeper.loaded(keeper.begin_load(), Engine.load("cpu"))
    return keeper, closer


def test_a_file_dictation_is_transcribed_and_stops_by_itself(qtbot, shared_audio, owned_keeper):
    keeper, closer = owned_keeper
    engine = keeper.engine
    c = DictationController(keeper, _file_pipelines(shared_audio / "jfk.wav", speed=4.0))
    rec = _Recorder(c)
    assert c.start(LiveOptions()) is True
    assert c.state is STARTING and c.busy
    qtbot.waitUntil(lambda: c.state is LISTENING, timeout=15000)
    keeper.begin_load()  # settings changed mid-dictation: the engine in use is retired, not closed
    assert closer.closed == []
    qtbot.waitUntil(lambda: c.state is IDLE, timeout=60000)  # the file ended: the pipeline stopped itself
    assert rec.states == [STARTING, LISTENING, IDLE]
    assert wer(JFK_REF, rec.text) <= 0.10, rec.text
    assert rec.backends and rec.backends[0] == engine.backend.label
    assert rec.stopped == 1 and rec.settled == 0 and rec.errors == []  # settled is only for shutdown
    assert not c.busy
    assert closer.closed == [engine]  # released by the dictation, so closed at once


def test_stop_finishes_what_was_captured(qtbot, shared_audio, cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    c = DictationController(keeper, _file_pipelines(shared_audio / "jfk.wav", speed=1.0))
    rec = _Recorder(c)
    c.start(LiveOptions())
    qtbot.waitUntil(lambda: c.state is LISTENING, timeout=15000)
    qtbot.wait(4500)  # "And so my fellow Americans," has been said
    c.stop()
    assert c.state is FINISHING
    c.stop()  # a second stop while finishing does nothing
    qtbot.waitUntil(lambda: c.state is IDLE, timeout=30000)
    assert rec.states == [STARTING, LISTENING, FINISHING, IDLE]
    assert "americans" in rec.text.lower() and "country" not in rec.text.lower(), rec.text
    assert rec.stopped == 1 and not c.busy


def test_stop_while_starting_stops_the_pipeline_once_it_is_up(qtbot, shared_audio, owned_keeper):
    keeper, closer = owned_keeper
    engine = keeper.engine
    c = DictationController(keeper, _file_pipelines(shared_audio / "jfk.wav", speed=1.0, start_delay=0.5))
    rec = _Recorder(c)
    c.start(LiveOptions())
    c.stop()
    assert c.state is IDLE and c.busy  # idle for the user; the pipeline is still starting
    keeper.begin_load()
    qtbot.waitUntil(lambda: not c.busy, timeout=30000)  # started, then stopped in the background
    assert rec.states == [STARTING, IDLE]
    assert closer.closed == [engine]  # the background stop released it


def test_shutdown_while_starting_stops_after_the_start_and_settles(qtbot, shared_audio, cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    c = DictationController(keeper, _file_pipelines(shared_audio / "jfk.wav", speed=1.0, start_delay=0.5))
    rec = _Recorder(c)
    c.start(LiveOptions())
    c.shutdown()
    assert rec.settled == 0 and c.state is STARTING  # waits for the start instead of settling at once
    qtbot.waitUntil(lambda: rec.settled == 1, timeout=30000)
    assert rec.states == [STARTING, LISTENING, FINISHING, IDLE]
    assert not c.busy and rec.stopped == 1
    assert c.start(LiveOptions()) is False  # nothing new starts while shutting down


def test_shutdown_when_idle_settles_at_once(qtbot, cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    c = DictationController(keeper)
    rec = _Recorder(c)
    c.shutdown()
    assert rec.settled == 1 and rec.states == []


def test_a_start_that_fails_is_one_sentence_and_idle(qtbot, tmp_path, cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    c = DictationController(keeper, _file_pipelines(tmp_path / "missing.wav"))
    rec = _Recorder(c)
    c.start(LiveOptions())
    qtbot.waitUntil(lambda: not c.busy, timeout=15000)
    assert rec.states == [STARTING, IDLE]
    assert len(rec.errors) == 1 and "\n" not in rec.errors[0] and "Traceback" not in rec.errors[0]
    assert "missing.wav" in rec.errors[0]


def test_no_start_when_the_engine_failed_to_load(qtbot):
    keeper = EngineKeeper(close=_Closer())
    keeper.load_failed(keeper.begin_load(), "The model folder /nowhere does not exist.")
    c = DictationController(keeper)
    rec = _Recorder(c)
    assert c.start(LiveOptions()) is False
    assert rec.errors == ["The model folder /nowhere does not exist."] and rec.states == [] and c.state is IDLE


def test_dictation_starts_while_the_engine_is_still_loading(qtbot, shared_audio, cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    generation = keeper.begin_load()
    c = DictationController(keeper, _file_pipelines(shared_audio / "jfk.wav", speed=4.0))
    rec = _Recorder(c)
    c.start(LiveOptions())
    qtbot.waitUntil(lambda: c.state is LISTENING, timeout=15000)  # listening before there is an engine
    qtbot.wait(500)
    keeper.loaded(generation, cpu_engine)
    qtbot.waitUntil(lambda: c.state is IDLE, timeout=60000)
    assert wer(JFK_REF, rec.text) <= 0.10, rec.text  # nothing said during the load was lost


def test_events_are_routed_to_their_signals(qtbot, cpu_engine, caplog):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    c = DictationController(keeper)
    rec = _Recorder(c)
    levels, backlogs = [], []
    c.level.connect(levels.append)
    c.backlog.connect(backlogs.append)
    c.route(BackendInfo("CPU · numpy"))
    c.route(Partial(0, "And so", " my", 0.0))
    c.route(Final(0, "And so my fellow Americans,", 0.0, 2.0, 0.3))
    c.route(Level(0.1, -20.0))
    c.route(Backlog(1.5))
    c.route(Error("The microphone was unplugged.", True))
    with caplog.at_level(logging.WARNING, logger="amanuensis_desktop.ui.dictation"):
        c.route(object())
    c.route(Stopped())  # not dictating: nothing to end
    assert rec.backends == ["CPU · numpy"] and rec.partials == ["And so my"]
    assert rec.finals == ["And so my fellow Americans,"] and levels == [-20.0] and backlogs == [1.5]
    assert rec.errors == ["The microphone was unplugged."]
    assert rec.stopped == 0 and rec.states == []
    assert "unknown live event" in caplog.text
