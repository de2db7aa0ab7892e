"""A stand-in for the GlobalShortcuts portal backend (GNOME/KDE cannot run here), on a private bus:
``python stub_portal.py`` serves org.freedesktop.portal.Desktop until terminated. GlobalShortcuts: it answers
CreateSession and BindShortcuts through Request ``Response`` signals like the real portal, and emits
Activated/Deactivated when told through its own method ``org.amanuensis.Test.Press(s id, b pressed)``.
RemoteDesktop: CreateSession, SelectDevices, Start (keyboard granted, restore token "token-1"), and it records
NotifyKeyboardKeysym calls, returned by ``org.amanuensis.Test.Keys``."""

from __future__ import annotations

import sys

from jeepney import HeaderFields, MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection
from jeepney.wrappers import DBusAddress

PATH = "/org/freedesktop/portal/desktop"
IFACE = "org.freedesktop.portal.GlobalShortcuts"


def main() -> int:
    conn = open_dbus_connection(bus="SESSION")
    Proxy(message_bus, conn).RequestName("org.freedesktop.portal.Desktop")
    session = ""
    keys: list[tuple[int, int]] = []  # RemoteDesktop: (keysym, state) in order
    restored: list[str] = []  # restore tokens offered to SelectDevices
    print("ready", flush=True)
    while True:
        try:
            msg = conn.receive()
        except (OSError, ValueError):
            return 0
        if msg.header.message_type is not MessageType.method_call:
            continue
        fields = msg.header.fields
        member, sender = fields[HeaderFields.member], fields[HeaderFields.sender]
        iface = fields.get(HeaderFields.interface, "")
        if iface.endswith("RemoteDesktop") and member in ("CreateSession", "SelectDevices", "Start"):
            token = msg.body[-1]["handle_token"][1]
            request = f"{PATH}/request/{sender.lstrip(':').replace('.', '_')}/{token}"
            conn.send(new_method_return(msg, "o", (request,)))
            if member == "CreateSession":
                rd_session = f"{PATH}/session/{sender.lstrip(':').replace('.', '_')}/rd"
                results = {"session_handle": ("s", rd_session)}
            elif member == "SelectDevices":
                restored.append(msg.body[1].get("restore_token", ("s", ""))[1])
                results = {}
            else:
                results = {"devices": ("u", 1), "restore_token": ("s", "token-1")}
            conn.send(
                new_signal(
                    DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response", "ua{sv}", (0, results)
                )
            )
        elif member == "NotifyKeyboardKeysym":
            keys.append((msg.body[2], msg.body[3]))
            conn.send(new_method_return(msg))
        elif member == "Keys":
            conn.send(new_method_return(msg, "a(iu)as", (keys, restored)))
        elif member in ("CreateSession", "BindShortcuts"):
            token = msg.body[-1]["handle_token"][1]
            request = f"{PATH}/request/{sender.lstrip(':').replace('.', '_')}/{token}"
            conn.send(new_method_return(msg, "o", (request,)))
            if member == "CreateSession":
                session = f"{PATH}/session/{sender.lstrip(':').replace('.', '_')}/amanuensis"
                results = {"session_handle": ("s", session)}
            else:
                bound = [
                    (
                        sid,
                        {
                            "description": opts["description"],
                            "trigger_description": ("s", opts["preferred_trigger"][1]),
                        },
                    )
                    for sid, opts in msg.body[1]
                ]
                results = {"shortcuts": ("a(sa{sv})", bound)}
            conn.send(
                new_signal(
                    DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response", "ua{sv}", (0, results)
                )
            )
        elif member == "Press":
            shortcut, pressed = msg.body
            conn.send(new_method_return(msg))
            conn.send(
                new_signal(
                    DBusAddress(PATH, interface=IFACE),
                    "Activated" if pressed else "Deactivated",
                    "osta{sv}",
                    (session, shortcut, 0, {}),
                )
            )
        else:
            conn.send(new_method_return(msg))


if __name__ == "__main__":
    sys.exit(main())
