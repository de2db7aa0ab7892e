"""The app's settings persisted with QSettings (defaults and validation in amanuensis_desktop.settings)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from .. import settings as S


class _Name(str, Enum):
    """A name that is also its string (a dict key, a QSettings key) on every Python version."""

    def __str__(self) -> str:
        return str(self.value)


class Key(_Name):
    """The settings' keys: the keys of :data:`amanuensis_desktop.settings.DEFAULTS` (a test keeps them equal)."""

    MODEL = "model"
    BACKEND = "backend"
    INPUT_DEVICE = "input_device"
    VAD_AGGRESSIVENESS = "vad_aggressiveness"
    SPEECH_GATE = "speech_gate"
    VAD_THRESHOLD_PERCENT = "vad_threshold_percent"
    COPY_FINALS_TO_CLIPBOARD = "copy_finals_to_clipboard"
    CLIPBOARD_SECRET = "clipboard_secret"
    CLOSE_TO_TRAY = "close_to_tray"
    AUTOSAVE_DIR = "autosave_dir"
    MARK_UNSURE_WORDS = "mark_unsure_words"
    UNSURE_WORD_PERCENT = "unsure_word_percent"
    WORDS_PER_CUE = "words_per_cue"
    LANGUAGE = "language"
    TASK = "task"
    OUTPUT_MODE = "output_mode"
    SPOKEN_COMMANDS = "spoken_commands"
    TOGGLE_HOTKEY = "toggle_hotkey"
    PTT_HOTKEY = "ptt_hotkey"
    LISTENING_INDICATOR = "listening_indicator"
    START_STOP_SOUNDS = "start_stop_sounds"
    FIRST_RUN_DONE = "first_run_done"


class UiKey(_Name):
    """Window state kept between runs (stored under ``ui/``)."""

    GEOMETRY = "geometry"
    EXPORT_DIR = "export_dir"
    EXPORT_FORMAT = "export_format"
    OPEN_DIR = "open_dir"


class SettingsStore:
    def __init__(self, qsettings: QSettings | None = None):
        self.q = (
            qsettings
            if qsettings is not None
            else QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, S.APP_NAME, S.APP_NAME)
        )

    def get(self, key: str) -> Any:
        return S.validate({str(key): self.q.value(str(key), S.DEFAULTS[key])})[str(key)]

    def set(self, key: str, value: Any) -> None:
        self.q.setValue(str(key), S.coerce(key, value))

    def all(self) -> dict[str, Any]:
        return {k: self.get(k) for k in S.DEFAULTS}

    def update(self, values: dict[str, Any]) -> None:
        for k, v in values.items():
            self.set(k, v)
        self.q.sync()

    def speech_threshold(self) -> float | None:
        """The speech gate's threshold (0-1), or None when the gate is off."""
        return S.speech_threshold(self.all())

    def words_per_cue(self) -> int | None:
        """Subtitle cues of at most this many timed words; None: a cue per segment."""
        return int(self.get(Key.WORDS_PER_CUE)) or None

    def autosave_dir(self) -> Path:
        return S.autosave_dir(self.get(Key.AUTOSAVE_DIR))

    # window geometry and other UI state
    def ui_value(self, key: UiKey, default: Any = None) -> Any:
        return self.q.value(f"ui/{key}", default)

    def set_ui_value(self, key: UiKey, value: Any) -> None:
        self.q.setValue(f"ui/{key}", value)
