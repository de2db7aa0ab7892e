"""Keys through the XDG RemoteDesktop portal (GNOME, KDE): the desktop asks the user once; with
``persist_mode`` 2 it returns a restore token, kept in the data folder, so later sessions start silently.

Keys are sent as keysyms (``NotifyKeyboardKeysym``); the compositor finds them in the user's layout, so
characters outside it may not type — dictation on this route therefore pastes (clipboard + Ctrl+V), see
``factory.open_output``. Use from one thread (the connection is blocking).
"""

from __future__ import annotations

import logging
from pathlib import Path

from jeepney import DBusAddress, new_method_call

from .errors import OutputError
from .keysyms import BACKSPACE, CONTROL_L, LOWER_V, SHIFT_L, keysym_for
from .portal import BUS_NAME, OBJECT_PATH, PortalSession

logger = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.RemoteDesktop"
_KEYBOARD = 1


def default_token_file() -> Path:
    from ..settings import data_dir

    return data_dir() / "remote-desktop-restore-token"


class PortalTyper:
    name = "Wayland (RemoteDesktop portal)"
    prefers_paste = True

    def __init__(self, token_file: Path | None = None, bus: str = "SESSION") -> None:
        self.token_file = token_file or default_token_file()
        self._p = PortalSession(bus)
        try:
            results = self._p.call(
                INTERFACE, "CreateSession", "a{sv}", ({"session_handle_token": ("s", "amanuensis")},), timeout_s=10
            )
            self.session = str(results.get("session_handle", ""))
            options: dict = {"types": ("u", _KEYBOARD), "persist_mode": ("u", 2)}
            token = self._read_token()
            if token:
                options["restore_token"] = ("s", token)
            self._p.call(INTERFACE, "SelectDevices", "oa{sv}", (self.session, options), timeout_s=10)
            results = self._p.call(INTERFACE, "Start", "osa{sv}", (self.session, "", {}), timeout_s=120)
        except OutputError:
            self._p.close()
            raise
        if not int(results.get("devices", 0)) & _KEYBOARD:
            self._p.close()
            raise OutputError("The desktop did not allow keyboard input for dictation.")
        if results.get("restore_token"):
            self._write_token(str(results["restore_token"]))

    def _read_token(self) -> str:
        try:
            return self.token_file.read_text().strip()
        except OSError:
            return ""

    def _write_token(self, token: str) -> None:
        try:
            self.token_file.parent.mkdir(parents=True, exist_ok=True)
            self.token_file.write_text(token)
            self.token_file.chmod(0o600)
        except OSError as exc:
            logger.warning("Could not keep the portal's restore token: %s", exc)

    def _key(self, keysym: int, pressed: bool) -> None:
        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
        msg = new_method_call(address, "NotifyKeyboardKeysym", "oa{sv}iu", (self.session, {}, keysym, int(pressed)))
        try:
            reply = self._p.conn.send_and_get_reply(msg, timeout=5)
        except (TimeoutError, OSError) as exc:
            raise OutputError(f"The RemoteDesktop portal did not take a key: {exc}.") from exc
        if reply.header.message_type.name == "error":
            raise OutputError("The RemoteDesktop portal refused a key (the session may have ended).")

    def _tap(self, keysym: int) -> None:
        self._key(keysym, True)
        self._key(keysym, False)

    def type_text(self, text: str) -> None:
        for char in text:
            keysym = keysym_for(char)
            if keysym is not None:
                self._tap(keysym)

    def backspace(self, count: int) -> None:
        for _ in range(count):
            self._tap(BACKSPACE)

    def paste(self, terminal: bool) -> None:
        keys = (CONTROL_L, SHIFT_L, LOWER_V) if terminal else (CONTROL_L, LOWER_V)
        for keysym in keys:
            self._key(keysym, True)
        for keysym in reversed(keys):
            self._key(keysym, False)

    def focused_is_terminal(self) -> bool:
        return False

    def close(self) -> None:
        self._p.close()
