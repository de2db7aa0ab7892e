"""Typing through the X server's XTEST extension (python-xlib, no subprocess).

Each character becomes its keysym (``keysyms.keysym_for``). When the current keymap has it on some keycode at
index 0 (no modifier) or 1 (Shift), that key is pressed; otherwise the keysym is bound to a spare keycode (one
without keysyms) of its own — never two keysyms on one keycode — so the user's layout does not matter.
Borrowed keycodes are given back ``release_after_s`` after the last text (or when the spare keys run out),
never right after the key press: the receiving app reads the new keymap only when it handles the
MappingNotify, later than the press is sent, and binding/unbinding one character at a time mistyped
("naïve" → "na°ve") unless each step waited ~20 ms (measured on Xvfb with a Qt receiver). Modifiers
the user still holds (the hotkey) are waited for briefly, then released, so that "c" never becomes Ctrl+C;
Caps Lock, when on, is switched off while typing and on again after (it also capitalised borrowed "é").
"""

from __future__ import annotations

import logging
import threading
import time

from Xlib import XK, X, display, error
from Xlib.ext import xtest

from .errors import OutputError
from .keysyms import BACKSPACE, CAPS_LOCK, CONTROL_L, LOWER_V, SHIFT_L, keysym_for

logger = logging.getLogger(__name__)

_MODIFIER_KEYSYMS = (
    "Shift_L",
    "Shift_R",
    "Control_L",
    "Control_R",
    "Alt_L",
    "Alt_R",
    "Meta_L",
    "Meta_R",
    "Super_L",
    "Super_R",
    "ISO_Level3_Shift",
    "Mode_switch",
)


def open_display(name: str | None = None) -> display.Display:
    """A new connection to the X server ``name`` (default $DISPLAY), or an :class:`OutputError`."""
    try:
        return display.Display(name)
    except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
        raise OutputError(f"Cannot connect to the X display {name or '$DISPLAY'}: {exc}.") from exc


class XTestTyper:
    """Types text into the focused X11 window. Thread-safe; one X connection of its own."""

    name = "X11 (XTEST)"

    def __init__(
        self,
        display_name: str | None = None,
        modifier_wait_s: float = 0.5,
        settle_s: float = 0.1,
        release_after_s: float = 1.0,
    ) -> None:
        self._d = open_display(display_name)
        if not self._d.has_extension("XTEST"):
            self._d.close()
            raise OutputError("The X server has no XTEST extension, so text cannot be typed into other apps.")
        self.modifier_wait_s = modifier_wait_s
        self.settle_s = settle_s
        self.release_after_s = release_after_s
        self._borrowed: dict[int, int] = {}  # keysym -> the spare keycode it is bound to now
        self._release_timer: threading.Timer | None = None
        self._lock = threading.Lock()

    # -- keymap ---------------------------------------------------------------------------------------
    def _mapping(self) -> tuple[dict[int, tuple[int, bool]], list[int]]:
        """keysym -> (keycode, needs Shift) for index 0/1 of the current keymap; spare keycodes."""
        first = self._d.display.info.min_keycode
        count = self._d.display.info.max_keycode - first + 1
        table: dict[int, tuple[int, bool]] = {}
        spare: list[int] = []
        for offset, syms in enumerate(self._d.get_keyboard_mapping(first, count)):
            keycode = first + offset
            if not any(syms):
                spare.append(keycode)
                continue
            lower = syms[0] if len(syms) > 0 else 0
            upper = syms[1] if len(syms) > 1 else 0
            if not upper and 0x20 < lower <= 0xFF and chr(lower).upper() != chr(lower):  # (a, NoSymbol) = a/A
                upper = ord(chr(lower).upper()) if ord(chr(lower).upper()) <= 0xFF else 0
            if lower and lower not in table:
                table[lower] = (keycode, False)
            if upper and upper not in table:
                table[upper] = (keycode, True)
        return table, spare

    def _keycode(self, keysym: int, table: dict[int, tuple[int, bool]]) -> int:
        keycode = table.get(keysym, (0, False))[0]
        if not keycode:
            raise OutputError(f"The keyboard map has no key for {XK.keysym_to_string(keysym) or hex(keysym)}.")
        return keycode

    def _held_modifiers(self, table: dict[int, tuple[int, bool]]) -> list[int]:
        pressed = self._d.query_keymap()
        held = []
        for name in _MODIFIER_KEYSYMS:
            keycode = table.get(XK.string_to_keysym(name), (0, False))[0]
            if keycode and pressed[keycode // 8] & (1 << (keycode % 8)):
                held.append(keycode)
        return held

    def _clear_modifiers(self, table: dict[int, tuple[int, bool]]) -> None:
        deadline = time.monotonic() + self.modifier_wait_s
        held = self._held_modifiers(table)
        while held and time.monotonic() < deadline:
            time.sleep(0.02)
            held = self._held_modifiers(table)
        for keycode in held:  # still held: release them, as the user would expect plain characters
            xtest.fake_input(self._d, X.KeyRelease, keycode)
        if held:
            self._d.sync()

    def _caps_lock(self) -> bool:
        return bool(self._d.screen().root.query_pointer().mask & X.LockMask)

    # -- keys -----------------------------------------------------------------------------------------
    def _tap(self, keycode: int, shift: bool, shift_kc: int) -> None:
        if shift:
            xtest.fake_input(self._d, X.KeyPress, shift_kc)
        xtest.fake_input(self._d, X.KeyPress, keycode)
        xtest.fake_input(self._d, X.KeyRelease, keycode)
        if shift:
            xtest.fake_input(self._d, X.KeyRelease, shift_kc)

    def _bind(self, keysym: int, spare: list[int]) -> int:
        """Bind ``keysym`` to a spare keycode of its own (reusing one bound earlier); the keycode."""
        keycode = self._borrowed.get(keysym)
        if keycode is not None:
            return keycode
        free = [k for k in spare if k not in self._borrowed.values()]
        if not free:
            if not self._borrowed:
                raise OutputError("The keyboard map has no free key to type special characters with.")
            self._unbind_all()
            free = spare
        keycode = free[-1]
        self._d.change_keyboard_mapping(keycode, [(keysym, keysym)])
        self._borrowed[keysym] = keycode
        return keycode

    def _unbind_all(self) -> None:
        """Give the borrowed keycodes back (after the receiver has had time to read the keymap)."""
        if not self._borrowed:
            return
        self._d.sync()
        time.sleep(self.settle_s)
        for keycode in self._borrowed.values():
            self._d.change_keyboard_mapping(keycode, [(X.NoSymbol, X.NoSymbol)])
        self._borrowed.clear()
        self._d.sync()

    def _schedule_release(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
        if self._borrowed:
            self._release_timer = threading.Timer(self.release_after_s, self.release_keys)
            self._release_timer.daemon = True
            self._release_timer.start()

    def release_keys(self) -> None:
        """Unbind every borrowed keycode now (also done ``release_after_s`` after the last text)."""
        with self._lock:
            try:
                self._unbind_all()
            except (error.XError, error.ConnectionClosedError) as exc:
                logger.warning("Could not give borrowed keys back: %s", exc)

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused window; characters nobody can type (controls) are skipped."""
        if not text:
            return
        with self._lock:
            try:
                table, spare = self._mapping()
                self._clear_modifiers(table)
                shift_kc = self._keycode(SHIFT_L, table)
                caps_kc = self._keycode(CAPS_LOCK, table) if self._caps_lock() else 0
                if caps_kc:  # Caps Lock would change letters (borrowed ones too): off while typing
                    self._tap(caps_kc, False, shift_kc)
                try:
                    for char in text:
                        keysym = keysym_for(char)
                        if keysym is None:
                            continue
                        found = table.get(keysym)
                        if found is not None and found[0] not in self._borrowed.values():
                            self._tap(found[0], found[1], shift_kc)
                        else:
                            self._tap(self._bind(keysym, spare), False, shift_kc)
                finally:
                    if caps_kc:
                        self._tap(caps_kc, False, shift_kc)
                self._d.sync()
                self._schedule_release()
            except error.XError as exc:
                raise OutputError(f"The X server refused a typed key: {exc}.") from exc
            except error.ConnectionClosedError as exc:
                raise OutputError("The X display closed while typing.") from exc

    def backspace(self, count: int) -> None:
        """Delete ``count`` characters before the cursor."""
        if count <= 0:
            return
        with self._lock:
            try:
                table, _ = self._mapping()
                self._clear_modifiers(table)
                keycode = self._keycode(BACKSPACE, table)
                for _ in range(count):
                    xtest.fake_input(self._d, X.KeyPress, keycode)
                    xtest.fake_input(self._d, X.KeyRelease, keycode)
                self._d.sync()
            except error.XError as exc:
                raise OutputError(f"The X server refused a typed key: {exc}.") from exc

    def chord(self, keysyms: tuple[int, ...]) -> None:
        """Press the keys of ``keysyms`` in order and release them in reverse (a shortcut such as Ctrl+V)."""
        with self._lock:
            try:
                table, _ = self._mapping()
                self._clear_modifiers(table)
                keycodes = [self._keycode(k, table) for k in keysyms]
                for keycode in keycodes:
                    xtest.fake_input(self._d, X.KeyPress, keycode)
                for keycode in reversed(keycodes):
                    xtest.fake_input(self._d, X.KeyRelease, keycode)
                self._d.sync()
            except error.XError as exc:
                raise OutputError(f"The X server refused a typed key: {exc}.") from exc

    def paste(self, terminal: bool) -> None:
        """Ctrl+V, or Ctrl+Shift+V in a terminal."""
        self.chord((CONTROL_L, SHIFT_L, LOWER_V) if terminal else (CONTROL_L, LOWER_V))

    def focused_is_terminal(self) -> bool:
        """Whether the focused window (or its nearest ancestor with a class) is a terminal emulator."""
        from .terminals import is_terminal_class

        with self._lock:
            try:
                window = self._d.get_input_focus().focus
                while window not in (None, X.NONE, X.PointerRoot) and window != self._d.screen().root:
                    wm_class = window.get_wm_class()
                    if wm_class:
                        return is_terminal_class(*wm_class)
                    parent = window.query_tree().parent
                    window = parent
            except (error.XError, AttributeError):
                return False
        return False

    def close(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
        self.release_keys()
        with self._lock:
            self._d.close()
