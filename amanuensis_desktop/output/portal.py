"""The XDG desktop portal's request/response pattern over D-Bus (jeepney, pure Python).

A portal method returns a Request object path at once; the answer comes later as that Request's
``Response(u code, a{sv} results)`` signal. The path is predictable from our unique bus name and a
``handle_token``, so we subscribe before calling (else a fast portal answers before we listen).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from .errors import OutputError

logger = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
_tokens = itertools.count(1)


class PortalSession:
    """A blocking connection to the session bus and the portal calls made on it (use from one thread)."""

    def __init__(self, bus_address: str = "SESSION") -> None:
        from jeepney.io.blocking import open_dbus_connection

        try:
            self.conn = open_dbus_connection(bus=bus_address)
        except (OSError, KeyError, ValueError) as exc:
            raise OutputError(f"Cannot reach the desktop's session bus: {exc}.") from exc

    def request_path(self, token: str) -> str:
        sender = (self.conn.unique_name or "").lstrip(":").replace(".", "_")
        return f"{OBJECT_PATH}/request/{sender}/{token}"

    def call(self, interface: str, method: str, signature: str, body: tuple, timeout_s: float = 120.0) -> dict:
        """Call a portal method whose last argument is the ``a{sv}`` options; wait for its Response and return
        the results (values unwrapped). Raises :class:`OutputError` when refused or unanswered."""
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy
        from jeepney.wrappers import DBusErrorResponse

        token = f"amanuensis{next(_tokens)}"
        path = self.request_path(token)
        rule = MatchRule(type="signal", interface="org.freedesktop.portal.Request", member="Response", path=path)
        Proxy(message_bus, self.conn).AddMatch(rule)
        options = dict(body[-1])
        options["handle_token"] = ("s", token)
        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
        with self.conn.filter(rule) as queue:
            try:
                reply = self.conn.send_and_get_reply(
                    new_method_call(address, method, signature, (*body[:-1], options)), timeout=10
                )
            except TimeoutError as exc:
                raise OutputError(f"The desktop portal did not answer {method}.") from exc
            if reply.header.message_type.name == "error":
                name = reply.header.fields.get(4, "an error")  # HeaderFields.error_name
                raise OutputError(f"The desktop portal refused {method} ({name}).")
            try:
                signal = self.conn.recv_until_filtered(queue, timeout=timeout_s)
            except TimeoutError as exc:
                raise OutputError(f"The desktop portal did not finish {method} in {timeout_s:.0f} s.") from exc
            except DBusErrorResponse as exc:
                raise OutputError(f"The desktop portal failed {method}: {exc}.") from exc
        code, results = signal.body
        if code == 1:
            raise OutputError(f"Permission was not given ({method} was cancelled).")
        if code != 0:
            raise OutputError(f"The desktop portal could not {method}.")
        return {key: value[1] for key, value in results.items()}

    def close(self) -> None:
        self.conn.close()


def unwrap(value: Any) -> Any:
    """A jeepney variant ``(signature, value)`` -> value."""
    return value[1] if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) else value
