"""Dropped files become jobs that run off the GUI thread: progress, errors per row, export, cancel."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from amanuensis_desktop.ui.file_jobs import JobState  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402
from tests.ui.support import JFK_REF, make_window, parse_srt  # noqa: E402


def drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = window.rect().center()
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    ev = QDropEvent(
        pos.toPointF() if hasattr(pos, "toPointF") else pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier
    )
    QApplication.sendEvent(window, ev)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_drop_good_and_corrupt_files_window_stays_responsive(qtbot, tmp_path, cpu_engine, shared_audio, monkeypatch):
    w = make_window(qtbot, tmp_path, cpu_engine)
    qtbot.wait(500)  # let the first paint and start-up tasks settle before measuring
    corrupt = tmp_path / "broken.mp3"
    corrupt.write_bytes(b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 40)
    states = []
    w.state_changed.connect(states.append)

    gaps, last = [], [time.monotonic()]

    def tick():
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    drop(w, [corrupt, shared_audio / "jfk.mp3"])
    jobs = list(w.jobs.jobs.values())
    assert [j.name for j in jobs] == ["broken.mp3", "jfk.mp3"]
    qtbot.waitUntil(lambda: all(j.state in (JobState.DONE, JobState.FAILED) for j in jobs), timeout=60000)
    timer.stop()
    bad, good = jobs
    assert bad.state is JobState.FAILED and good.state is JobState.DONE
    # the bad file's row says why in one sentence; the good one went on
    row = w.files_panel.rows[bad.id]
    from amanuensis_desktop.ui.file_jobs import short_error

    assert row.status.text() == short_error(bad) and row.status.text().startswith("broken.mp3 ")
    assert str(tmp_path) not in row.status.text() and "Errno" not in row.status.text()
    assert "Traceback" not in bad.error and "\n" not in bad.error and bad.error.endswith(".")
    assert wer(JFK_REF, good.transcript.text) <= 0.10
    good_row = w.files_panel.rows[good.id]
    assert good_row.open_btn.isVisible() and good_row.export_btn.isVisible() and not good_row.cancel_btn.isVisible()
    assert good_row.bar.value() == 1000
    # never frozen: the event loop ticked at least every 50 ms while the file transcribed
    assert len(gaps) > 20
    assert max(gaps) < 0.050, f"the event loop stalled for {max(gaps) * 1000:.0f} ms"
    qtbot.waitUntil(lambda: states[-1] == "idle", timeout=5000)  # the queue empties just after the last job
    assert "transcribing" in states
    assert w.backend_label.text() == cpu_engine.backend.label  # the backend that computed the last text

    # export the result as SRT through the row's Export button
    target = tmp_path / "jfk-export"
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target) + ".srt", "SubRip subtitles (*.srt)"))
    )
    qtbot.mouseClick(good_row.export_btn, Qt.LeftButton)
    cues = parse_srt((tmp_path / "jfk-export.srt").read_text())
    assert wer(JFK_REF, " ".join(c[2] for c in cues)) <= 0.10
    assert cues[-1][1] <= 11.5
    # open shows the text
    qtbot.mouseClick(good_row.open_btn, Qt.LeftButton)
    from amanuensis_desktop.ui.file_jobs import ResultDialog

    dialogs = [d for d in QApplication.topLevelWidgets() if isinstance(d, ResultDialog) and d.isVisible()]
    assert dialogs and "country" in dialogs[0].text.toPlainText()
    dialogs[0].close()
    # clear finished rows
    w.files_panel.clear_finished()
    assert not w.files_panel.rows and not w.jobs.jobs


def test_cancel_queued_and_running_jobs(qtbot, tmp_path, cpu_engine, shared_audio):
    w = make_window(qtbot, tmp_path, cpu_engine, show=False)
    long = shared_audio / "sense_and_sensibility_01_austen_64kb-0870.wav"
    first, second, missing = w.add_files([long, shared_audio / "jfk.wav", tmp_path / "nope.wav"])
    w.jobs.cancel(second.id)  # still queued
    assert second.state is JobState.CANCELLED
    qtbot.waitUntil(lambda: first.state is JobState.TRANSCRIBING, timeout=20000)
    qtbot.mouseClick(w.files_panel.rows[first.id].cancel_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: first.state is JobState.CANCELLED and missing.state is JobState.FAILED, timeout=60000)
    assert w.files_panel.rows[first.id].status.text() == "Cancelled."
    assert missing.error.endswith("no such file.")
    qtbot.waitUntil(lambda: not w.jobs.busy, timeout=5000)


class StubTray:
    def __init__(self):
        self.states, self.notes = [], []

    def set_state(self, state, listening):
        self.states.append(state)

    def notify(self, title, message):
        self.notes.append(message)

    def is_visible(self):
        return False

    def hide(self):
        pass


def test_finished_job_notifies_through_the_tray(qtbot, tmp_path, cpu_engine, shared_audio):
    from amanuensis_desktop.ui.main_window import MainWindow
    from tests.ui.support import make_store

    tray = StubTray()
    w = MainWindow(make_store(tmp_path), engine=cpu_engine, tray=tray)
    qtbot.addWidget(w)
    (job,) = w.add_files([shared_audio / "goforward.wav"])
    qtbot.waitUntil(lambda: job.state is JobState.DONE, timeout=30000)
    qtbot.waitUntil(lambda: tray.states and tray.states[-1] == "idle", timeout=5000)
    assert "transcribing" in tray.states
    assert tray.notes and tray.notes[-1].startswith("goforward.wav is transcribed")
