"""The system-tray icon: its look follows the state; its menu starts/stops dictation, types the transcript into
the app in use, shows the window, quits."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from .icons import icon


class TrayState(str, Enum):
    """The app's look in the tray (and the window's ``state_changed``); names the icon ``tray-<state>``."""

    def __str__(self) -> str:
        return str(self.value)

    IDLE = "idle"
    LISTENING = "listening"  # dictation starting or listening
    TRANSCRIBING = "transcribing"  # dictation finishing, or file jobs running

    @staticmethod
    def of(listening: bool, transcribing: bool) -> TrayState:
        """Listening wins over transcribing (the microphone is on)."""
        if listening:
            return TrayState.LISTENING
        return TrayState.TRANSCRIBING if transcribing else TrayState.IDLE


_TIPS = {state: f"Amanuensis — {state.value}" for state in TrayState}


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    toggle_dictation = Signal()
    type_transcript = Signal()  # the reviewed transcript (or the window's selection) into the focused app
    show_window = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.state = TrayState.IDLE
        self.menu = QMenu()
        self.menu.setObjectName("tray-menu")
        self.dictation_action = QAction("Start dictation", self.menu)
        self.dictation_action.setObjectName("tray-dictation")
        self.type_action = QAction("Type the transcript", self.menu)
        self.type_action.setObjectName("tray-type-transcript")
        self.type_action.setToolTip("Type the reviewed transcript into the app you are in")
        self.show_action = QAction("Show window", self.menu)
        self.show_action.setObjectName("tray-show")
        self.quit_action = QAction("Quit", self.menu)
        self.quit_action.setObjectName("tray-quit")
        self.menu.addAction(self.dictation_action)
        self.menu.addAction(self.type_action)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.dictation_action.triggered.connect(self.toggle_dictation)
        self.type_action.triggered.connect(self.type_transcript)
        self.show_action.triggered.connect(self.show_window)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon = QSystemTrayIcon(icon("tray-idle"), self)
        self.icon.setContextMenu(self.menu)
        self.icon.setToolTip(_TIPS[TrayState.IDLE])
        self.icon.activated.connect(self._activated)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def is_visible(self) -> bool:
        return self.icon.isVisible()

    def set_state(self, state: TrayState, listening: bool) -> None:
        self.state = state
        self.icon.setIcon(icon(f"tray-{state.value}"))
        self.icon.setToolTip(_TIPS[state])
        self.dictation_action.setText("Stop dictation" if listening else "Start dictation")

    def notify(self, title: str, message: str) -> None:
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, message, icon("app"), 6000)

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_window.emit()
