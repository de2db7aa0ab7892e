"""Run a function on a QThread and get its result (or its one-sentence error) back on the GUI thread."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from ..errors import UserError


def describe(exc: BaseException) -> str:
    """One sentence for the user."""
    if isinstance(exc, UserError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Unexpected error ({type(exc).__name__}{': ' + text if text else ''})."


class Task(QThread):
    """``fn()`` on its own thread; ``done(result)`` or ``failed(message)`` is delivered on the GUI thread."""

    done = Signal(object)
    failed = Signal(str)

    _running: set["Task"] = set()

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self.finished.connect(self._cleanup)

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a sentence
            self.failed.emit(describe(exc))
        else:
            self.done.emit(result)

    def start(self, *args) -> "Task":  # keep a reference until finished
        Task._running.add(self)
        super().start(*args)
        return self

    def _cleanup(self) -> None:
        Task._running.discard(self)
        self.deleteLater()

    @classmethod
    def wait_all(cls, ms: int = 30000) -> None:
        for task in list(cls._running):
            task.wait(ms)


def run_task(fn: Callable[[], object], on_done: Callable[[object], None] | None = None,
             on_failed: Callable[[str], None] | None = None, parent: QObject | None = None) -> Task:
    task = Task(fn, parent)
    if on_done is not None:
        task.done.connect(on_done)
    if on_failed is not None:
        task.failed.connect(on_failed)
    return task.start()
