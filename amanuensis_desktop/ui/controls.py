"""The window's actions (menus and shortcuts) and its dictation bar (start button, device, level, buttons)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QMainWindow, QPushButton, QStyle, QWidget

from .dictation import DictationState
from .icons import icon
from .indicators import DeviceCombo
from .settings_store import Key, SettingsStore
from .widgets import LevelMeter

_BUTTON_TEXT = {
    DictationState.IDLE: "Start",
    DictationState.STARTING: "Starting…",
    DictationState.LISTENING: "Stop",
    DictationState.FINISHING: "Finishing…",
}


_Keys = QKeySequence | QKeySequence.StandardKey | str


def _action(window: QMainWindow, text: str, handler: Callable[[], None], *keys: _Keys) -> QAction:
    action = QAction(text, window)
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(handler)
    return action


class WindowActions:
    """The File and Dictation menus of ``window``; each action calls its handler."""

    def __init__(
        self,
        window: QMainWindow,
        *,
        toggle: Callable[[], None],
        copy_all: Callable[[], None],
        clear: Callable[[], None],
        save: Callable[[], None],
        add_files: Callable[[], None],
        settings: Callable[[], None],
        quit: Callable[[], None],
    ):
        self.start = _action(window, "Start dictation", toggle, "Ctrl+Space", "F9")
        self.start.setIcon(icon("tray-listening"))
        self.start.setObjectName("start-action")
        self.start.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        window.addAction(self.start)
        self.copy = _action(window, "Copy all", copy_all, "Ctrl+Shift+C")
        self.clear = _action(window, "Clear", clear)
        self.save = _action(window, "Save transcript as…", save, QKeySequence.StandardKey.Save)
        self.add_files = _action(window, "Transcribe files…", add_files, QKeySequence.StandardKey.Open)
        self.settings = _action(window, "Settings…", settings, "Ctrl+,")
        self.quit = _action(window, "Quit", quit, QKeySequence.StandardKey.Quit)
        menu = window.menuBar().addMenu("&File")
        for a in (self.add_files, self.save, None, self.settings, None, self.quit):
            menu.addSeparator() if a is None else menu.addAction(a)
        menu = window.menuBar().addMenu("&Dictation")
        for a in (self.start, self.copy, self.clear):
            menu.addAction(a)

    def show_state(self, state: DictationState) -> None:
        self.start.setText("Stop dictation" if state.active else "Start dictation")
        self.start.setEnabled(state is not DictationState.FINISHING)


class DictationBar(QWidget):
    """Start/stop, the input device, the level meter, copy-sentences, and buttons for the common actions."""

    def __init__(
        self, store: SettingsStore, actions: WindowActions, toggle: Callable[[], None], parent: QWidget | None = None
    ):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start-button")
        self.start_button.setIcon(icon("tray-listening"))
        self.start_button.setMinimumWidth(96)
        self.start_button.setToolTip("Start or stop dictation (Ctrl+Space or F9)")
        self.start_button.setAccessibleName("Start or stop dictation")
        self.start_button.clicked.connect(toggle)
        row.addWidget(self.start_button)
        self.device_combo = DeviceCombo(store)
        row.addWidget(self.device_combo)
        self.level = LevelMeter()
        self.level.setAccessibleName("Input level")
        row.addWidget(self.level)
        row.addStretch(1)
        self.clipboard_box = QCheckBox("Copy sentences")
        self.clipboard_box.setToolTip("Copy each final sentence to the clipboard as it is transcribed")
        self.clipboard_box.setChecked(bool(store.get(Key.COPY_FINALS_TO_CLIPBOARD)))
        self.clipboard_box.toggled.connect(lambda on: store.update({Key.COPY_FINALS_TO_CLIPBOARD: on}))
        row.addWidget(self.clipboard_box)
        pixmaps = QStyle.StandardPixmap
        for action, std, text in (
            (actions.copy, pixmaps.SP_FileDialogDetailedView, "Copy all"),
            (actions.clear, pixmaps.SP_DialogResetButton, "Clear"),
            (actions.save, pixmaps.SP_DialogSaveButton, "Save as…"),
        ):
            b = QPushButton(text)
            b.setIcon(self.style().standardIcon(std))
            keys = action.shortcut().toString()
            b.setToolTip(action.toolTip() + (f" ({keys})" if keys else ""))
            b.clicked.connect(action.trigger)
            row.addWidget(b)
        settings_button = QPushButton("Settings…")
        settings_button.setToolTip("Settings (Ctrl+,)")
        settings_button.clicked.connect(actions.settings.trigger)
        row.addWidget(settings_button)

    def show_state(self, state: DictationState) -> None:
        self.start_button.setText(_BUTTON_TEXT[state])
        finishing = state is DictationState.FINISHING
        self.start_button.setIcon(
            icon("tray-idle" if state.active else "tray-transcribing" if finishing else "tray-listening")
        )
        self.start_button.setEnabled(not finishing)
        self.device_combo.setEnabled(state is DictationState.IDLE)
