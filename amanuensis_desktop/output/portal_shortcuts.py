"""Global hotkeys on Wayland through the XDG GlobalShortcuts portal (GNOME 48+, KDE Plasma 5.27+, Hyprland).

The portal owns the keys: we propose a trigger ("CTRL+ALT+d") for each action, the desktop asks the user once
and sends ``Activated``/``Deactivated`` signals (press/release; push-to-talk uses both). One thread holds the
D-Bus connection. Desktops without the portal: bind ``amanuensis toggle`` in the desktop's shortcut settings.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .errors import OutputError
from .hotkeys import Hotkey, HotkeyAction, HotkeyEvent
from .portal import OBJECT_PATH, PortalSession

logger = logging.getLogger(__name__)

INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
_DESCRIPTIONS = {HotkeyAction.TOGGLE: "Start or stop dictation", HotkeyAction.PUSH_TO_TALK: "Dictate while held"}


class PortalShortcuts:
    """``start()`` creates the session (raises :class:`OutputError` when there is no portal); binding (which
    may show the desktop's dialog) and listening happen on the thread. ``on_error`` gets later failures."""

    def __init__(
        self,
        bindings: dict[Hotkey, HotkeyAction],
        on_event: Callable[[HotkeyEvent], None],
        on_error: Callable[[str], None] | None = None,
        bus: str = "SESSION",
    ) -> None:
        self.bindings = dict(bindings)
        self.on_event = on_event
        self.on_error = on_error or (lambda message: logger.warning("%s", message))
        self.bus = bus
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._portal: PortalSession | None = None
        self.session = ""
        self.bound: dict[str, str] = {}  # action id -> the trigger the desktop chose (for the UI)

    def start(self) -> None:
        self._portal = PortalSession(self.bus)
        results = self._portal.call(
            INTERFACE, "CreateSession", "a{sv}", ({"session_handle_token": ("s", "amanuensis")},), timeout_s=10
        )
        self.session = str(results.get("session_handle", ""))
        if not self.session:
            raise OutputError("The GlobalShortcuts portal gave no session.")
        self._thread = threading.Thread(target=self._run, name="portal-shortcuts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._portal is not None:
            self._portal.close()

    def _run(self) -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import Proxy

        assert self._portal is not None
        conn = self._portal.conn
        shortcuts = [
            (
                action.value,
                {"description": ("s", _DESCRIPTIONS[action]), "preferred_trigger": ("s", hotkey.portal_trigger())},
            )
            for hotkey, action in self.bindings.items()
        ]
        rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
        Proxy(message_bus, conn).AddMatch(rule)
        with conn.filter(rule, bufsize=64) as queue:
            try:
                results = self._portal.call(
                    INTERFACE, "BindShortcuts", "oa(sa{sv})sa{sv}", (self.session, shortcuts, "", {})
                )
            except OutputError as exc:
                self.on_error(str(exc))
                return
            for item in results.get("shortcuts", []):
                self.bound[item[0]] = str(item[1].get("trigger_description", ("s", ""))[1])
            actions = {a.value: a for a in HotkeyAction}
            while not self._stop.is_set():
                try:
                    msg = conn.recv_until_filtered(queue, timeout=0.25)
                except TimeoutError:
                    continue
                except OSError as exc:
                    self.on_error(f"The GlobalShortcuts portal connection closed: {exc}.")
                    return
                member = msg.header.fields.get(3)  # HeaderFields.member
                session, shortcut_id = msg.body[0], msg.body[1]
                action = actions.get(shortcut_id)
                if session != self.session or action is None or member not in ("Activated", "Deactivated"):
                    continue
                pressed = member == "Activated"
                if action is HotkeyAction.TOGGLE and not pressed:
                    continue
                self.on_event(HotkeyEvent(action, pressed))
