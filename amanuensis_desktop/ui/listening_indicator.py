"""A small always-on-top indicator while dictating into other apps: the state and the input level.

It never takes the keyboard focus (the text goes to the app the user is in): a frameless tool window that
does not accept focus and is shown without activation. Wayland compositors ignore that request (sway focused
the indicator and the dictated text went nowhere), so there it is not shown (:func:`supported`); the tray
icon shows the state instead. Optional short start/stop tones.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from ..output.control import ListenState

logger = logging.getLogger(__name__)

FLAGS = (
    Qt.WindowType.Tool
    | Qt.WindowType.FramelessWindowHint
    | Qt.WindowType.WindowStaysOnTopHint
    | Qt.WindowType.WindowDoesNotAcceptFocus
)
_COLOURS = {
    ListenState.LISTENING: QColor("#d33"),
    ListenState.FINISHING: QColor("#e90"),
    ListenState.IDLE: QColor("#888"),
}
_LABELS = {ListenState.LISTENING: "Listening", ListenState.FINISHING: "Finishing", ListenState.IDLE: "Idle"}
_FLOOR_DB = -60.0


def supported() -> bool:
    """Whether a window can be shown here without taking the focus (X11 yes, Wayland no)."""
    return QGuiApplication.platformName() not in ("wayland", "wayland-egl")


class Indicator(QWidget):
    """Shown while listening or finishing, hidden when idle. ``set_level(db)`` from Level events."""

    def __init__(self, route_label: str = "", sounds: bool = False) -> None:
        super().__init__(None, FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWindowTitle("Amanuensis — dictating")
        self.route_label = route_label
        self.sounds = sounds
        self.state = ListenState.IDLE
        self.level = 0.0  # 0..1
        self.resize(220, 44)

    def set_state(self, state: ListenState) -> None:
        if state is self.state:
            return
        was_idle = self.state is ListenState.IDLE
        self.state = state
        if state is ListenState.IDLE:
            self.hide()
            if self.sounds:
                play_tone(stop=True)
        else:
            if was_idle:
                self._place()
                self.show()
                if self.sounds:
                    play_tone(stop=False)
            self.update()

    def set_level(self, db: float) -> None:
        self.level = min(1.0, max(0.0, (db - _FLOOR_DB) / -_FLOOR_DB))
        if self.isVisible():
            self.update()

    def _place(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(area.center().x() - self.width() // 2, area.bottom() - self.height() - 40)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(30, 30, 30, 235))
        colour = _COLOURS[self.state]
        p.setBrush(colour)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QRectF(12, 14, 16, 16))
        p.setPen(QColor("white"))
        text = _LABELS[self.state] + (f" · {self.route_label}" if self.route_label else "")
        p.drawText(QRectF(36, 4, self.width() - 44, 22), Qt.AlignmentFlag.AlignVCenter, text)
        bar = QRectF(36, 30, self.width() - 48, 6)
        p.fillRect(bar, QColor(80, 80, 80))
        p.fillRect(QRectF(bar.x(), bar.y(), bar.width() * self.level, bar.height()), colour)
        p.end()


def play_tone(stop: bool) -> None:
    """A short rising (start) or falling (stop) tone on the default output; nothing when there is none."""
    try:
        import numpy as np
        import sounddevice as sd

        rate = 24000
        t = np.arange(int(rate * 0.09)) / rate
        freq = np.linspace(880, 660, t.size) if stop else np.linspace(660, 880, t.size)
        tone = 0.2 * np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.hanning(t.size)
        sd.play(tone.astype(np.float32), rate)
    except Exception as exc:  # no sound card, no PortAudio: the tone is optional
        logger.info("No start/stop tone: %s", exc)
