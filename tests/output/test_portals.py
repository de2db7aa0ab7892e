"""The XDG portals (GlobalShortcuts hotkeys, RemoteDesktop keys) against a stub portal on a private session
bus (the real backends are GNOME's and KDE's, which cannot run here)."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jeepney")

from amanuensis_desktop.output.hotkeys import Hotkey, HotkeyAction, HotkeyEvent  # noqa: E402
from amanuensis_desktop.output.portal_shortcuts import PortalShortcuts  # noqa: E402


@pytest.fixture
def private_bus(tmp_path, monkeypatch):
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt install dbus-daemon)")
    config = tmp_path / "session.conf"
    config.write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={tmp_path}/bus</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/></policy></busconfig>""")
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"], stdout=subprocess.PIPE, text=True
    )
    address = daemon.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    stub = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("stub_portal.py"))],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout.readline().strip() == "ready"
    yield address
    stub.terminate()
    stub.wait(5)
    daemon.terminate()
    daemon.wait(5)


def _press(shortcut: str, pressed: bool) -> None:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus="SESSION") as conn:
        conn.send_and_get_reply(
            new_method_call(
                DBusAddress("/org/freedesktop/portal/desktop", "org.freedesktop.portal.Desktop", "org.amanuensis.Test"),
                "Press",
                "sb",
                (shortcut, pressed),
            ),
            timeout=5,
        )


def test_bind_and_receive_toggle_and_push_to_talk(private_bus):
    import time

    events: queue.Queue[HotkeyEvent] = queue.Queue()
    errors: list[str] = []
    shortcuts = PortalShortcuts(
        {Hotkey.parse("ctrl+alt+d"): HotkeyAction.TOGGLE, Hotkey.parse("F9"): HotkeyAction.PUSH_TO_TALK},
        events.put,
        errors.append,
    )
    shortcuts.start()
    try:
        assert shortcuts.session.endswith("/amanuensis")
        deadline = 50
        while not shortcuts.bound and deadline:
            time.sleep(0.1)
            deadline -= 1
        assert shortcuts.bound == {"toggle": "CTRL+ALT+d", "ptt": "F9"}
        _press("toggle", True)
        _press("toggle", False)
        _press("ptt", True)
        _press("ptt", False)
        got = [events.get(timeout=5) for _ in range(3)]
        assert got == [
            HotkeyEvent(HotkeyAction.TOGGLE, True),
            HotkeyEvent(HotkeyAction.PUSH_TO_TALK, True),
            HotkeyEvent(HotkeyAction.PUSH_TO_TALK, False),
        ]
        assert errors == []
    finally:
        shortcuts.stop()


def test_no_portal_is_one_sentence(private_bus, monkeypatch, tmp_path):
    from amanuensis_desktop.output.errors import OutputError

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/nothing")
    with pytest.raises(OutputError, match="session bus"):
        PortalShortcuts({Hotkey.parse("F9"): HotkeyAction.TOGGLE}, lambda e: None).start()


def test_remote_desktop_typer_keys_and_restore_token(private_bus, tmp_path):
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    from amanuensis_desktop.output.keysyms import CONTROL_L, LOWER_V
    from amanuensis_desktop.output.portal_remote import PortalTyper

    token = tmp_path / "token"
    typer = PortalTyper(token)
    assert token.read_text() == "token-1"
    typer.type_text("hé\n")
    typer.paste(terminal=False)
    typer.close()
    PortalTyper(token).close()  # the second session offers the kept token
    with open_dbus_connection(bus="SESSION") as conn:
        reply = conn.send_and_get_reply(
            new_method_call(
                DBusAddress("/org/freedesktop/portal/desktop", "org.freedesktop.portal.Desktop", "org.amanuensis.Test"),
                "Keys",
            ),
            timeout=5,
        )
    keys, restored = reply.body
    assert keys == [
        (0x68, 1),
        (0x68, 0),
        (0xE9, 1),
        (0xE9, 0),
        (0xFF0D, 1),
        (0xFF0D, 0),
        (CONTROL_L, 1),
        (LOWER_V, 1),
        (LOWER_V, 0),
        (CONTROL_L, 0),
    ]
    assert restored == ["", "token-1"]
