"""Small widgets: the transcript view (final text + an in-place partial), the level meter, the info bar."""

from __future__ import annotations

import bisect
import html
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextEdit, QWidget


def _word_pieces(text: str, words: Sequence[Any], unsure_below: float | None) -> list[tuple[str, bool, Any]]:
    """``text`` cut into (piece, unsure, word) runs: a word under ``unsure_below`` (not its leading space) is
    unsure; ``word`` is the Word a piece shows (None for spaces). Plain text when the words do not spell it."""
    if not words or "".join(w.word for w in words).strip() != text:
        return [(text, False, None)]
    pieces: list[tuple[str, bool, Any]] = []
    for i, w in enumerate(words):
        word = w.word.lstrip() if i == 0 else w.word
        bare = word.lstrip()
        if len(bare) < len(word):
            pieces.append((word[: len(word) - len(bare)], False, None))
        pieces.append((bare, unsure_below is not None and w.probability < unsure_below, w))
    return pieces


class TranscriptView(QTextEdit):
    """Final text reads normally; the current partial follows it in grey italics and is replaced in place.

    New text keeps the view at the bottom only while the user is at the bottom: scrolling up stops the
    auto-scroll, scrolling back to the end resumes it.
    """

    PARAGRAPH_GAP = 4.0  # seconds of silence between finals that start a new paragraph
    word_clicked = Signal(float, float)  # a timed word was clicked: its start and end (transcript seconds)
    word_edit_requested = Signal(int, str)  # a timed word was double-clicked: its index (replace_word) and text
    word_corrected = Signal(int, int, int, str)  # final number, offset in that final's text, old length, new text

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self.setUndoRedoEnabled(False)
        self.setAcceptDrops(False)  # drops go to the window (file jobs)
        self.setPlaceholderText("Press Start (Ctrl+Space) and speak, or drop audio and video files here.")
        font = self.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.15)
        self.setFont(font)
        self.document().setDocumentMargin(12)
        self._final_fmt = QTextCharFormat()
        self._final_fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        self._final_fmt.setFontItalic(False)
        self._unsure_fmt = QTextCharFormat(self._final_fmt)
        self._unsure_fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        self._unsure_fmt.setUnderlineColor(QColor("#c07000"))
        self._partial_fmt = QTextCharFormat()
        self._partial_fmt.setForeground(QColor("#7a7a7a"))
        self._partial_fmt.setFontItalic(True)
        self._unstable_fmt = QTextCharFormat(self._partial_fmt)
        self._unstable_fmt.setForeground(QColor("#a0a0a0"))
        self._partial_start = 0  # document position where the partial begins (= end of the final text)
        self._partial = ""
        self._last_end: float | None = None
        self._has_final = False
        # Timed words: [doc start, doc end, start s, end s, final number, offset in that final's text]
        self._word_spans: list[list] = []
        self._finals = 0  # finals shown so far (add_final returns each one's number)

    def span_at(self, position: int) -> int | None:
        """Index of the timed word at a document position, if any."""
        i = bisect.bisect_right([s[0] for s in self._word_spans], position) - 1
        if i >= 0 and self._word_spans[i][0] <= position < self._word_spans[i][1]:
            return i
        return None

    def word_at(self, position: int) -> tuple[float, float] | None:
        """(start, end) seconds of the timed word at a document position, if any."""
        i = self.span_at(position)
        return None if i is None else (self._word_spans[i][2], self._word_spans[i][3])

    def replace_word(self, index: int, text: str) -> None:
        """Correct timed word ``index`` in place (no longer marked unsure: the user vouched for it); sends
        :attr:`word_corrected`."""
        span = self._word_spans[index]
        a, b = span[0], span[1]
        cur = QTextCursor(self.document())
        cur.setPosition(a)
        cur.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        cur.insertText(text, self._final_fmt)
        delta = len(text) - (b - a)
        span[1] = b + delta
        for later in self._word_spans[index + 1 :]:
            later[0] += delta
            later[1] += delta
            if later[4] == span[4]:
                later[5] += delta
        self._partial_start += delta
        self.word_corrected.emit(span[4], span[5], b - a, text)

    def mouseDoubleClickEvent(self, event) -> None:
        i = self.span_at(self.cursorForPosition(event.position().toPoint()).position())
        if i is None:
            super().mouseDoubleClickEvent(event)
            return
        a, b = self._word_spans[i][0], self._word_spans[i][1]
        self.word_edit_requested.emit(i, self.toPlainText()[a:b])

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            hit = self.word_at(self.cursorForPosition(event.position().toPoint()).position())
            if hit is not None:
                self.word_clicked.emit(*hit)

    # -- state ----------------------------------------------------------------------------------------------
    @property
    def partial_text(self) -> str:
        return self._partial

    def final_text(self) -> str:
        return self.toPlainText()[: self._partial_start]

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    # -- edits ----------------------------------------------------------------------------------------------
    def _cursor_at_partial(self) -> QTextCursor:
        cur = QTextCursor(self.document())
        cur.setPosition(self._partial_start)
        cur.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cur

    def _edit(self, fn) -> None:
        follow = self.at_bottom()
        bar = self.horizontalScrollBar().value(), self.verticalScrollBar().value()
        fn()
        if follow:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        else:
            self.verticalScrollBar().setValue(bar[1])

    def set_partial(self, stable: str, unstable: str = "") -> None:
        stable, unstable = stable.strip(), unstable.strip()

        def do():
            cur = self._cursor_at_partial()
            cur.removeSelectedText()
            sep = " " if self._has_final and (stable or unstable) and not self._ends_paragraph() else ""
            cur.insertText(sep + stable, self._partial_fmt)
            if unstable:
                cur.insertText((" " if stable else "") + unstable, self._unstable_fmt)
            self._partial = stable + (" " if stable and unstable else "") + unstable

        self._edit(do)

    def _ends_paragraph(self) -> bool:
        return self.toPlainText()[: self._partial_start].endswith("\n")

    def add_final(
        self,
        text: str,
        start: float | None = None,
        end: float | None = None,
        words: Sequence[Any] = (),
        unsure_below: float | None = None,
    ) -> int:
        """Append a final; returns its number (for :attr:`word_corrected`). With ``words`` (whisper Word objects
        whose text joins to ``text``) and ``unsure_below``, words less probable than that get a dotted underline."""
        text = text.strip()
        pieces = _word_pieces(text, words, unsure_below)
        number = self._finals
        self._finals += 1

        def do():
            cur = self._cursor_at_partial()
            cur.removeSelectedText()
            self._partial = ""
            if not text:
                return
            if self._has_final:
                gap = (start - self._last_end) if (start is not None and self._last_end is not None) else 0.0
                sep = "\n\n" if gap >= self.PARAGRAPH_GAP else " "
                if self._ends_paragraph():
                    sep = ""
                cur.insertText(sep, self._final_fmt)
            first = cur.position()
            for piece, unsure, word in pieces:
                at = cur.position()
                cur.insertText(piece, self._unsure_fmt if unsure else self._final_fmt)
                if word is not None:
                    self._word_spans.append(
                        [at, cur.position(), float(word.start), float(word.end), number, at - first]
                    )
            self._partial_start = cur.position()
            self._has_final = True

        self._edit(do)
        if end is not None:
            self._last_end = end
        return number

    def add_paragraph_break(self) -> None:
        """Start the next final on a new paragraph (e.g. between restored and new text)."""
        if self._has_final and not self._ends_paragraph():

            def do():
                cur = self._cursor_at_partial()
                cur.removeSelectedText()
                self._partial = ""
                cur.insertText("\n\n", self._final_fmt)
                self._partial_start = cur.position()

            self._edit(do)

    def clear_partial(self) -> None:
        def do() -> None:
            self._cursor_at_partial().removeSelectedText()
            self._partial = ""

        self._edit(do)

    def clear_all(self) -> None:
        self.clear()
        self._partial_start, self._partial, self._last_end, self._has_final = 0, "", None, False
        self._word_spans.clear()


class LevelMeter(QWidget):
    """A horizontal input-level bar in dBFS (-60 .. 0) with a slowly falling peak mark."""

    FLOOR = -60.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Transcript")
        self._db = self.FLOOR
        self._peak = self.FLOOR
        self._peak_time = 0.0
        self.setMinimumSize(120, 14)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level")
        self._decay = QTimer(self)
        self._decay.setInterval(50)
        self._decay.timeout.connect(self._fall)

    def sizeHint(self) -> QSize:
        return QSize(160, 16)

    @property
    def db(self) -> float:
        return self._db

    def set_level(self, db: float) -> None:
        if db is None or not math.isfinite(db):
            db = self.FLOOR
        self._db = max(self.FLOOR, min(0.0, float(db)))
        if self._db >= self._peak:
            self._peak, self._peak_time = self._db, time.monotonic()
        self.setToolTip(f"Input level {self._db:.0f} dBFS")
        if not self._decay.isActive():
            self._decay.start()
        self.update()

    def reset(self) -> None:
        self._db = self._peak = self.FLOOR
        self._decay.stop()
        self.update()

    def _fall(self) -> None:
        if time.monotonic() - self._peak_time > 1.0:
            self._peak = max(self.FLOOR, self._peak - 1.5)
        if self._peak <= self.FLOOR and self._db <= self.FLOOR:
            self._decay.stop()
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(self.palette().color(QPalette.ColorRole.Mid))
        p.setBrush(self.palette().color(QPalette.ColorRole.Base))
        p.drawRoundedRect(r, 3, 3)
        frac = (self._db - self.FLOOR) / -self.FLOOR
        if frac > 0:
            color = QColor("#3aa655") if self._db < -12 else QColor("#e0a526") if self._db < -3 else QColor("#d0312d")
            bar = QRectF(r.left() + 1.5, r.top() + 1.5, (r.width() - 3) * frac, r.height() - 3)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(bar, 2, 2)
        pf = (self._peak - self.FLOOR) / -self.FLOOR
        if pf > 0:
            x = r.left() + 1.5 + (r.width() - 3) * pf
            p.setPen(self.palette().color(QPalette.ColorRole.Text))
            p.drawLine(int(x), int(r.top() + 2), int(x), int(r.bottom() - 2))
        p.end()


class InfoBar(QFrame):
    """An inline message with optional buttons (no modal dialog ever blocks dictation)."""

    def __init__(self, kind: str = "info", parent: QWidget | None = None):
        super().__init__(parent)
        colors = {"info": ("#fff6d5", "#c9a227"), "error": ("#fde4e1", "#c0392b")}[kind]
        self.setObjectName(f"infobar-{kind}")
        self.setStyleSheet(
            f"QFrame#infobar-{kind} {{ background: {colors[0]}; border: 1px solid {colors[1]};"
            " border-radius: 4px; } QLabel { color: #222222; }"
        )
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.buttons_layout = QHBoxLayout()
        lay.addLayout(self.buttons_layout)
        self.close_btn = QPushButton("Dismiss")
        self.close_btn.clicked.connect(self.hide)
        lay.addWidget(self.close_btn)
        self._buttons: list[QPushButton] = []
        self.hide()

    def show_message(
        self, text: str, buttons: list[tuple[str, Callable[[], None]]] | None = None, closable: bool = True
    ) -> None:
        self.label.setText(text)
        for b in self._buttons:
            b.setParent(None)
            b.deleteLater()
        self._buttons = []
        for title, fn in buttons or []:
            b = QPushButton(title)
            b.clicked.connect(fn)
            self.buttons_layout.addWidget(b)
            self._buttons.append(b)
        self.close_btn.setVisible(closable)
        self.show()

    def button(self, title: str) -> QPushButton | None:
        return next((b for b in self._buttons if b.text() == title), None)


def backend_tooltip(label: str, computed: bool, statuses: list) -> str:
    """The backend indicator's tooltip: what computed (or is loaded), and every backend with its status."""
    rows = []
    for st in statuses:
        state = "in use" if st.reason.startswith("in use") else ("available" if st.available else "not used")
        rows.append(f"<tr><td><b>{html.escape(st.name)}</b></td><td>{state}</td><td>{html.escape(st.reason)}</td></tr>")
    head = (
        f"<p>The last text was computed by <b>{html.escape(label)}</b>.</p>"
        if computed
        else f"<p>Loaded: <b>{html.escape(label)}</b> (no text computed yet).</p>"
    )
    table = f"<table cellspacing='4'>{''.join(rows)}</table>" if rows else "<p>(backend list pending)</p>"
    return head + "<p>Backends on this machine:</p>" + table
