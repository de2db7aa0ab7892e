"""Clipboards for paste mode and clipboard mode: Qt's (X11, and Wayland while our window has focus) and
``wl-copy``/``wl-paste`` (Wayland, works without focus), plus :class:`Paster`, which puts text on the
clipboard, presses the paste chord and gives the user's clipboard back ~1 s later.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from .errors import OutputError
from .routes import Typer

logger = logging.getLogger(__name__)


class Clipboard(Protocol):
    def text(self) -> str | None: ...

    def save(self) -> Any: ...

    def set_text(self, text: str) -> None: ...

    def restore(self, saved: Any) -> None: ...


class QtClipboard:
    """The application's QClipboard; use it on the GUI thread with the event loop running (on X11 the
    clipboard's owner answers other apps' requests from its event loop)."""

    def __init__(self) -> None:
        from PySide6.QtGui import QGuiApplication

        app = QGuiApplication.instance()
        if app is None:
            raise OutputError("The clipboard needs the window's Qt application.")
        self._clipboard = QGuiApplication.clipboard()

    def text(self) -> str | None:
        mime = self._clipboard.mimeData()
        return mime.text() if mime is not None and mime.hasText() else None

    def save(self) -> Any:
        from PySide6.QtCore import QMimeData

        mime = self._clipboard.mimeData()
        if mime is None or not mime.formats():
            return None
        copy = QMimeData()
        for fmt in mime.formats():
            copy.setData(fmt, mime.data(fmt))
        return copy

    def set_text(self, text: str) -> None:
        self._clipboard.setText(text)

    def restore(self, saved: Any) -> None:
        if saved is None:
            self._clipboard.clear()
        else:
            self._clipboard.setMimeData(saved)


class WlClipboard:
    """``wl-copy`` / ``wl-paste`` (apt wl-clipboard): the first type the clipboard offers is saved as bytes."""

    def __init__(self) -> None:
        for tool in ("wl-copy", "wl-paste"):
            if shutil.which(tool) is None:
                raise OutputError(f"{tool} is not installed (apt install wl-clipboard).")

    @staticmethod
    def _paste(*args: str) -> bytes | None:
        try:
            done = subprocess.run(["wl-paste", *args], capture_output=True, timeout=5, check=False)
        except subprocess.TimeoutExpired:
            return None
        return done.stdout if done.returncode == 0 else None

    def text(self) -> str | None:
        data = self._paste("--no-newline", "--type", "text/plain;charset=utf-8")
        return data.decode(errors="replace") if data is not None else None

    def save(self) -> Any:
        types = self._paste("--list-types")
        if not types:
            return None
        kind = types.decode(errors="replace").split()[0]
        data = self._paste("--no-newline", "--type", kind)
        return (kind, data) if data is not None else None

    @staticmethod
    def _copy(data: bytes, kind: str) -> None:
        # wl-copy forks a child that serves the clipboard: it must not inherit pipes we would wait on
        try:
            done = subprocess.run(
                ["wl-copy", "--type", kind],
                input=data,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=5,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OutputError("wl-copy did not finish within 5 s.") from exc
        if done.returncode != 0:
            raise OutputError(f"wl-copy could not set the clipboard (exit code {done.returncode}).")

    def set_text(self, text: str) -> None:
        self._copy(text.encode(), "text/plain;charset=utf-8")
        # wl-copy returns before the compositor announced the new selection: wait until it did, so that a
        # paste right after reads our text (measured: without this a Qt app on sway pasted the old clipboard)
        deadline = time.monotonic() + 1.0
        while self.text() != text and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.03)

    def restore(self, saved: Any) -> None:
        if saved is None:
            subprocess.run(
                ["wl-copy", "--clear"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5, check=False
            )
        else:
            self._copy(saved[1], saved[0])


def _timer(delay_s: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(delay_s, action)
    timer.daemon = True
    timer.start()


class Paster:
    """Paste mode: the text goes on the clipboard, the paste chord is pressed (Ctrl+Shift+V in terminals),
    and ``restore_after_s`` after the last paste the user's clipboard comes back — unless the user copied
    something else meanwhile. ``schedule(delay_s, action)`` runs ``action`` later on the clipboard's thread
    (``QTimer.singleShot`` for Qt's clipboard)."""

    def __init__(
        self,
        clipboard: Clipboard,
        typer: Typer,
        restore_after_s: float = 1.0,
        schedule: Callable[[float, Callable[[], None]], None] = _timer,
    ) -> None:
        self.clipboard, self.typer = clipboard, typer
        self.restore_after_s = restore_after_s
        self._schedule = schedule
        self._saved: Any = None
        self._pending = False
        self._ours: str | None = None
        self._generation = 0

    def paste(self, text: str) -> None:
        if not text:
            return
        if not self._pending:
            self._saved = self.clipboard.save()
            self._pending = True
        self.clipboard.set_text(text)
        self._ours = text
        self.typer.paste(self.typer.focused_is_terminal())
        self._generation += 1
        generation = self._generation
        self._schedule(self.restore_after_s, lambda: self._restore(generation))

    def _restore(self, generation: int) -> None:
        if generation != self._generation or not self._pending:
            return  # a later paste restarted the wait
        self._pending = False
        saved, self._saved = self._saved, None
        if self.clipboard.text() != self._ours:
            logger.info("The clipboard changed after pasting; not restoring it.")
            return
        try:
            self.clipboard.restore(saved)
        except OutputError as exc:
            logger.warning("Could not restore the clipboard: %s", exc)

    def flush(self) -> None:
        """Restore the user's clipboard now (quitting)."""
        if self._pending:
            self._generation += 1
            self._restore(self._generation)
