"""The engine keeper: which engine dictation and file jobs use, and when a replaced engine is closed (no Qt).

Dictation uses ``engine``. File jobs share it when its backend keeps no shared state (the numpy CPU backend);
otherwise (NPU, OpenVINO) they get their own engine from OpenVINO, else CPU — never a second NPU engine, which
would need more NPU hardware contexts than there are. An engine replaced by a newer load is closed once no
user (a pipeline, a file job) holds it; a load superseded by a newer one is dropped and closed. Only engines
the keeper loaded itself are closed: an engine handed in by a caller stays the caller's.

Thread rules: ``begin_load``/``loaded``/``set_engine``/``fail``/``release`` are called on one thread (the GUI
thread); ``wait`` and ``engine_for_files`` on worker threads (they may block; the GUI thread never does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import UserError

logger = logging.getLogger(__name__)

#: Backends whose engine dictation and file jobs can share (no shared device state).
SHARED_BACKENDS = ("cpu", "")
#: What file jobs load otherwise ("auto" over this order): never a second NPU engine.
FILE_BACKENDS = ("openvino", "cpu")


def _close_on_a_thread(engine: Any) -> None:
    threading.Thread(target=engine.close, name="engine-close", daemon=True).start()


def _load(backend: str, model: str | None, order: tuple[str, ...] | None = None) -> Any:
    from ..engine import Engine

    if order is None:
        return Engine.load(backend, model)
    return Engine.load(backend, model, order=order)


class EngineKeeper:
    """Load generations, the engine shared with file jobs, retiring and closing engines, waiting for one.

    ``close(engine)`` closes an engine that nothing uses any more (it should not block the caller: the
    window runs it on a Task thread). ``load_for_files(backend, model_folder, order)`` loads the file jobs'
    own engine (``Engine.load`` by default)."""

    def __init__(self, close: Callable[[Any], None] = _close_on_a_thread, load_for_files: Callable[..., Any] = _load):
        self._close = close
        self._load_for_files = load_for_files
        self._lock = threading.Lock()  # guards everything below but _ready (file worker threads use it too)
        self._ready = threading.Event()  # set once ``engine`` is loaded or its load failed
        self._engine: Any = None
        self._error = ""
        self._generation = 0  # the newest begin_load(); older loads are dropped when they finish
        self._file_engine: Any = None  # the file jobs' own engine, loaded for ``_file_engine_base``
        self._file_engine_base: Any = None
        self._holds: dict[Hashable, Any] = {}  # user -> engine it uses (pipelines, file jobs)
        self._owned: list[Any] = []  # engines the keeper loaded (and so closes)
        self._retired: list[Any] = []  # replaced engines, closed once nothing holds them

    # -------------------------------------------------------------------------------------------- state
    @property
    def engine(self) -> Any:
        """The current engine (None while loading or after a failed load)."""
        return self._engine

    @property
    def error(self) -> str:
        """Why the last load failed ('' when it did not)."""
        return self._error

    @property
    def loading(self) -> bool:
        return not self._ready.is_set()

    @property
    def failed(self) -> bool:
        return self._engine is None and self._ready.is_set() and bool(self._error)

    @property
    def generation(self) -> int:
        return self._generation

    def open_engines(self) -> list[Any]:
        """Engines the keeper loaded and has not closed yet (the current ones and retired ones in use)."""
        with self._lock:
            return list(self._owned)

    # -------------------------------------------------------------------------------------------- loads
    def begin_load(self) -> int:
        """A new load starts: from now on users wait for it. Returns its generation for :meth:`loaded`."""
        self._generation += 1
        self._ready.clear()  # first: from now on engine users wait for the new engine
        self._replace(None)
        self._error = ""
        return self._generation

    def start_load(
        self,
        backend: str,
        model: str | None,
        run: Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], Any],
        on_ready: Callable[[Any], None],
        on_failed: Callable[[str], None],
    ) -> int:
        """Begin a load and run ``Engine.load(backend, model)`` with ``run(fn, done, failed)`` (the window's
        run_task: a Task thread). ``on_ready(engine)`` or ``on_failed(message)`` follows unless a newer load
        superseded this one. Returns the load's generation."""
        generation = self.begin_load()

        def done(engine: Any) -> None:
            if self.loaded(generation, engine):
                on_ready(engine)

        def failed(message: str) -> None:
            if self.load_failed(generation, message):
                on_failed(message)

        run(lambda: _load(backend, model), done, failed)
        return generation

    def loaded(self, generation: int, engine: Any) -> bool:
        """A load finished. False if a newer load superseded it (the engine is then retired and closed)."""
        with self._lock:
            self._owned.append(engine)
        if generation != self._generation:  # a newer load (settings changed again) wins, whenever it ends
            logger.info("dropping a superseded engine load (generation %d < %d)", generation, self._generation)
            self._retire(engine)
            return False
        self.set_engine(engine)
        return True

    def load_failed(self, generation: int, message: str) -> bool:
        """A load failed. False if a newer load superseded it (the failure is then ignored)."""
        if generation != self._generation:
            return False
        self.fail(message)
        return True

    def set_engine(self, engine: Any) -> None:
        """Use ``engine`` from now on (a caller's engine is never closed by the keeper)."""
        self._replace(engine)
        self._error = ""
        self._ready.set()

    def fail(self, message: str) -> None:
        self._error = message
        self._ready.set()

    def wait(self, cancel: threading.Event | None = None) -> Any:
        """On a worker thread: the engine once loaded (UserError if loading failed). With ``cancel``, waits in
        0.1 s steps and raises Cancelled once it is set."""
        while not self._ready.wait(0.1):
            if cancel is not None and cancel.is_set():
                from ..whisper.transcribe import Cancelled

                raise Cancelled()
        engine = self._engine
        if engine is None:
            raise UserError(self._error or "No engine is loaded.")
        return engine

    # ------------------------------------------------------------------------------------------- users
    def hold(self, user: Hashable, engine: Any) -> None:
        """``user`` (a pipeline, a file job) uses ``engine``: it is not closed until :meth:`release`."""
        if engine is None:
            return
        with self._lock:
            self._holds[user] = engine

    def release(self, user: Hashable) -> None:
        """``user`` no longer uses its engine; retired engines nothing holds any more are closed."""
        with self._lock:
            self._holds.pop(user, None)
        self._close_retired()

    def engine_for_files(self, user: Hashable, cancel: threading.Event | None = None) -> Any:
        """On the file worker thread: the engine to transcribe with (waits for the load), held for ``user``
        until :meth:`release`. Loads the file jobs' own engine when the dictation engine cannot be shared."""
        engine = self.wait(cancel)
        if getattr(engine.backend, "name", "") in SHARED_BACKENDS:
            chosen = engine
        else:
            with self._lock:
                chosen = self._file_engine if self._file_engine_base is engine else None
            if chosen is None:  # loaded outside the lock: the GUI thread never waits for a load
                chosen = self._load_for_files("auto", engine.model_folder, FILE_BACKENDS)
                with self._lock:
                    self._owned.append(chosen)
                    if self._file_engine is None and self._engine is engine:
                        self._file_engine, self._file_engine_base = chosen, engine
                    else:  # the dictation engine changed meanwhile: this one serves this job only
                        self._retired.append(chosen)
        self.hold(user, chosen)
        return chosen

    # ----------------------------------------------------------------------------------------- closing
    def _replace(self, replacement: Any) -> None:
        """Replace the current engine (and forget the file jobs' engine); each is closed once unused."""
        old, self._engine = self._engine, replacement
        with self._lock:
            fe, self._file_engine, self._file_engine_base = self._file_engine, None, None
        self._retire(old, fe)

    def _retire(self, *engines: Any) -> None:
        with self._lock:
            for e in engines:
                if e is not None and not any(e is r for r in self._retired):
                    self._retired.append(e)
        self._close_retired()

    def _close_retired(self) -> None:
        with self._lock:
            in_use = [self._engine, self._file_engine, *self._holds.values()]
            free = [e for e in self._retired if not any(e is u for u in in_use)]
            self._retired = [e for e in self._retired if not any(e is f for f in free)]
            to_close = [e for e in free if any(e is o for o in self._owned)]
            self._owned = [o for o in self._owned if not any(o is e for e in to_close)]
        for e in to_close:
            self._close(e)
