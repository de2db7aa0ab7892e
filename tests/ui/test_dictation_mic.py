"""Real dictation: jfk.wav played into a virtual microphone is transcribed into the running window."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from PySide6.QtCore import Qt  # noqa: E402

from amanuensis_desktop.live.events import Level, Partial  # noqa: E402
from amanuensis_desktop.ui.dictation import DictationState  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402
from tests.ui.support import JFK_REF, make_window  # noqa: E402


def test_dictate_jfk_into_the_window(qtbot, tmp_path, cpu_engine, shared_audio, virtual_mic):
    w = make_window(qtbot, tmp_path, cpu_engine, input_device=virtual_mic.device)
    partials, levels, states = [], [], []

    def watch(ev):
        if isinstance(ev, Partial):
            partials.append((w.view.partial_text, w.view.final_text()))
        elif isinstance(ev, Level):
            levels.append(ev.db)

    w.dictation.live_event.connect(watch)
    w.state_changed.connect(states.append)
    qtbot.mouseClick(w.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.LISTENING, timeout=15000)
    assert w.start_button.text() == "Stop"
    player = virtual_mic.play(shared_audio / "jfk.wav", blocking=False)
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=40000)
    qtbot.wait(300)
    # stop with the keyboard shortcut; stop() runs off the GUI thread and finishes what was captured
    w.activateWindow()
    qtbot.waitActive(w)
    qtbot.keyClick(w.windowHandle(), Qt.Key_F9)
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.IDLE, timeout=40000)

    text = w.transcript_text()
    assert wer(JFK_REF, text) <= 0.10, text
    assert w.view.partial_text == ""
    assert partials, "no partial text was shown while speaking"
    assert levels and max(levels) > -40  # the meter moved
    # the indicator names the backend that really computed, from the pipeline's BackendInfo
    assert w.backend_label.text() == cpu_engine.backend.label
    assert "computed by" in w.backend_label.toolTip()
    assert w.latency_label.text().startswith("Latency ") and "backlog" in w.latency_label.text()
    assert "listening" in states and states[-1] == "idle"
    # autosaved continuously
    data = json.loads(w.autosave.path.read_text())
    assert wer(JFK_REF, " ".join(s["text"] for s in data["segments"])) <= 0.10
    assert data["closed"] is False
    seg_times = [(s.start, s.end) for s in w.segments]
    assert all(a < b for a, b in seg_times) and seg_times == sorted(seg_times)


def test_unplugged_microphone_keeps_words_and_resumes(qtbot, tmp_path, cpu_engine, shared_audio, virtual_mic):
    """The PulseAudio source is really unloaded mid-sentence and loaded again: the words already said are kept,
    the window shows one sentence, keeps listening, and hears the microphone again by itself (no click)."""
    w = make_window(qtbot, tmp_path, cpu_engine, input_device=virtual_mic.device)
    notices: list[str] = []
    w.dictation.notice.connect(notices.append)
    qtbot.mouseClick(w.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.LISTENING, timeout=15000)
    player = virtual_mic.play(shared_audio / "jfk.wav", blocking=False)
    try:
        qtbot.wait(6000)  # "And so my fellow Americans, ask not what your ..." has been said
        virtual_mic.kill_source()
        qtbot.waitUntil(lambda: w.error_bar.isVisible(), timeout=10000)
    finally:
        player.kill()
        player.wait()
        virtual_mic.restore()
    message = w.error_bar.label.text()
    assert "microphone" in message and message.endswith(".") and "\n" not in message and message.count(". ") == 0
    assert "kept" in message
    # the words said before the unplug are in the window (the open segment was closed with them)
    qtbot.waitUntil(lambda: "fellow americans" in w.transcript_text().lower(), timeout=20000)
    assert w.dictation_state is DictationState.LISTENING  # still dictating: nothing to click
    qtbot.waitUntil(lambda: bool(notices), timeout=10000)
    assert "again" in notices[-1]
    before = w.transcript_text()
    qtbot.wait(500)
    virtual_mic.play(shared_audio / "turn_on_the_living_room_lamp.wav")
    qtbot.waitUntil(lambda: "lamp" in w.transcript_text().lower(), timeout=20000)
    assert w.transcript_text().startswith(before.strip()[:40])  # nothing already recognised was lost
    qtbot.mouseClick(w.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.IDLE, timeout=20000)
    assert "fellow americans" in w.transcript_text().lower()
