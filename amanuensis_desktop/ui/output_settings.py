"""The "Dictate into other apps" part of the settings dialog: output mode, hotkeys, spoken commands."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLineEdit, QWidget

from .settings_store import Key

_MODE_TEXT = {
    "window": "Only this window",
    "type": "Type into the app I am using",
    "paste": "Paste into the app I am using (clipboard restored after 1 s)",
    "clipboard": "Keep the dictation on the clipboard",
}


class OutputSettingsBox(QGroupBox):
    def __init__(self, values: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__("Dictate into other apps", parent)
        form = QFormLayout(self)
        self.mode = QComboBox()
        for name, text in _MODE_TEXT.items():
            self.mode.addItem(text, name)
        self.mode.setCurrentIndex(max(0, self.mode.findData(values[Key.OUTPUT_MODE])))
        form.addRow("Final text goes to:", self.mode)
        self.toggle_key = QLineEdit(values[Key.TOGGLE_HOTKEY])
        self.toggle_key.setPlaceholderText("e.g. ctrl+alt+d (or bind `amanuensis toggle` in your desktop)")
        form.addRow("Start/stop hotkey:", self.toggle_key)
        self.ptt_key = QLineEdit(values[Key.PTT_HOTKEY])
        self.ptt_key.setPlaceholderText("e.g. F9: dictate while held")
        form.addRow("Push-to-talk key:", self.ptt_key)
        self.commands = QCheckBox('Obey "new line", "new paragraph" and "scratch that"')
        self.commands.setChecked(bool(values[Key.SPOKEN_COMMANDS]))
        form.addRow("", self.commands)
        self.indicator = QCheckBox("Show a small indicator while listening")
        self.indicator.setChecked(bool(values[Key.LISTENING_INDICATOR]))
        form.addRow("", self.indicator)
        self.sounds = QCheckBox("Play a short tone when dictation starts and stops")
        self.sounds.setChecked(bool(values[Key.START_STOP_SOUNDS]))
        form.addRow("", self.sounds)

    def values(self) -> dict[str, Any]:
        return {
            Key.OUTPUT_MODE: self.mode.currentData(),
            Key.TOGGLE_HOTKEY: self.toggle_key.text().strip(),
            Key.PTT_HOTKEY: self.ptt_key.text().strip(),
            Key.SPOKEN_COMMANDS: self.commands.isChecked(),
            Key.LISTENING_INDICATOR: self.indicator.isChecked(),
            Key.START_STOP_SOUNDS: self.sounds.isChecked(),
        }
