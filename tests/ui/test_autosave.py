"""Nothing lost: the app killed mid-dictation (SIGKILL) offers the autosaved text back at the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from PySide6.QtCore import Qt  # noqa: E402

from tests.ui.support import ROOT, make_window  # noqa: E402


def _session_files(folder):
    return sorted(folder.glob("session-*.json")) if folder.is_dir() else []


def _recording_clients(mic) -> list[str]:
    """Source outputs that belong to a client (the remapped source itself records from the sink's monitor)."""
    rows = [line.split("\t") for line in mic.pactl("list", "short", "source-outputs").stdout.splitlines()]
    return [r[0] for r in rows if len(r) > 2 and r[2] not in ("", "-")]


def _saved_words(folder) -> tuple[int, str]:
    for f in _session_files(folder):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        text = " ".join(s["text"] for s in data["segments"])
        return len(data["segments"]), text
    return 0, ""


def test_killed_mid_dictation_offers_the_text_back(qtbot, tmp_path, shared_audio, virtual_mic, cpu_engine):
    data = tmp_path / "data"
    autosave = data / "autosave"
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        AMANUENSIS_DATA_DIR=str(data),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PULSE_SERVER=virtual_mic.env["PULSE_SERVER"],
        XDG_RUNTIME_DIR=virtual_mic.env["XDG_RUNTIME_DIR"],
    )
    log = open(tmp_path / "app.log", "wb")
    app = subprocess.Popen(
        [sys.executable, "-m", "amanuensis_desktop.ui.app", "--dictate", "--backend", "cpu"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    player = None
    try:
        deadline = time.monotonic() + 30
        while not _recording_clients(virtual_mic):
            assert app.poll() is None, (tmp_path / "app.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the app never opened the microphone"
            time.sleep(0.1)
        player = virtual_mic.play(shared_audio / "jfk.wav", blocking=False)
        deadline = time.monotonic() + 30
        while _saved_words(autosave)[0] < 1:  # the first sentence is final and autosaved...
            assert time.monotonic() < deadline, "nothing was autosaved"
            time.sleep(0.05)
        assert player.poll() is None  # ...while the speaker is still speaking: kill it mid-dictation
        app.send_signal(signal.SIGKILL)
        app.wait(10)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        if player is not None and player.poll() is None:
            player.kill()
            player.wait()
        log.close()
    n, saved = _saved_words(autosave)
    assert "Americans" in saved
    raw = json.loads(_session_files(autosave)[0].read_text())
    assert raw["closed"] is False and raw["pid"] == app.pid

    # the next start offers it back
    w = make_window(qtbot, tmp_path, cpu_engine)
    assert w.recovery_bar.isVisible()
    assert "did not close normally" in w.recovery_bar.label.text()
    w.add_final("Said after the restart.", 0.0, 1.0)
    qtbot.mouseClick(w.recovery_bar.button("Restore"), Qt.LeftButton)
    assert not w.recovery_bar.isVisible()
    text = w.transcript_text()
    assert text.startswith(saved.strip()) and text.endswith("Said after the restart.")
    assert json.loads(_session_files(autosave)[0].read_text())["settled"] == "restored"
    times = [(s.start, s.end) for s in w.segments]
    assert times == sorted(times)
    w.quit_app()
    # restored and closed normally: nothing to offer any more
    again = make_window(qtbot, tmp_path, cpu_engine, show=False)
    assert not again.recovery_bar.isVisibleTo(again)
    again.quit_app()


def test_clean_quit_and_discard(qtbot, tmp_path, cpu_engine):
    w = make_window(qtbot, tmp_path, cpu_engine, show=False)
    w.add_final("Closed normally.", 0, 1)
    w.quit_app()
    assert json.loads(w.autosave.path.read_text())["closed"] is True
    w2 = make_window(qtbot, tmp_path, cpu_engine, show=False)
    assert not w2.recovery_bar.isVisibleTo(w2)
    # an unclosed file from a process that is gone is offered; Discard keeps the file but stops offering it
    orphan = tmp_path / "data" / "autosave" / "session-20200101-000000-1.json"
    orphan.write_text(
        json.dumps(
            {
                "pid": 999999999,
                "closed": False,
                "started": "2020-01-01T00:00:00",
                "segments": [{"start": 0, "end": 1, "text": "Lost words."}],
                "partial": "and more",
            }
        )
    )
    w3 = make_window(qtbot, tmp_path, cpu_engine, show=False)
    assert w3.recovery_bar.isVisibleTo(w3) and "4 unsaved words" in w3.recovery_bar.label.text()
    w3.discard_orphans()
    assert orphan.exists() and json.loads(orphan.read_text())["settled"] == "discarded"
    assert w3.transcript_text() == ""
    w4 = make_window(qtbot, tmp_path, cpu_engine, show=False)
    assert not w4.recovery_bar.isVisibleTo(w4)
