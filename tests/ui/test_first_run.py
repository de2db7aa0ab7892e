"""The first-run bar: shown once in a real window (offscreen), remembered in the real settings file."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from amanuensis_desktop.ui.settings_store import Key, SettingsStore

from .support import make_window


def test_first_run_bar_explains_once_and_is_remembered(qtbot, tmp_path, cpu_engine):
    window = make_window(qtbot, tmp_path, cpu_engine)
    bar = window.first_run_bar
    assert bar.isVisible()
    text = bar.label.text()
    assert "microphone" in text and "Ctrl+Space" in text and "F9" in text and "tiny.en" in text
    assert "sets a hotkey that works in every app" in text
    qtbot.mouseClick(bar.button("Got it"), Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    # stored in the settings file itself: a new store on the same file reads it
    reread = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    assert reread.get(Key.FIRST_RUN_DONE) is True
    window.close()

    again = make_window(qtbot, tmp_path, cpu_engine, first_run_done=True)
    assert not again.first_run_bar.isVisible()
    again.close()


def test_first_run_bar_names_the_chosen_model_and_hotkey(qtbot, tmp_path, cpu_engine):
    window = make_window(qtbot, tmp_path, cpu_engine, model="/models/whisper-base", toggle_hotkey="ctrl+alt+d")
    text = window.first_run_bar.label.text()
    assert "/models/whisper-base" in text and "ctrl+alt+d</b> in any app" in text
    window.close()
