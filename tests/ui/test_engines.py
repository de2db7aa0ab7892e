"""The engine keeper on its own (no window, no Qt): load generations, sharing with file jobs, closing, waiting.

Real engines (Engine.load("cpu")) wherever they can exercise the case; a small fake engine only where the
case needs a backend that cannot exist here (an NPU engine) or must not load a real one (a slow OpenVINO
load in the second-NPU test is replaced by a recorder, as before the keeper existed).
"""

from __future__ import annotations

import threading

import pytest

from amanuensis_desktop.engine import Engine
from amanuensis_desktop.errors import UserError
from amanuensis_desktop.ui.engines import FILE_BACKENDS, EngineKeeper
from amanuensis_desktop.whisper.transcribe import Cancelled


class _Closer:
    """The keeper's ``close``: records and really closes (synchronously, so tests need not wait)."""

    def __init__(self) -> None:
        self.closed: list = []

    def __call__(self, engine) -> None:
        self.closed.append(engine)
        engine.close()


@pytest.fixture(scope="module")
def engines():
    """Three real CPU engines, loaded once for this module (each about 1-3 s)."""
    return [Engine.load("cpu") for _ in range(3)]


def _was_closed(closer: _Closer, engine) -> bool:
    return any(e is engine for e in closer.closed)


def test_a_superseded_load_is_dropped_and_closed(engines):
    old, new = engines[0], engines[1]
    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    first = keeper.begin_load()
    second = keeper.begin_load()  # settings changed again: two loads under way, the first finishes last
    assert keeper.loading and keeper.engine is None
    assert keeper.loaded(second, new) is True
    assert keeper.loaded(first, old) is False
    assert keeper.engine is new and not keeper.loading
    assert _was_closed(closer, old) and not _was_closed(closer, new)
    assert keeper.open_engines() == [new]


def test_a_replaced_engine_is_closed_once_no_pipeline_holds_it(engines):
    current, newer = engines[0], engines[1]
    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    keeper.loaded(keeper.begin_load(), current)
    keeper.hold("pipeline", current)  # a dictation still uses it
    keeper.loaded(keeper.begin_load(), newer)
    assert keeper.engine is newer
    assert not _was_closed(closer, current)  # in use: kept
    keeper.release("pipeline")
    assert _was_closed(closer, current) and not _was_closed(closer, newer)


def test_an_engine_handed_in_by_the_caller_is_never_closed(cpu_engine, engines):
    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    keeper.set_engine(cpu_engine)
    keeper.loaded(keeper.begin_load(), engines[2])
    assert keeper.engine is engines[2] and closer.closed == []
    assert keeper.open_engines() == [engines[2]]


def test_a_failed_load_is_one_sentence_for_waiters_unless_superseded(cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    stale = keeper.begin_load()
    current = keeper.begin_load()
    assert keeper.load_failed(stale, "stale failure") is False and keeper.loading
    assert keeper.load_failed(current, "The model folder does not exist.") is True
    assert keeper.failed and keeper.error == "The model folder does not exist."
    with pytest.raises(UserError, match="The model folder does not exist."):
        keeper.wait()
    keeper.set_engine(cpu_engine)
    assert not keeper.failed and keeper.error == "" and keeper.wait() is cpu_engine


def test_waiters_get_the_engine_once_it_is_loaded(cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.begin_load()
    got = []
    t = threading.Thread(target=lambda: got.append(keeper.wait()), daemon=True)
    t.start()
    t.join(0.3)
    assert got == [] and t.is_alive()  # still waiting
    keeper.set_engine(cpu_engine)
    t.join(5)
    assert got == [cpu_engine]


def test_a_file_job_waiting_for_the_engine_can_be_cancelled():
    keeper = EngineKeeper(close=_Closer())
    keeper.begin_load()  # as if the engine were still loading
    cancel = threading.Event()
    got = []

    def run():
        try:
            keeper.engine_for_files("job", cancel)
        except Cancelled:
            got.append("cancelled")

    t = threading.Thread(target=run, daemon=True)
    t.start()
    cancel.set()
    t.join(2)
    assert got == ["cancelled"]


def test_file_jobs_share_a_cpu_engine(cpu_engine):
    keeper = EngineKeeper(close=_Closer())
    keeper.set_engine(cpu_engine)
    assert keeper.engine_for_files("a") is cpu_engine
    keeper.release("a")


class _FakeBackend:
    def __init__(self, name):
        self.name, self.label = name, f"Fake {name}"


class _FakeEngine:
    """An engine whose backend is the NPU, which cannot exist here."""

    def __init__(self, name="npu"):
        self.backend = _FakeBackend(name)
        self.model_folder = "model-folder"
        self.closed = 0

    def close(self):
        self.closed += 1


def test_file_jobs_never_load_a_second_npu_engine(cpu_engine, monkeypatch):
    loads = []
    monkeypatch.setattr(
        Engine, "load", classmethod(lambda cls, *a, **k: loads.append((a, k)) or _FakeEngine("openvino"))
    )
    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    keeper.set_engine(cpu_engine)
    assert keeper.engine_for_files("a") is cpu_engine  # numpy: shared
    npu = _FakeEngine("npu")
    keeper.set_engine(npu)
    files = keeper.engine_for_files("b")
    assert files is not npu and loads == [(("auto", "model-folder"), {"order": FILE_BACKENDS})]
    assert FILE_BACKENDS == ("openvino", "cpu")
    assert keeper.engine_for_files("c") is files and len(loads) == 1  # loaded once
    # a new dictation engine: the file jobs' engine goes too, once the jobs holding it are done
    keeper.set_engine(cpu_engine)
    assert files.closed == 0
    keeper.release("b")
    assert files.closed == 0  # job "c" still holds it
    keeper.release("c")
    assert files.closed == 1 and npu.closed == 0  # the NPU engine was the caller's


def test_start_load_reports_only_the_newest_load(engines):
    """start_load with a runner that finishes loads in the order the test chooses (the window's is run_task)."""
    pending = []
    ready, failed = [], []

    def run(fn, done, fail):
        pending.append((fn, done, fail))

    closer = _Closer()
    keeper = EngineKeeper(close=closer)
    keeper.start_load("cpu", None, run, ready.append, failed.append)
    keeper.start_load("cpu", None, run, ready.append, failed.append)
    (_, done_first, _), (_, done_second, _) = pending
    done_second(engines[0])
    done_first(engines[1])  # superseded: dropped and closed, not reported
    assert ready == [engines[0]] and keeper.engine is engines[0] and _was_closed(closer, engines[1])
    assert failed == []
    keeper.start_load("cpu", None, lambda fn, done, fail: done(fn()), ready.append, failed.append)
    assert len(ready) == 2 and ready[1].backend.name == "cpu"  # the real Engine.load ran
