"""The first-run bar: once, what the app needs (the microphone, the shortcut, the model); remembered in the
settings (:attr:`Key.FIRST_RUN_DONE`) when the user acknowledges it, never shown again after that."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from .settings_store import Key
from .widgets import InfoBar

EMBEDDED_MODEL = "Whisper tiny.en, built in"
ACKNOWLEDGE = "Got it"


def first_run_text(shortcuts: Sequence[QKeySequence], model: str, hotkey: str = "") -> str:
    keys = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in shortcuts) or "the Start button"
    return (
        "<b>Welcome to Amanuensis.</b> It listens to your <b>microphone</b> (the system's default input, or the one "
        f"chosen above) only while you dictate. Start and stop with <b>{keys}</b> while this window has focus, "
        + (f"with <b>{hotkey}</b> in any app, " if hotkey else "")
        + f"or from the tray icon. Speech becomes text on this computer with <b>{model}</b>; nothing is sent "
        "anywhere. Settings… changes the microphone, the model, the backend"
        + ("." if hotkey else " and sets a hotkey that works in every app.")
    )


class FirstRunBar(InfoBar):
    """Shown by :meth:`offer` until the user presses "Got it" (which stores the acknowledgement)."""

    def __init__(self, store: Any, parent: QWidget | None = None):
        super().__init__("info", parent)
        self.store = store

    def offer(self, shortcuts: Sequence[QKeySequence]) -> None:
        if self.store.get(Key.FIRST_RUN_DONE):
            self.hide()
            return
        model = self.store.get(Key.MODEL) or EMBEDDED_MODEL
        text = first_run_text(shortcuts, model, self.store.get(Key.TOGGLE_HOTKEY))
        self.show_message(text, [(ACKNOWLEDGE, self.acknowledge)], closable=False)

    def acknowledge(self) -> None:
        self.store.update({Key.FIRST_RUN_DONE: True})
        self.hide()
