"""Type the transcript: the reviewed transcript (corrected words included), or the text selected in the view,
typed into the app the user is working in, through the route live finals are typed with (ui/anywhere.py).

Started from the window (Dictation → "Type the transcript into the app", Ctrl+Shift+T), the tray menu, or
``amanuensis type-transcript`` (the control socket: bind it in the desktop's keyboard shortcuts).

Keys go to whichever window has the keyboard focus. When one of ours has it (the menu or the shortcut was just
used in the window), the window steps aside first: hidden to the tray when there is one, else minimised. Where
minimising does not move the focus (tiling window managers ignore it; no window manager at all) the window is
hidden after 1 s and shown again, minimised, once the text is typed. The typing starts once the focus has left
Amanuensis, plus a short settle for the app the window manager hands the focus to (the one the user was in
before). The window stays out of the way afterwards: bringing it back would take the focus from the text.

Long text is typed in pieces, the GUI running between them; the typing stops when Amanuensis takes the focus
back. Every failure is one sentence on ``message`` (status bar, and the tray while the window is hidden).
"""

from __future__ import annotations

import logging
import time
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from ..errors import one_sentence
from ..output.errors import OutputError
from ..output.sink import OutputMode, OutputSink

logger = logging.getLogger(__name__)

SHORTCUT = "Ctrl+Shift+T"


class TypingState(Enum):
    IDLE = "idle"
    WAITING_FOR_FOCUS = "waiting for the focus to leave Amanuensis"
    TYPING = "typing"


def _pieces(text: str, size: int) -> list[str]:
    """``text`` in consecutive pieces of about ``size`` characters, cut after a space where there is one."""
    out, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            end = space + 1 if space > start else end
        out.append(text[start:end])
        start = end
    return out


class TranscriptTypist(QObject):
    """The window's "Type the transcript". ``anywhere`` lends the route; ``window`` provides ``view``,
    ``tray`` (or None), ``actions_`` (its menus' actions) and ``statusBar``."""

    HIDE_AFTER_S = 1.0  # minimised, but the focus did not leave us: hide the window instead
    FOCUS_TIMEOUT_S = 3.0  # the window stepped aside but the focus did not leave us: give up
    SETTLE_MS = 250  # after the focus left: the app it goes to takes it
    POLL_MS = 40
    PIECE_CHARS = 120  # typed per event-loop turn (XTEST: ~2-7 ms a character)

    def __init__(self, anywhere: Any, window: Any) -> None:
        super().__init__(window)
        self.anywhere, self.window = anywhere, window
        self.state = TypingState.IDLE
        self._pieces: list[str] = []
        self._sink: OutputSink | None = None
        self._label = ""
        self._words = self._done_words = 0
        self._asked = 0.0  # time.monotonic() of the request
        self._minimised = False  # stepped aside by minimising (no tray)
        self._show_again = False  # hidden because minimising kept the focus: shown minimised when done
        self._poll = QTimer(self)
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self._wait_for_focus)
        self.action = QAction("Type the transcript into the app", window)
        self.action.setObjectName("type-transcript-action")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            "Type the transcript (or the selected text) into the app you were in; the window steps aside first"
        )
        self.action.triggered.connect(self.from_ui)
        window.addAction(self.action)
        copy = getattr(getattr(window, "actions_", None), "copy", None)
        if copy is not None:  # next to "Copy all", in whatever menus hold it
            for menu in copy.associatedObjects():
                if isinstance(menu, QMenu):
                    actions = menu.actions()
                    after = actions.index(copy) + 1
                    if after < len(actions):
                        menu.insertAction(actions[after], self.action)
                    else:
                        menu.addAction(self.action)
        tray = getattr(window, "tray", None)
        if tray is not None and hasattr(tray, "type_transcript"):
            tray.type_transcript.connect(self.from_ui)

    # -- what is typed --------------------------------------------------------------------------------
    def text(self) -> str:
        """The selection in the view when there is one (its final part), else the whole final transcript —
        what "Copy all" copies, with the corrections made in the view."""
        view = self.window.view
        final = view.final_text()
        cur = view.textCursor()
        if cur.hasSelection():  # Qt counts UTF-16 units; the slice is taken in them too (emoji count as two)
            units = str(final).encode("utf-16-le")
            start, end = 2 * cur.selectionStart(), 2 * min(cur.selectionEnd(), len(units) // 2)
            return units[start:end].decode("utf-16-le", errors="ignore").strip()
        return str(final).strip()

    # -- requests -------------------------------------------------------------------------------------
    def from_ui(self) -> None:
        """The menu, the shortcut or the tray: failures go to ``message``."""
        try:
            self.request()
        except OutputError as exc:
            self._fail(str(exc))

    def request(self) -> str:
        """Start typing (it finishes later, on the event loop); the control socket's answer. Raises
        :class:`OutputError` (one sentence) when it cannot start."""
        if self.state is not TypingState.IDLE:
            raise OutputError("The transcript is already being typed.")
        text = self.text()
        if not text:
            if self.window.view.textCursor().hasSelection():
                raise OutputError("Nothing to type: the selection holds no final text.")
            raise OutputError("Nothing to type yet: the transcript is empty.")
        if self.anywhere.types_finals:
            raise OutputError("Stop dictation first: its finals are being typed into the app as they come.")
        sink, choice = self.anywhere.typing_sink()
        self._sink, self._label = sink, choice.label if choice is not None else sink.options.mode.value
        one_go = sink.options.mode is OutputMode.PASTE or sink.typer is None  # one paste, or the clipboard
        self._pieces = [text] if one_go else _pieces(text, self.PIECE_CHARS)
        self._words, self._done_words = len(text.split()), 0
        self.state = TypingState.WAITING_FOR_FOCUS
        self._asked = time.monotonic()
        if self._we_have_focus():
            self._step_aside()
        self._poll.start()
        return "ok"

    @staticmethod
    def _we_have_focus() -> bool:
        """One of our windows (the main window, a dialog, the tray's menu) has the keyboard focus. A hidden one
        cannot (X11 and Wayland move the focus away from it; Qt's offscreen platform keeps pointing at it)."""
        window = QGuiApplication.focusWindow()
        return window is not None and window.isVisible()

    def _step_aside(self) -> None:
        tray = getattr(self.window, "tray", None)
        if tray is not None and tray.is_visible():
            self.window.hide()
        elif self.window.isVisible():
            self.window.showMinimized()
            self._minimised = True

    def _wait_for_focus(self) -> None:
        if self._we_have_focus():
            waited = time.monotonic() - self._asked
            if self._minimised and not self._show_again and waited > self.HIDE_AFTER_S and self.window.isVisible():
                logger.info("Minimising kept the focus in Amanuensis; hiding the window while typing.")
                self._show_again = True
                self.window.hide()
            elif waited > self.FOCUS_TIMEOUT_S:
                self._finish()
                self._fail(
                    "The focus stayed in Amanuensis, so nothing was typed; click into the app, then use the tray "
                    "menu or amanuensis type-transcript."
                )
            return
        self._poll.stop()
        self.state = TypingState.TYPING
        QTimer.singleShot(self.SETTLE_MS, self, self._start_typing)

    def _start_typing(self) -> None:
        sink = self._sink
        if sink is None or self.state is not TypingState.TYPING:
            return
        try:
            self._fit_to_target(sink)
        except Exception as exc:  # e.g. the X connection closed: end cleanly, say why
            self._abort(exc)
            return
        self._type_next()

    def _fit_to_target(self, sink: Any) -> None:
        if sink.options.mode is OutputMode.TYPE and sink.typer is not None and sink.typer.focused_is_terminal():
            # a typed Return would run the line
            self._pieces = [p.replace("\n\n", " ").replace("\n", " ") for p in self._pieces]

    def _type_next(self) -> None:
        sink = self._sink
        if sink is None or self.state is not TypingState.TYPING:
            return
        if self._we_have_focus():
            self._finish()
            self._fail(
                f"Typing stopped after {self._done_words} of {self._words} words: Amanuensis took the focus back."
            )
            return
        piece = self._pieces.pop(0)
        try:
            sink.final_raw(piece)
        except OutputError as exc:
            self._finish()
            self._fail(str(exc))
            return
        except Exception as exc:  # the output closed under us (settings changed), X gone...: never stuck TYPING
            self._abort(exc)
            return
        self._done_words += len(piece.split())
        if self._pieces:
            QTimer.singleShot(0, self, self._type_next)
            return
        self._finish()
        if sink.typer is None:  # no route types here: the clipboard holds it (RouteChoice's notice says why)
            self._fail("Nothing can type into other apps here, so the transcript is on the clipboard; paste it.")
            return
        words = "1 word" if self._words == 1 else f"{self._words} words"
        self.window.statusBar().showMessage(f"Typed {words} of the transcript via {self._label}.", 6000)

    def _abort(self, exc: Exception) -> None:
        logger.exception("typing the transcript failed")
        self._finish()
        self._fail(one_sentence(exc, "Typing the transcript failed"))

    def _finish(self) -> None:
        self._poll.stop()
        self._sink, self._pieces = None, []
        self.state = TypingState.IDLE
        self._minimised = False
        if self._show_again:  # back in the task bar, without taking the focus from the text
            self._show_again = False
            self.window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
            self.window.showMinimized()
            self.window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)

    def _fail(self, message: str) -> None:
        logger.info("Type the transcript: %s", message)
        self.anywhere.message.emit(message)
        tray = getattr(self.window, "tray", None)
        if tray is not None and not self.window.isVisible():
            tray.notify("Amanuensis", message)
