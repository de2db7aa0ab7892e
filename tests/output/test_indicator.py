"""The listening indicator: never focusable, on top, follows the state; on a real X server it does not take
the focus from the app being typed into."""

from __future__ import annotations

import subprocess
import sys

import pytest

from amanuensis_desktop.output.control import ListenState

SHOW_INDICATOR = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from amanuensis_desktop.output.control import ListenState
from amanuensis_desktop.ui.listening_indicator import Indicator
app = QApplication([])
ind = Indicator("X11 (XTEST)")
ind.set_state(ListenState.LISTENING)
ind.set_level(-20)
QTimer.singleShot(300, lambda: (ind.raise_(), ind.activateWindow(), print("shown", ind.isVisible(), flush=True)))
QTimer.singleShot(3000, app.quit)
app.exec()
"""


def test_flags_state_and_level(qtbot):
    from PySide6.QtCore import Qt

    from amanuensis_desktop.ui.listening_indicator import Indicator

    ind = Indicator("test")
    qtbot.addWidget(ind)
    flags = ind.windowFlags()
    for flag in (
        Qt.WindowType.WindowDoesNotAcceptFocus,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.Tool,
        Qt.WindowType.FramelessWindowHint,
    ):
        assert flags & flag
    assert ind.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert not ind.isVisible()
    ind.set_state(ListenState.LISTENING)
    assert ind.isVisible()
    ind.set_level(-30)
    assert ind.level == pytest.approx(0.5)
    ind.set_state(ListenState.FINISHING)
    assert ind.isVisible()
    ind.set_state(ListenState.IDLE)
    assert not ind.isVisible()


def test_indicator_does_not_take_the_focus(xdisplay, receiver):
    pytest.importorskip("Xlib")
    from amanuensis_desktop.output.x11 import XTestTyper

    from .xrig import x_env

    proc = subprocess.Popen(
        [sys.executable, "-c", SHOW_INDICATOR],
        env=x_env(xdisplay),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "shown True"
        typer = XTestTyper(xdisplay)
        typer.type_text("still focused")
        typer.close()
        assert receiver.wait_for("still focused", 5).get("text") == "still focused"
    finally:
        proc.kill()
        proc.wait()
