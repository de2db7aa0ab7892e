"""Global hotkeys on a real X server: grabbed keys fire and do not leak into the focused app; a held
push-to-talk key gives one press and one release despite auto-repeat."""

from __future__ import annotations

import queue
import time

import pytest

pytest.importorskip("Xlib")

from Xlib import XK, X, display  # noqa: E402
from Xlib.ext import xtest  # noqa: E402

from amanuensis_desktop.output.errors import OutputError  # noqa: E402
from amanuensis_desktop.output.hotkeys import Hotkey, HotkeyAction, HotkeyEvent, Mod  # noqa: E402
from amanuensis_desktop.output.x11_hotkeys import X11HotkeyListener  # noqa: E402


class Keyboard:
    """Another client pressing keys through XTEST (the user's hands)."""

    def __init__(self, name: str) -> None:
        self.d = display.Display(name)

    def code(self, key: str) -> int:
        return self.d.keysym_to_keycode(XK.string_to_keysym(key))

    def down(self, *keys: str) -> None:
        for key in keys:
            xtest.fake_input(self.d, X.KeyPress, self.code(key))
        self.d.sync()

    def up(self, *keys: str) -> None:
        for key in reversed(keys):
            xtest.fake_input(self.d, X.KeyRelease, self.code(key))
        self.d.sync()

    def tap(self, *keys: str) -> None:
        self.down(*keys)
        self.up(*keys)


@pytest.fixture
def keyboard(xdisplay):
    kb = Keyboard(xdisplay)
    yield kb
    kb.d.close()


@pytest.fixture
def listener(xdisplay):
    events: queue.Queue[HotkeyEvent] = queue.Queue()
    hk = X11HotkeyListener(
        {Hotkey.parse("ctrl+alt+d"): HotkeyAction.TOGGLE, Hotkey.parse("F9"): HotkeyAction.PUSH_TO_TALK},
        events.put,
        xdisplay,
    )
    hk.start()
    yield hk, events
    hk.stop()


def _drain(events: queue.Queue, expected: int = 1, settle: float = 0.3) -> list[HotkeyEvent]:
    """The ``expected`` events (waiting up to 10 s for them: the machine may be loaded), plus any that
    arrive within ``settle`` seconds after (there should be none)."""
    out = []
    try:
        for _ in range(expected):
            out.append(events.get(timeout=10))
    except queue.Empty:
        return out
    time.sleep(settle)
    while not events.empty():
        out.append(events.get_nowait())
    return out


def test_parse_and_print():
    assert Hotkey.parse("Ctrl+Alt+D") == Hotkey("d", Mod.CTRL | Mod.ALT)
    assert str(Hotkey.parse("super-F9")) == "super+F9"
    assert Hotkey.parse("ctrl+shift+space").portal_trigger() == "CTRL+SHIFT+space"
    with pytest.raises(OutputError, match="not a modifier"):
        Hotkey.parse("hyper+x")


def test_toggle_fires_and_does_not_leak(listener, keyboard, receiver):
    _, events = listener
    keyboard.tap("Control_L", "Alt_L", "d")
    assert _drain(events) == [HotkeyEvent(HotkeyAction.TOGGLE, True)]
    keyboard.tap("x")
    assert receiver.wait_for("x", 5).get("text") == "x"  # the focused app got x, and never the d


def test_toggle_fires_with_caps_lock_on(listener, keyboard):
    _, events = listener
    keyboard.tap("Caps_Lock")
    try:
        keyboard.tap("Control_L", "Alt_L", "d")
        assert [e.pressed for e in _drain(events)] == [True]
    finally:
        keyboard.tap("Caps_Lock")


def test_push_to_talk_held_with_auto_repeat_is_one_press_and_one_release(listener, keyboard, xdisplay):
    _, events = listener
    repeats = display.Display(xdisplay).get_keyboard_control().auto_repeats
    assert any(repeats), "auto-repeat is off on this server"
    keyboard.down("F9")
    time.sleep(1.2)  # past the auto-repeat delay (660 ms): several Release+Press pairs are sent
    assert _drain(events, settle=0.0) == [HotkeyEvent(HotkeyAction.PUSH_TO_TALK, True)]
    keyboard.up("F9")
    assert _drain(events) == [HotkeyEvent(HotkeyAction.PUSH_TO_TALK, False)]


def test_a_taken_hotkey_is_one_sentence(listener, xdisplay):
    other = X11HotkeyListener({Hotkey.parse("ctrl+alt+d"): HotkeyAction.TOGGLE}, lambda e: None, xdisplay)
    with pytest.raises(OutputError, match="already taken by another app"):
        other.start()
    other.stop()
