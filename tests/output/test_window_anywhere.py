"""The window's side of dictating anywhere, driven by a stand-in for its DictationController (offscreen Qt):
finals reach the output, the control socket starts and stops dictation, failures are one sentence."""

from __future__ import annotations

from enum import Enum

import pytest
from PySide6.QtCore import QObject, Signal

from amanuensis_desktop.output.control import ControlCommand, ListenState, send_command
from amanuensis_desktop.output.sink import OutputMode
from amanuensis_desktop.ui.anywhere import AnywhereSettings, DictateAnywhere


class State(Enum):
    IDLE = "idle"
    STARTING = "starting"
    LISTENING = "listening"
    FINISHING = "finishing"


class Controller(QObject):
    """The signals and calls of ui.dictation.DictationController that DictateAnywhere uses."""

    state_changed = Signal(object)
    final = Signal(str, float, float, float)
    level = Signal(float)
    stopped = Signal()

    def __init__(self):
        super().__init__()
        self.state = State.IDLE

    def _set(self, state):
        self.state = state
        self.state_changed.emit(state)

    def toggle(self, options):
        options()
        self._set(State.STARTING)
        self._set(State.LISTENING)

    def stop(self):
        self._set(State.FINISHING)
        self._set(State.IDLE)
        self.stopped.emit()


@pytest.fixture
def anywhere(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    controller = Controller()
    bridge = DictateAnywhere(controller, live_options=lambda: "options")
    messages: list[str] = []
    bridge.message.connect(messages.append)
    yield controller, bridge, messages
    bridge.close()


def test_finals_go_to_the_clipboard_mode(anywhere):
    from PySide6.QtGui import QGuiApplication

    controller, bridge, messages = anywhere
    bridge.configure(AnywhereSettings(mode=OutputMode.CLIPBOARD, indicator=False))
    controller.toggle(lambda: None)
    controller.final.emit("hello world.", 0.0, 1.0, 0.1)
    controller.final.emit("new line. second line", 1.0, 2.0, 0.1)
    assert QGuiApplication.clipboard().text() == "Hello world.\nSecond line"
    assert messages == []


def test_control_socket_toggles_the_window(anywhere, qtbot):
    controller, bridge, _ = anywhere
    bridge.start_control()
    assert send_command(ControlCommand.STATUS) == "idle"
    assert send_command(ControlCommand.TOGGLE) == "ok"
    qtbot.waitUntil(lambda: controller.state is State.LISTENING, timeout=3000)
    assert send_command(ControlCommand.STATUS) == "listening"
    send_command(ControlCommand.TOGGLE)
    qtbot.waitUntil(lambda: controller.state is State.IDLE, timeout=3000)
    assert bridge.listen_state is ListenState.IDLE


def test_an_unusable_route_or_hotkey_is_one_sentence(anywhere, monkeypatch):
    _, bridge, messages = anywhere
    monkeypatch.setenv("DISPLAY", ":199")  # no X server there
    bridge.configure(AnywhereSettings(mode=OutputMode.TYPE, toggle_key="ctrl+alt+d", indicator=False))
    assert any("Cannot connect to the X display :199" in m for m in messages), messages
    assert all(m.endswith(".") and "\n" not in m for m in messages)
