"""Typing into another app through XTEST on a real X server (Xvfb) with a real Qt receiver."""

from __future__ import annotations

import pytest

pytest.importorskip("Xlib")

from amanuensis_desktop.output.x11 import XTestTyper  # noqa: E402

SAMPLE = "naïve café — 50 °C ß € Привет 日本 🎤"


@pytest.fixture
def typer(xdisplay):
    t = XTestTyper(xdisplay)
    yield t
    t.close()


def test_types_unicode_exactly(typer, receiver):
    typer.type_text(SAMPLE)
    assert receiver.wait_for(SAMPLE).get("text") == SAMPLE


def test_newline_tab_and_backspace(typer, receiver):
    typer.type_text("one\ntwo\tthree")
    typer.backspace(5)
    expected = "one\ntwo\t"
    assert receiver.wait_for(expected).get("text") == expected


def test_layout_independence_with_two_keys_swapped(typer, receiver, xdisplay):
    """Swap the keys of 'a' and 's' in the server's keymap: the receiver must still get the same text."""
    from Xlib import XK, display

    d = display.Display(xdisplay)
    a, s = d.keysym_to_keycode(XK.string_to_keysym("a")), d.keysym_to_keycode(XK.string_to_keysym("s"))
    syms_a, syms_s = d.get_keyboard_mapping(a, 1)[0], d.get_keyboard_mapping(s, 1)[0]
    try:
        d.change_keyboard_mapping(a, [tuple(syms_s)])
        d.change_keyboard_mapping(s, [tuple(syms_a)])
        d.sync()
        assert d.get_keyboard_mapping(s, 1)[0][0] == XK.string_to_keysym("a")
        text = "Sassafras as a SALSA — naïve"
        typer.type_text(text)
        assert receiver.wait_for(text).get("text") == text
    finally:
        d.change_keyboard_mapping(a, [tuple(syms_a)])
        d.change_keyboard_mapping(s, [tuple(syms_s)])
        d.sync()
        d.close()


def test_type_command_and_paste_mode(xdisplay, tmp_path):
    """`amanuensis type --output paste`: the clipboard owned by the receiver comes back after the paste."""
    import subprocess
    import sys

    from .xrig import start_receiver, stop, x_env

    receiver = start_receiver(xdisplay, tmp_path, "--clipboard", "the user's clipboard")
    try:
        assert receiver.wait_for("", 2) and _wait(receiver.clipboard, "the user's clipboard")
        done = subprocess.run(
            [sys.executable, "-m", "amanuensis_desktop.output.command", "--output", "paste", "pasted", "text — ß 🎤"],
            env=x_env(xdisplay),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert "typing via X11 (XTEST)" in done.stderr
        state = receiver.wait_for("Pasted text — ß 🎤", 5)
        assert state.get("text") == "Pasted text — ß 🎤"
        # the clipboard held our text only for the paste, then the user's text again (while we still own it:
        # X11 forgets a clipboard whose owner exits, unless a clipboard manager takes it over)
        history = receiver.clipboard_history()
        assert history[:3] == ["the user's clipboard", "Pasted text — ß 🎤", "the user's clipboard"], history
    finally:
        stop(receiver.proc)


def test_terminal_gets_ctrl_shift_v(xdisplay, tmp_path):
    import subprocess
    import sys

    from .xrig import start_receiver, stop, x_env

    receiver = start_receiver(xdisplay, tmp_path, "--clipboard", "", "--class", "xterm")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "amanuensis_desktop.output.command", "--output", "paste", "--raw", "ls -l"],
            env=x_env(xdisplay),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for("ls -l", 5).get("text") == "ls -l"
    finally:
        stop(receiver.proc)


def _wait(read, expected, timeout=5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while read() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return read() == expected


def test_caps_lock_on_does_not_change_the_text(typer, receiver, xdisplay):
    from Xlib import XK, X, display
    from Xlib.ext import xtest

    d = display.Display(xdisplay)
    caps = d.keysym_to_keycode(XK.string_to_keysym("Caps_Lock"))

    def tap_caps():
        xtest.fake_input(d, X.KeyPress, caps)
        xtest.fake_input(d, X.KeyRelease, caps)
        d.sync()

    tap_caps()
    try:
        assert d.screen().root.query_pointer().mask & X.LockMask
        text = "Hello World — ß é Ü ž"
        typer.type_text(text)
        assert receiver.wait_for(text).get("text") == text
    finally:
        tap_caps()
        d.close()
