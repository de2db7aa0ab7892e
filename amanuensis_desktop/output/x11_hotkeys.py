"""Global hotkeys on X11: XGrabKey on a connection and a thread of their own (python-xlib).

Each hotkey is grabbed with its modifiers and with every combination of Caps Lock and Num Lock, so it works
whatever their state; the grabbed key does not reach the focused app. A held key auto-repeats as
Release+Press pairs with the same timestamp: such pairs are dropped, so push-to-talk sees one press and one
release. The thread sleeps in ``select()`` on the X connection and on a pipe that wakes it to stop.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable

from Xlib import XK, X, error
from Xlib.display import Display

from .errors import OutputError
from .hotkeys import Hotkey, HotkeyAction, HotkeyEvent, Mod
from .wakeup import WakePipe
from .x11 import open_display

logger = logging.getLogger(__name__)

_MASKS = {Mod.SHIFT: X.ShiftMask, Mod.CTRL: X.ControlMask, Mod.ALT: X.Mod1Mask, Mod.SUPER: X.Mod4Mask}
_LOCKS = (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)  # Caps Lock, Num Lock
_REPEAT_WAIT_S = 0.04  # how long a release waits for the press that would make it an auto-repeat


def _mask(mods: Mod) -> int:
    mask = 0
    for mod, bit in _MASKS.items():
        if mod in mods:
            mask |= bit
    return mask


class X11HotkeyListener:
    """Grabs ``bindings`` on the X display and calls ``on_event`` (from its own thread) for each press and
    release. ``start()`` raises :class:`OutputError` when a hotkey cannot be grabbed (taken by another app,
    unknown key name)."""

    def __init__(
        self,
        bindings: dict[Hotkey, HotkeyAction],
        on_event: Callable[[HotkeyEvent], None],
        display_name: str | None = None,
    ) -> None:
        self.bindings = dict(bindings)
        self.on_event = on_event
        self._d: Display = open_display(display_name)
        self._root = self._d.screen().root
        self._grabs: dict[tuple[int, int], HotkeyAction] = {}  # (keycode, modifier mask) -> action
        self._wake = WakePipe()
        self._thread: threading.Thread | None = None
        self._held: set[int] = set()

    # -- grabbing -------------------------------------------------------------------------------------
    def _wanted(self) -> dict[tuple[int, int], HotkeyAction]:
        """(keycode, modifier mask) -> action for the current keymap."""
        wanted = {}
        for hotkey, action in self.bindings.items():
            keysym = XK.string_to_keysym(hotkey.key)
            if not keysym:
                raise OutputError(f"'{hotkey.key}' is not a key name X knows (try e.g. d, F9, space, Pause).")
            keycode = self._d.keysym_to_keycode(keysym)
            if not keycode:
                raise OutputError(f"No key of this keyboard types '{hotkey.key}'.")
            wanted[(keycode, _mask(hotkey.mods))] = action
        return wanted

    def _grab(self, keycode: int, mask: int, action: HotkeyAction) -> None:
        catch = error.CatchError(error.BadAccess)
        for lock in _LOCKS:
            self._root.grab_key(keycode, mask | lock, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
        self._d.sync()
        if catch.get_error():
            for lock in _LOCKS:
                self._root.ungrab_key(keycode, mask | lock)
            self._d.sync()
            hotkey = next(h for h, a in self.bindings.items() if a is action)
            raise OutputError(f"The hotkey {hotkey} is already taken by another app; choose another one.")
        self._grabs[(keycode, mask)] = action

    def _grab_all(self) -> None:
        try:
            for (keycode, mask), action in self._wanted().items():
                self._grab(keycode, mask, action)
        except OutputError:
            self._ungrab_all()
            raise

    def _ungrab_all(self) -> None:
        for keycode, mask in self._grabs:
            for lock in _LOCKS:
                self._root.ungrab_key(keycode, mask | lock)
        self._grabs.clear()
        self._d.sync()

    # -- thread ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._grab_all()
        self._thread = threading.Thread(target=self._run, name="x11-hotkeys", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._wake.stop(self._thread)
        self._thread = None
        try:
            self._ungrab_all()
            self._d.close()
        except (error.ConnectionClosedError, OSError):
            pass
        self._wake.close()

    def _run(self) -> None:
        fd = self._d.fileno()
        pending = None  # a release waiting to see whether a same-time press follows (auto-repeat)
        while True:
            try:  # events already read from the socket (e.g. during a round trip) do not wake select()
                queued = self._d.pending_events()
            except error.ConnectionClosedError:
                logger.warning("The X display closed; global hotkeys stop working.")
                return
            if not queued:
                timeout = _REPEAT_WAIT_S if pending is not None else None
                ready = select.select([fd, self._wake.fd], [], [], timeout)[0]
                if self._wake.fd in ready:
                    return
            try:
                count = self._d.pending_events()
                events = [self._d.next_event() for _ in range(count)]
            except error.ConnectionClosedError:
                logger.warning("The X display closed; global hotkeys stop working.")
                return
            if not events and pending is not None:  # no press followed in time: a real release
                self._emit(pending, False)
                pending = None
            for event in events:
                if event.type == X.MappingNotify:
                    self._remap(event)
                    continue
                if event.type not in (X.KeyPress, X.KeyRelease):
                    continue
                if pending is not None:
                    if event.type == X.KeyPress and event.detail == pending.detail and event.time == pending.time:
                        pending = None  # auto-repeat: drop the pair
                        continue
                    self._emit(pending, False)
                    pending = None
                if event.type == X.KeyRelease:
                    pending = event
                else:
                    self._emit(event, True)

    def _emit(self, event, pressed: bool) -> None:
        action = self._grabs.get((event.detail, event.state & ~(X.LockMask | X.Mod2Mask)))
        if action is None:  # a release after the modifiers were let go: match on the key alone
            action = next((a for (kc, _), a in self._grabs.items() if kc == event.detail), None)
        if action is None:
            return
        if pressed == (event.detail in self._held):
            return  # a second press without release (or a stray release): not a new event
        (self._held.add if pressed else self._held.discard)(event.detail)
        if not pressed and action is HotkeyAction.TOGGLE:
            return  # a toggle acts on the press only
        try:
            self.on_event(HotkeyEvent(action, pressed))
        except Exception:  # the listener thread must survive a failing handler
            logger.exception("A hotkey handler failed")

    def _remap(self, event) -> None:
        """The keymap changed (or only the device that sent the last key did, which X also reports this
        way): move the grabs only when a hotkey's keycode really moved, so no key slips through meanwhile."""
        self._d.refresh_keyboard_mapping(event)
        try:
            wanted = self._wanted()
            for (keycode, mask), action in wanted.items():
                if (keycode, mask) not in self._grabs:
                    self._grab(keycode, mask, action)
            for keycode, mask in [k for k in self._grabs if k not in wanted]:
                for lock in _LOCKS:
                    self._root.ungrab_key(keycode, mask | lock)
                del self._grabs[(keycode, mask)]
            self._d.sync()
        except OutputError as exc:
            logger.warning("%s", exc)
