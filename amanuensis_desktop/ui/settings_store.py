"""The app's settings persisted with QSettings (names and defaults in amanuensis_desktop.settings)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .. import settings as S


class SettingsStore:
    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings if qsettings is not None else QSettings(QSettings.IniFormat, QSettings.UserScope,
                                                                   S.APP_NAME, S.APP_NAME)

    def get(self, key: str):
        return S.validate({key: self.q.value(key, S.DEFAULTS[key])})[key]

    def set(self, key: str, value) -> None:
        self.q.setValue(key, S.coerce(key, value))

    def all(self) -> dict:
        return {k: self.get(k) for k in S.DEFAULTS}

    def update(self, values: dict) -> None:
        for k, v in values.items():
            self.set(k, v)
        self.q.sync()

    def autosave_dir(self):
        return S.autosave_dir(self.get("autosave_dir"))

    # window geometry and other UI state
    def ui_value(self, key: str, default=None):
        return self.q.value(f"ui/{key}", default)

    def set_ui_value(self, key: str, value) -> None:
        self.q.setValue(f"ui/{key}", value)
