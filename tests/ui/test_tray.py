"""Tray mode for real: Xvfb + trayer (a system tray), `amanuensis --tray` in a subprocess on the xcb platform,
Start/Stop dictation and Quit from the tray menu; and the fallback where the desktop has no tray."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import pytest

from tests.ui.support import ROOT

# The driver runs the real entry point (main(["--tray", ...])) and drives the tray menu from inside the app:
# it triggers the menu's own QActions, as a click on them does, and prints what it sees as JSON lines.
DRIVER = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

app = QApplication(sys.argv[:1])
deadline = time.monotonic() + 10
while not QSystemTrayIcon.isSystemTrayAvailable() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.05)

from amanuensis_desktop.ui.app import main
from amanuensis_desktop.ui.main_window import MainWindow

def log(**kw):
    print("DRIVER " + json.dumps(kw), flush=True)

def parts():
    win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    menu = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "tray-menu")
    acts = {a.objectName(): a for a in menu.actions() if a.objectName()}
    return win, menu, acts

steps = []
def step(fn):
    steps.append(fn)
    return fn

def run_steps():
    if not steps:
        return
    result = steps[0]()
    if result is not False:
        steps.pop(0)
    QTimer.singleShot(100, run_steps)

t0 = [time.monotonic()]

@step
def first():
    win, menu, acts = parts()
    log(step="start", window_visible=win.isVisible(), tray_visible=win.tray.icon.isVisible(),
        tooltip=win.tray.icon.toolTip(), actions=[a.text() for a in menu.actions() if not a.isSeparator()],
        tray_available=QSystemTrayIcon.isSystemTrayAvailable())
    acts["tray-dictation"].trigger()

@step
def listening():
    win, menu, acts = parts()
    if win.dictation_state.value != "listening":
        return False
    geo = win.tray.icon.geometry()
    log(step="listening", tooltip=win.tray.icon.toolTip(), action=acts["tray-dictation"].text(),
        window_visible=win.isVisible(), icon_size=[geo.width(), geo.height()])
    t0[0] = time.monotonic()

@step
def wait_a_bit():
    if time.monotonic() - t0[0] < 1.0:
        return False
    win, menu, acts = parts()
    acts["tray-dictation"].trigger()

@step
def stopped():
    win, menu, acts = parts()
    if win.dictation_state.value != "idle":
        return False
    log(step="stopped", tooltip=win.tray.icon.toolTip(), action=acts["tray-dictation"].text())
    acts["tray-show"].trigger()

@step
def shown():
    win, menu, acts = parts()
    log(step="shown", window_visible=win.isVisible())
    win.close()  # close-to-tray (the default): the app keeps running

@step
def closed():
    win, menu, acts = parts()
    log(step="closed", window_visible=win.isVisible(), tray_visible=win.tray.icon.isVisible())
    acts["tray-quit"].trigger()

QTimer.singleShot(500, run_steps)
rc = main(sys.argv[1:])
log(step="exit", rc=rc)
sys.exit(rc)
"""


def _lines(out: str) -> list[dict]:
    return [json.loads(line[len("DRIVER ") :]) for line in out.splitlines() if line.startswith("DRIVER ")]


@pytest.fixture
def xvfb_tray(tmp_path):
    """A private X server (a free display chosen by Xvfb itself) with trayer providing a system tray."""
    from devtools.xvfb import XvfbUnavailable, private_tray

    with contextlib.ExitStack() as stack:
        try:
            env = stack.enter_context(
                private_tray("1280x800x24", tray_height=24, trayer_args=("--SetDockType", "true"))
            )
        except XvfbUnavailable as exc:
            pytest.skip(str(exc))
        yield env


def _run_driver(tmp_path, env, args, timeout=90):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = dict(
        env, AMANUENSIS_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(ROOT)
    )
    proc = subprocess.run(
        [sys.executable, str(script), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    return proc, _lines(proc.stdout)


def test_tray_start_stop_and_quit_under_xvfb(tmp_path, xvfb_tray, virtual_mic):
    env = dict(
        xvfb_tray,
        QT_QPA_PLATFORM="xcb",
        PULSE_SERVER=virtual_mic.env["PULSE_SERVER"],
        XDG_RUNTIME_DIR=virtual_mic.env["XDG_RUNTIME_DIR"],
    )
    proc, lines = _run_driver(tmp_path, env, ["--tray", "--backend", "cpu"])
    steps = {line["step"]: line for line in lines}
    assert proc.returncode == 0, proc.stderr[-3000:]
    for bad in ("Fatal Python error", "Traceback", "QThread: Destroyed"):
        assert bad not in proc.stderr, proc.stderr[-3000:]
    start = steps["start"]
    assert start["tray_available"] and start["tray_visible"] and not start["window_visible"]  # --tray: hidden
    assert start["actions"] == ["Start dictation", "Type the transcript", "Show window", "Quit"]
    assert start["tooltip"] == "Amanuensis — idle"
    assert steps["listening"]["tooltip"] == "Amanuensis — listening"
    assert steps["listening"]["action"] == "Stop dictation"
    assert min(steps["listening"]["icon_size"]) > 0  # the icon is really embedded in trayer's panel
    assert steps["stopped"]["tooltip"] == "Amanuensis — idle" and steps["stopped"]["action"] == "Start dictation"
    assert steps["shown"]["window_visible"] is True
    assert steps["closed"]["window_visible"] is False and steps["closed"]["tray_visible"] is True
    assert steps["exit"]["rc"] == 0


NO_TRAY_DRIVER = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from amanuensis_desktop.ui.app import main
from amanuensis_desktop.ui.main_window import MainWindow

app = QApplication(sys.argv[:1])

def check():
    win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    print("DRIVER " + json.dumps({"step": "check", "window_visible": win.isVisible(), "tray": win.tray is not None,
                                  "status": win.statusBar().currentMessage()}), flush=True)
    win.close()  # no tray: closing quits

QTimer.singleShot(800, check)
sys.exit(main(sys.argv[1:]))
"""


def test_no_tray_says_so_once_and_keeps_the_window(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(NO_TRAY_DRIVER)
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        AMANUENSIS_DATA_DIR=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.run(
        [sys.executable, str(script), "--tray", "--backend", "cpu"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (check,) = _lines(proc.stdout)
    assert check["window_visible"] and not check["tray"]
    assert check["status"] == "No system tray on this desktop; the window stays open."
    assert proc.stderr.count("No system tray on this desktop") == 1
