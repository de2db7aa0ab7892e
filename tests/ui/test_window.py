"""The main window without a microphone: transcript view, status indicators, settings, export, autosave."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from amanuensis_desktop.live.events import BackendInfo, Backlog, Final, Level, Partial  # noqa: E402
from amanuensis_desktop.ui.dictation import DictationState  # noqa: E402
from tests.ui.support import make_store, make_window, parse_srt  # noqa: E402


def _format_at(view, pos):
    cur = QTextCursor(view.document())
    cur.setPosition(pos + 1)
    return cur.charFormat()


def test_partial_is_grey_italic_and_replaced_in_place(qtbot, tmp_path, cpu_engine):
    w = make_window(qtbot, tmp_path, cpu_engine)
    w.dictation.route(BackendInfo("CPU · numpy"))
    w.dictation.route(Partial(0, "And so my", " fellow", 0.0))
    assert w.view.toPlainText() == "And so my fellow"
    fmt = _format_at(w.view, 0)
    assert fmt.fontItalic() and fmt.foreground().color().name() == "#7a7a7a"
    w.dictation.route(Partial(0, "And so my fellow", " Americans ask", 0.0))
    assert w.view.toPlainText() == "And so my fellow Americans ask"  # replaced, not appended
    w.dictation.route(Final(0, "And so my fellow Americans,", 0.0, 2.0, 0.31))
    assert w.view.toPlainText() == "And so my fellow Americans,"
    assert not _format_at(w.view, 0).fontItalic()
    w.dictation.route(Partial(1, "ask not", "", 2.5))
    assert w.view.toPlainText() == "And so my fellow Americans, ask not"
    assert w.view.final_text() == "And so my fellow Americans,"
    assert _format_at(w.view, len("And so my fellow Americans, ")).fontItalic()
    w.dictation.route(Final(1, "", 2.5, 3.0, 0.1))  # noise: the partial goes, nothing is added
    assert w.view.toPlainText() == "And so my fellow Americans,"
    w.dictation.route(Final(2, "Ask not.", 9.0, 10.0, 0.2))  # a long pause starts a paragraph
    assert w.view.toPlainText() == "And so my fellow Americans,\n\nAsk not."
    w.dictation.route(Backlog(1.25))
    w.dictation.route(Level(0.1, -20.0))
    assert w.latency_label.text() == "Latency 0.20 s · backlog 1.2 s"
    assert w.level.db == -20.0
    assert w.backend_label.text() == "CPU · numpy"
    tip = w.backend_label.toolTip()
    for name in ("npu", "openvino", "cpu"):
        assert f"<b>{name}</b>" in tip
    assert [s.text for s in w.segments] == ["And so my fellow Americans,", "Ask not."]


def test_autoscroll_stops_when_the_user_scrolls_up(qtbot, tmp_path, cpu_engine):
    w = make_window(qtbot, tmp_path, cpu_engine)
    w.resize(600, 300)
    for i in range(60):
        w.add_final(f"Sentence number {i} of a long dictation that fills the view.", i * 5.0, i * 5.0 + 4)
    bar = w.view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.setValue(bar.maximum() // 3)  # the user reads something above
    kept = bar.value()
    w.dictation.route(Partial(99, "more words", " coming", 400.0))
    w.add_final("Yet another sentence.", 400.0, 401.0)
    assert bar.value() == kept
    bar.setValue(bar.maximum())  # back at the end: following resumes
    w.add_final("And the last one.", 402.0, 403.0)
    assert bar.value() == bar.maximum()


def test_copy_each_final_to_clipboard_copy_all_and_clear(qtbot, tmp_path, cpu_engine):
    w = make_window(qtbot, tmp_path, cpu_engine)
    clip = QApplication.clipboard()
    clip.setText("before")
    w.add_final("First sentence.", 0, 1)
    assert clip.text() == "before"
    w.clipboard_box.setChecked(True)
    assert w.store.get("copy_finals_to_clipboard") is True
    w.add_final("Second sentence.", 1, 2)
    assert clip.text() == "Second sentence."
    w.copy_all()
    assert clip.text() == "First sentence. Second sentence."
    saved = w.autosave.path
    w.clear_transcript()
    assert w.view.toPlainText() == "" and w.segments == []
    assert json.loads(saved.read_text())["closed"] is True  # the cleared text is kept on disk


def test_save_as_writes_valid_srt_and_every_format(qtbot, tmp_path, cpu_engine, monkeypatch):
    w = make_window(qtbot, tmp_path, cpu_engine)
    w.add_final("And so my fellow Americans,", 0.0, 2.5)
    w.add_final("ask not what your country can do for you.", 3.0, 6.2)
    target = tmp_path / "out" / "dictation"
    target.parent.mkdir()
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "SubRip subtitles (*.srt)"))
    )
    w.save_transcript_as()
    srt = (target.parent / "dictation.srt").read_text()
    cues = parse_srt(srt)
    assert [c[2] for c in cues] == ["And so my fellow Americans,", "ask not what your country can do for you."]
    assert cues[0][:2] == (0.0, 2.5) and cues[1][:2] == (3.0, 6.2)
    for fmt in ("txt", "vtt", "json"):
        out = w.export_segments(w.segments, tmp_path / f"t.{fmt}")
        assert "country" in out.read_text()
    assert json.loads((tmp_path / "t.json").read_text())["segments"][1]["end"] == 6.2
    assert (tmp_path / "t.vtt").read_text().startswith("WEBVTT")
    from amanuensis_desktop.errors import UserError

    with pytest.raises(UserError, match="Cannot write"):
        w.export_segments(w.segments, tmp_path / "missing-folder" / "x.srt")


def test_settings_dialog_persists_with_qsettings(qtbot, tmp_path, cpu_engine, monkeypatch):
    w = make_window(qtbot, tmp_path, cpu_engine)
    from amanuensis_desktop.ui.settings_dialog import SettingsDialog

    w.device_combo.set_devices(
        [{"index": 3, "name": "USB Mic", "channels": 1, "default_samplerate": 48000.0, "is_default": False}]
    )
    dlg = SettingsDialog(w.store.all(), w.device_combo.devices, w.statuses, "/default/autosave", w)
    qtbot.addWidget(dlg)
    assert dlg.model.placeholderText() == "embedded tiny.en"
    assert [dlg.backend.itemData(i) for i in range(dlg.backend.count())] == ["auto", "cpu", "openvino", "npu"]
    dlg.device.setCurrentIndex(dlg.device.findData("USB Mic"))
    dlg.vad.setValue(3)
    assert dlg.speech_gate.isChecked() and dlg.vad_threshold.value() == 0.5
    dlg.vad_threshold.setValue(0.65)
    dlg.clipboard.setChecked(True)
    dlg.close_to_tray.setChecked(False)
    dlg.autosave.setText(str(tmp_path / "elsewhere"))
    dlg.language.set_value("de", "translate")
    dlg.output.mode.setCurrentIndex(dlg.output.mode.findData("clipboard"))
    dlg.output.commands.setChecked(False)
    assert dlg.words_per_cue.text() == "whole segments"  # the default: a subtitle cue per segment
    dlg.words_per_cue.setValue(3)
    values = dlg.values()
    reloads = []
    monkeypatch.setattr(w, "load_engine", lambda: reloads.append(1))
    w.apply_settings(values)
    assert reloads == []  # model and backend unchanged: no reload
    w.add_final("Saved in the new folder.", 0, 1)
    assert list((tmp_path / "elsewhere").glob("session-*.json"))
    again = make_store(tmp_path)  # a fresh QSettings on the same file
    assert again.all() == {
        "model": "",
        "backend": "auto",
        "input_device": "USB Mic",
        "vad_aggressiveness": 3,
        "speech_gate": True,
        "vad_threshold_percent": 65,
        "copy_finals_to_clipboard": True,
        "clipboard_secret": False,
        "close_to_tray": False,
        "autosave_dir": str(tmp_path / "elsewhere"),
        "mark_unsure_words": True,  # the default
        "unsure_word_percent": 50,
        "words_per_cue": 3,
        "language": "de",
        "task": "translate",
        "output_mode": "clipboard",
        "spoken_commands": False,
        "toggle_hotkey": "",
        "ptt_hotkey": "",
        "listening_indicator": True,
        "start_stop_sounds": False,
        "first_run_done": False,  # the settings dialog leaves it alone
    }
    assert w.anywhere.settings.mode.value == "clipboard" and not w.anywhere.settings.commands
    assert w.device_combo.currentData() == "USB Mic"
    live_options = w._live_options()  # dictation and file jobs use the chosen language and task
    assert (live_options.language, live_options.task) == ("de", "translate")
    assert w._language_options() == {"language": "de", "task": "translate"}
    assert w._live_options().gate.threshold == 0.65 and w._live_options().gate.enabled
    dlg.speech_gate.setChecked(False)
    assert not dlg.vad_threshold.isEnabled()
    w.apply_settings(dlg.values())
    assert not w._live_options().gate.enabled and w.store.speech_threshold() is None
    values["backend"] = "cpu"
    w.apply_settings(values)
    assert reloads == [1]  # a new backend preference reloads the engine (off the GUI thread)


def test_settings_validate_bad_stored_values(tmp_path):
    q = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    q.setValue("backend", "gpu-magic")
    q.setValue("vad_aggressiveness", "7")
    q.setValue("vad_threshold_percent", "150")
    q.setValue("close_to_tray", "false")
    q.sync()
    store = make_store(tmp_path)
    assert store.get("backend") == "auto" and store.get("vad_aggressiveness") == 2
    assert store.get("close_to_tray") is False
    assert store.get("vad_threshold_percent") == 50 and store.speech_threshold() == 0.5


def test_window_loads_its_engine_off_the_gui_thread(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, None, backend="cpu")
    assert w.engine is None and w.backend_label.text() == "Backend: loading…"
    with qtbot.waitSignal(w.engine_ready, timeout=30000):
        pass
    assert w.backend_label.text() == f"{w.engine.backend.label} (ready)"
    assert "cpu" in w.backend_label.toolTip()


def test_engine_failure_is_one_sentence(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, None, model=str(tmp_path / "no-such-model"))
    qtbot.waitUntil(lambda: w.backend_label.text() == "Backend: none", timeout=30000)
    msg = w.error_bar.label.text()
    assert msg and "Traceback" not in msg and "\n" not in msg
    w.start_dictation()
    assert w.dictation_state is DictationState.IDLE


def test_power_indicator_reads_recorded_sysfs(qtbot, tmp_path, cpu_engine):
    from pathlib import Path

    from amanuensis_desktop.ui.main_window import MainWindow

    root = Path(__file__).parents[1] / "data" / "power" / "battery_power_now"
    w = MainWindow(make_store(tmp_path), engine=cpu_engine, power_root=str(root))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.power_label.text().startswith("Power: 7.4 W · battery"), timeout=5000)
    assert "system draw from the battery" in w.power_label.toolTip()


def test_icons_are_found_and_render():
    from amanuensis_desktop.ui.icons import NAMES, icon, icon_path

    for name in NAMES:
        assert icon_path(name).is_file()
        assert not icon(name).pixmap(32, 32).isNull()


def test_shortcut_starts_and_stops(qtbot, tmp_path, cpu_engine, monkeypatch):
    w = make_window(qtbot, tmp_path, cpu_engine)
    calls = []
    monkeypatch.setattr(w, "toggle_dictation", lambda: calls.append(1))
    assert {s.toString() for s in w.start_action.shortcuts()} == {"Ctrl+Space", "F9"}
    w.start_action.triggered.disconnect()
    w.start_action.triggered.connect(w.toggle_dictation)
    w.activateWindow()
    qtbot.waitActive(w)
    w.view.setFocus()
    qtbot.wait(100)
    qtbot.keyClick(w.windowHandle(), Qt.Key_F9)
    assert calls == [1]
    qtbot.keyClick(w.windowHandle(), Qt.Key_Space, Qt.ControlModifier)
    assert calls == [1, 1]


def test_qt_binding_keeps_none_and_true_alive(qtbot):
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per void Qt call (and to True per emit) until
    the interpreter aborts; pyproject.toml excludes it. This guards that the installed binding is sound."""
    import sys

    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QWidget

    class Probe(QObject):
        sig = Signal()

    w, probe = QWidget(), Probe()
    qtbot.addWidget(w)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(5000):
        w.update()
        probe.sig.emit()
    assert sys.getrefcount(None) >= none_before - 50
    assert sys.getrefcount(True) >= true_before - 50


def test_the_window_routes_engine_loads_through_its_keeper(qtbot, tmp_path, cpu_engine):
    """The keeper's own rules are tested in test_engines.py; here: the window shows what the keeper holds."""
    w = make_window(qtbot, tmp_path, cpu_engine, show=False, backend="cpu")
    assert w.engine is cpu_engine and w.keeper.engine is cpu_engine
    assert w.backend_label.text() == f"{cpu_engine.backend.label} (ready)"
    w.load_engine()  # a new engine replaces the caller's (which the window never closes)
    assert w.engine is None and w.keeper.loading and w.backend_label.text() == "Backend: loading…"
    with qtbot.waitSignal(w.engine_ready, timeout=60000) as ready:
        pass
    assert w.engine is ready.args[0] and w.engine is not cpu_engine
    assert w.keeper.open_engines() == [w.engine]  # the caller's engine is not the window's to close


def test_quit_while_dictation_is_starting_stops_it_before_quitting(qtbot, tmp_path, cpu_engine, monkeypatch):
    import time

    import amanuensis_desktop.live as live

    calls = []

    class SlowPipeline:
        def __init__(self, engine, options, on_event=None):
            self.on_event = on_event

        def start(self):
            time.sleep(0.5)  # the microphone opens slowly
            calls.append("start")

        def stop(self):
            calls.append("stop")
            self.on_event(Final(0, "Last words.", 0.0, 1.0, 0.1))

    monkeypatch.setattr(live, "LivePipeline", SlowPipeline)
    w = make_window(qtbot, tmp_path, cpu_engine, show=False)
    w.start_dictation()
    assert w.dictation_state is DictationState.STARTING
    w.quit_app()
    assert not w.closed_for_real  # waits for the start to finish instead of quitting at once
    qtbot.waitUntil(lambda: w.closed_for_real, timeout=10000)
    assert calls == ["start", "stop"] and w.dictation_state is DictationState.IDLE
    assert [s.text for s in w.segments] == ["Last words."]


def test_setting_keys_are_the_settings_defaults():
    from amanuensis_desktop import settings as S
    from amanuensis_desktop.ui.settings_store import Key

    assert [k.value for k in Key] == list(S.DEFAULTS)
    assert f"{Key.BACKEND}" == str(Key.BACKEND) == "backend"  # usable wherever the name is a str
