"""Run a function on a QThread and get its result (or its one-sentence error) back on the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from ..errors import UserError, one_sentence


def sentence(exc: BaseException) -> str:
    """One sentence for the user (:func:`~amanuensis_desktop.errors.one_sentence`); a failure that is not a
    :class:`UserError` is marked as unexpected."""
    return one_sentence(exc, None if isinstance(exc, UserError) else "Unexpected error")


class Task(QThread):
    """``fn()`` on its own thread; ``done(result)`` or ``failed(message)`` is delivered on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    _running: set[Task] = set()

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self.finished.connect(self._cleanup)

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # every failure becomes a sentence for the user
            self.failed.emit(sentence(exc))
        else:
            self.done.emit(result)

    def start(self, *args) -> None:  # keep a reference until finished
        Task._running.add(self)
        super().start(*args)

    def _cleanup(self) -> None:
        Task._running.discard(self)
        self.deleteLater()

    @classmethod
    def when_all_finished(
        cls, callback: Callable[[], None], timeout_ms: int = 10000, parent: QObject | None = None
    ) -> None:
        """Call ``callback()`` on the GUI thread once no Task is running (at once if none is), or after
        ``timeout_ms`` at the latest. Never blocks the GUI thread."""
        deadline = time.monotonic() + timeout_ms / 1000

        def busy() -> bool:
            return any(t.isRunning() for t in list(cls._running)) and time.monotonic() < deadline

        if not busy():
            callback()
            return
        timer = QTimer(parent)
        timer.setInterval(50)

        def check() -> None:
            if not busy():
                timer.stop()
                timer.deleteLater()
                cls._waiters.discard(timer)
                callback()

        timer.timeout.connect(check)
        cls._waiters.add(timer)
        timer.start()

    _waiters: set = set()

    @classmethod
    def wait_all(cls, timeout_ms: int) -> bool:
        """Block until every running Task has finished (after the event loop ended); False if one still runs
        after ``timeout_ms``."""
        deadline = time.monotonic() + timeout_ms / 1000
        for task in list(cls._running):
            left = max(0, int((deadline - time.monotonic()) * 1000))
            if task.isRunning() and not task.wait(left):
                return False
        return True


def run_task(
    fn: Callable[[], object],
    on_done: Callable[[Any], None] | None = None,
    on_failed: Callable[[str], None] | None = None,
    parent: QObject | None = None,
) -> Task:
    task = Task(fn, parent)
    if on_done is not None:
        task.done.connect(on_done)
    if on_failed is not None:
        task.failed.connect(on_failed)
    task.start()
    return task
