"""Which way text reaches other apps on this session: the first route that works, named for the UI.

X11: XTEST (python-xlib). Wayland: ``wtype`` on wlroots compositors, ``kwtype`` or the RemoteDesktop portal
on KDE, the RemoteDesktop portal on GNOME, ``ydotool`` where /dev/uinput is writable and its daemon runs.
When none works, the clipboard: the text is copied and the user is told to paste it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from .errors import OutputError

logger = logging.getLogger(__name__)


class Session(Enum):
    X11 = "x11"
    WAYLAND = "wayland"
    NONE = "none"  # a console or an ssh login: no graphical session


class Route(Enum):
    X11 = "x11"
    WTYPE = "wtype"
    KWTYPE = "kwtype"
    PORTAL = "portal"
    YDOTOOL = "ydotool"
    CLIPBOARD = "clipboard"


class Typer(Protocol):
    """Sends keys to the focused app of another process."""

    name: str

    def type_text(self, text: str) -> None: ...

    def backspace(self, count: int) -> None: ...

    def paste(self, terminal: bool) -> None: ...

    def focused_is_terminal(self) -> bool: ...

    def close(self) -> None: ...


def detect_session(env: Mapping[str, str] | None = None) -> Session:
    env = os.environ if env is None else env
    kind = env.get("XDG_SESSION_TYPE", "").lower()
    if kind == "wayland" or (kind != "x11" and env.get("WAYLAND_DISPLAY")):
        return Session.WAYLAND
    if kind == "x11" or env.get("DISPLAY"):
        return Session.X11
    return Session.NONE


def desktops(env: Mapping[str, str] | None = None) -> list[str]:
    """$XDG_CURRENT_DESKTOP as lower-case names ("ubuntu:GNOME" -> ["ubuntu", "gnome"])."""
    env = os.environ if env is None else env
    return [d.strip().lower() for d in env.get("XDG_CURRENT_DESKTOP", "").split(":") if d.strip()]


def candidate_routes(env: Mapping[str, str] | None = None) -> list[Route]:
    """Routes to try, best first, for the session described by ``env``. Always ends with the clipboard."""
    session = detect_session(env)
    if session is Session.X11:
        return [Route.X11, Route.CLIPBOARD]
    if session is Session.NONE:
        return [Route.CLIPBOARD]
    names = desktops(env)
    if "gnome" in names:
        order = [Route.PORTAL, Route.YDOTOOL]
    elif "kde" in names:
        order = [Route.KWTYPE, Route.PORTAL, Route.YDOTOOL]
    else:  # sway, Hyprland, river, labwc, wayfire...: the wlroots virtual keyboard
        order = [Route.WTYPE, Route.PORTAL, Route.YDOTOOL]
    return [*order, Route.CLIPBOARD]


def _make(route: Route, env: Mapping[str, str]) -> Typer | None:
    if route is Route.X11:
        from .x11 import XTestTyper

        return XTestTyper(env.get("DISPLAY"))
    if route is Route.WTYPE:
        from .wayland import WtypeTyper

        return WtypeTyper()
    if route is Route.KWTYPE:
        from .wayland import KwtypeTyper

        return KwtypeTyper()
    if route is Route.YDOTOOL:
        from .wayland import YdotoolTyper

        return YdotoolTyper()
    if route is Route.PORTAL:
        from .portal_remote import PortalTyper

        return PortalTyper()
    return None


@dataclass
class RouteChoice:
    """The route in use, its typer (None for the clipboard) and why better routes were not used."""

    route: Route
    typer: Typer | None
    skipped: list[tuple[Route, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.typer.name if self.typer is not None else "clipboard (paste it yourself)"

    @property
    def notice(self) -> str:
        """One sentence for the window when the best route was not available ("" when it was)."""
        if not self.skipped:
            return ""
        route, why = self.skipped[0]
        return f"Typing via {self.label} because {route.value} is unavailable: {why.rstrip('.')}."


def choose_route(
    env: Mapping[str, str] | None = None,
    only: Route | None = None,
    factory: Callable[[Route, Mapping[str, str]], Typer | None] = _make,
) -> RouteChoice:
    """The first route that works (or exactly ``only``, raising :class:`OutputError` when it does not)."""
    env = os.environ if env is None else env
    routes = [only] if only is not None else candidate_routes(env)
    skipped: list[tuple[Route, str]] = []
    for route in routes:
        try:
            typer = factory(route, env)
        except OutputError as exc:
            if only is not None:
                raise
            skipped.append((route, str(exc)))
            logger.info("Output route %s unavailable: %s", route.value, exc)
            continue
        return RouteChoice(route, typer, skipped)
    raise OutputError("No graphical session was found, so text cannot be typed into other apps.")
