"""Screenshots of the main states: ``python -m devtools.screenshots OUTDIR`` (from the repository root).

Runs on the offscreen platform unless a display is set (QT_QPA_PLATFORM wins), with a temporary data folder
and settings file (the user's are untouched). The engine is real (CPU backend) and the file jobs really run;
the dictation screenshot runs the window's real dictation controller over a scripted pipeline that sends the
live pipeline's own event types (deterministic text, no microphone needed).
Writes idle.png, dictating.png, files.png, settings.png, tray-menu.png, recovery.png, and, when Xvfb and
trayer are installed, tray.png: the real tray icon (listening) with its menu open, grabbed from a private X
server.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pythonpath() -> str:
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def _wait(app, seconds: float, until=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)


def _grab(app, widget, path: Path) -> None:
    from PySide6.QtTest import QTest

    QTest.qWaitForWindowExposed(widget, 3000)
    _wait(app, 0.4)  # a grab right after show can be black
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    print(path)


def _tray_shot_child(path: Path) -> int:
    """In a private X server with trayer: show the tray icon (listening), open its menu, grab the corner."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    app = QApplication(["amanuensis"])
    _wait(app, 10, until=QSystemTrayIcon.isSystemTrayAvailable)
    if not QSystemTrayIcon.isSystemTrayAvailable():
        print("no system tray appeared under Xvfb + trayer", file=sys.stderr)
        return 1
    from amanuensis_desktop.ui.tray import Tray, TrayState

    tray = Tray()
    tray.show()
    tray.set_state(TrayState.LISTENING, listening=True)
    _wait(app, 1.5, until=lambda: tray.icon.geometry().width() > 0)
    _wait(app, 0.5)
    geo = tray.icon.geometry()
    tray.menu.popup(QPoint(geo.left() - 120, geo.bottom() + 4))
    _wait(app, 0.8)
    screen = app.primaryScreen()
    shot = screen.grabWindow(0)
    width = screen.geometry().width()
    shot.copy(width - 360, 0, 360, 140).save(str(path))
    print(path)
    return 0


def _tray_shot(path: Path) -> None:
    import subprocess

    from devtools.xvfb import XvfbUnavailable, private_tray

    try:
        with private_tray(
            "1024x600x24",
            tray_height=28,
            settle_s=0.0,
            trayer_args=("--tint", "0x3c3f41", "--transparent", "true", "--alpha", "0"),
        ) as env:
            subprocess.run(
                [sys.executable, "-m", "devtools.screenshots", "--tray-shot", str(path)],
                env=dict(env, QT_QPA_PLATFORM="xcb", PYTHONPATH=_pythonpath()),
                cwd=ROOT,
                timeout=60,
                check=False,
            )
    except XvfbUnavailable as exc:
        print(f"tray.png skipped: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--tray-shot":
        return _tray_shot_child(Path(argv[1]))
    if len(argv) != 1:
        print("usage: python -m devtools.screenshots OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    tmp = Path(tempfile.mkdtemp(prefix="amanuensis-shots-"))
    os.environ["AMANUENSIS_DATA_DIR"] = str(tmp / "data")

    import numpy as np
    import soundfile as sf
    from PySide6.QtCore import QPoint, QSettings
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["amanuensis"])
    import amanuensis_desktop.live as live
    from amanuensis_desktop.bench.corpus import join_clips, shared_audio_dir
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.live.events import BackendInfo, Backlog, Final, Level, Partial
    from amanuensis_desktop.ui.dictation import DictationState
    from amanuensis_desktop.ui.file_jobs import JobState
    from amanuensis_desktop.ui.icons import icon
    from amanuensis_desktop.ui.main_window import MainWindow
    from amanuensis_desktop.ui.settings_dialog import SettingsDialog
    from amanuensis_desktop.ui.settings_store import SettingsStore
    from amanuensis_desktop.ui.tray import Tray, TrayState

    app.setWindowIcon(icon("app"))
    store = SettingsStore(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    store.update({"backend": "cpu"})
    engine = Engine.load("cpu")
    shared = shared_audio_dir()

    # 1. idle
    w = MainWindow(store, engine=engine)
    w.resize(900, 620)
    w.show()
    _wait(app, 1.5, until=lambda: w.power_label.text() != "Power: …")
    _grab(app, w, out / "idle.png")

    # 2. dictating: finals, a partial in grey italics, the level meter, latency/backlog
    script = [
        BackendInfo(engine.backend.label),
        Final(0, "And so my fellow Americans,", 0.3, 2.6, 0.42),
        Final(1, "ask not what your country can do for you,", 3.4, 6.1, 0.38),
        Backlog(0.6),
        Partial(2, "ask what you can do", " for your", 7.0),
        Level(0.12, -18.0),
    ]

    class ScriptedPipeline:  # stands in for live.LivePipeline: sends the script instead of listening
        def __init__(self, engine, options, on_event):
            self.on_event = on_event

        def start(self) -> None:
            for event in script:
                self.on_event(event)

        def stop(self) -> None:
            pass

    real_pipeline = live.LivePipeline
    setattr(live, "LivePipeline", ScriptedPipeline)  # noqa: B010 - a monkeypatch mypy would refuse as an assignment
    try:
        w.start_dictation()
        _wait(app, 10, until=lambda: w.dictation_state is DictationState.LISTENING and w.view.partial_text)
        _grab(app, w, out / "dictating.png")
        w.stop_dictation()
        _wait(app, 10, until=lambda: w.dictation_state is DictationState.IDLE)
    finally:
        setattr(live, "LivePipeline", real_pipeline)  # noqa: B010 - as above

    # 3. file jobs: one done, one failed, one transcribing
    long_wav = tmp / "lecture.wav"
    clips = sorted(shared.glob("sense_and_sensibility_*.wav")) + [shared / "turn_on_the_living_room_lamp.wav"]
    if all(c.is_file() for c in clips) and clips[:-1] and (shared / "jfk.mp3").is_file():
        # ~70 s of varied speech (repeating one clip makes Whisper loop)
        audio, _ = join_clips([c.name for c in clips] * 3, pause_s=0.5, folder=shared)
        sf.write(str(long_wav), audio, 16000)
        good = shared / "jfk.mp3"
    else:  # no shared recordings: synthetic audio still shows the rows
        sf.write(str(long_wav), np.zeros(16000 * 70, dtype=np.float32), 16000)
        good = long_wav
    broken = tmp / "voice-memo.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypM4A " + os.urandom(4000))
    jobs = w.add_files([good, broken, long_wav])
    _wait(app, 120, until=lambda: jobs[2].state is JobState.TRANSCRIBING and jobs[2].done_s > 0)
    _grab(app, w, out / "files.png")
    w.jobs.cancel_all()
    w.jobs.wait()
    _wait(app, 0.3)

    # 4. settings
    dlg = SettingsDialog(
        store.all(),
        [{"index": 1, "name": "USB microphone", "channels": 1, "default_samplerate": 48000.0, "is_default": True}],
        w.statuses,
        str(tmp / "data" / "autosave"),
        w,
    )
    dlg.show()
    _grab(app, dlg, out / "settings.png")
    dlg.close()

    # 5. the tray menu (its look in the listening state)
    tray = Tray()
    tray.set_state(TrayState.LISTENING, listening=True)
    tray.menu.popup(QPoint(40, 40))
    _grab(app, tray.menu, out / "tray-menu.png")
    tray.menu.close()

    # 6. the recovery offer after a crash
    folder = store.autosave_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "session-20260101-093000-999999999.json").write_text(
        json.dumps(
            {
                "version": 1,
                "pid": 999999999,
                "closed": False,
                "started": "2026-01-01T09:30:00",
                "segments": [{"start": 0.0, "end": 2.5, "text": "Minutes of the Tuesday meeting."}],
                "partial": "The budget was approved",
            }
        )
    )
    w2 = MainWindow(store, engine=engine)
    w2.resize(900, 620)
    w2.show()
    _grab(app, w2, out / "recovery.png")
    w2.discard_orphans()
    for win in (w, w2):
        win.quit_on_close = False
        win.quit_app()
    _tray_shot(out / "tray.png")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
