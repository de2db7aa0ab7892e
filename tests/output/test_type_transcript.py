"""A corrected word survives typing: the real window (offscreen Qt) shows a final with timed words, one word is
corrected in place, `amanuensis type-transcript` (the real CLI, through the control socket) types the reviewed
transcript into the focused receiver on Xvfb (XTEST), the window steps aside first; the selection is typed when
there is one; what cannot be typed is one sentence."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("Xlib")
pytest.importorskip("pytestqt")

from PySide6.QtGui import QAction, QGuiApplication, QTextCursor  # noqa: E402
from PySide6.QtWidgets import QMenu  # noqa: E402

from amanuensis_desktop.live.events import Final  # noqa: E402
from amanuensis_desktop.whisper.words import Word  # noqa: E402
from tests.ui.support import make_window  # noqa: E402

WORDS = (Word(" Ask", 1.0, 1.3, 0.95), Word(" knot", 1.3, 1.6, 0.2), Word(" what", 1.6, 2.0, 0.9))


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``amanuensis ARGS`` as a user runs it (another process); the test's Qt loop keeps running meanwhile."""
    return subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(params=["window", "type"])
def window(request, qtbot, tmp_path, xdisplay, monkeypatch):
    """The window on offscreen Qt, with its output routes on the Xvfb ``xdisplay``. Output mode "window" (finals
    stay in the window: the route is opened on request) or "type" (the live finals' own route is lent)."""
    monkeypatch.setenv("DISPLAY", xdisplay)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    win = make_window(qtbot, tmp_path, show=True, mark_unsure_words=True, backend="cpu", output_mode=request.param)
    assert (win.anywhere.sink is not None) == (request.param == "type")
    yield win
    win.anywhere.close()
    from amanuensis_desktop.ui.threads import Task

    assert Task.wait_all(120_000)  # the engine load started by the window


def _run_cli_while_qt_runs(qtbot, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The CLI waits for the window's answer, which the window gives on its event loop: run it on a thread."""
    import threading

    done: list[subprocess.CompletedProcess] = []
    thread = threading.Thread(target=lambda: done.append(_cli(*args, env=env)))
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=60_000)
    return done[0]


def test_corrected_word_is_typed_by_type_transcript(window, receiver, qtbot, tmp_path):
    import os

    window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is not None, timeout=3000)  # our window has the focus
    window.dictation.route(Final(0, "Ask knot what", 1.0, 2.0, 0.1, WORDS))
    typed_live = "Ask knot what" if window.anywhere.sink is not None else ""  # output "type": typed on arrival
    qtbot.waitUntil(lambda: receiver.text == typed_live, timeout=5000)
    window.view.replace_word(1, "not")  # what a double-click + the correction dialog do
    assert window.view.final_text().strip() == "Ask not what"

    messages: list[str] = []
    window.anywhere.message.connect(messages.append)
    done = _run_cli_while_qt_runs(qtbot, "type-transcript", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    try:
        qtbot.waitUntil(lambda: receiver.text == typed_live + "Ask not what", timeout=10_000)
    finally:
        print("messages:", messages, "typist:", window.anywhere.typist.state, "focus:", QGuiApplication.focusWindow())
        print("status:", window.statusBar().currentMessage(), "receiver:", repr(receiver.text))
    assert window.isMinimized()  # it stepped aside (no tray here) so the focus could go back to the app
    assert "Typed 3 words of the transcript via X11" in window.statusBar().currentMessage()

    # the selection, when there is one, from the window's own action
    cur = window.view.textCursor()
    start = window.view.toPlainText().index("not")
    cur.setPosition(start)
    cur.setPosition(start + len("not what"), QTextCursor.MoveMode.KeepAnchor)
    window.view.setTextCursor(cur)
    action = window.findChild(QAction, "type-transcript-action")
    assert action is not None and action.shortcut().toString() == "Ctrl+Shift+T"
    menu = next(m for m in action.associatedObjects() if isinstance(m, QMenu))  # the Dictation menu, after Copy all
    names = [a.text() for a in menu.actions()]
    assert names.index(action.text()) == names.index("Copy all") + 1
    action.trigger()
    qtbot.waitUntil(lambda: receiver.text == typed_live + "Ask not whatnot what", timeout=10_000)


def test_nothing_to_type_is_one_sentence(window, qtbot):
    import os

    done = _run_cli_while_qt_runs(qtbot, "type-transcript", env=dict(os.environ))
    assert done.returncode == 1
    assert done.stderr.strip() == "amanuensis: Nothing to type yet: the transcript is empty."
