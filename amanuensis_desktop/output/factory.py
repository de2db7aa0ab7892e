"""Assembles the output for a mode: the route (for typing and pasting), the clipboard and the sink."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace

from .clipboard import Clipboard, Paster, QtClipboard, WlClipboard, _timer
from .errors import OutputError
from .routes import Route, RouteChoice, Session, choose_route, detect_session
from .sink import OutputMode, OutputOptions, OutputSink


def qt_schedule(delay_s: float, action: Callable[[], None]) -> None:
    """Run ``action`` on the GUI thread after ``delay_s`` (call from the GUI thread)."""
    from PySide6.QtCore import QTimer

    QTimer.singleShot(int(delay_s * 1000), action)


def make_clipboard(env: Mapping[str, str] | None = None) -> Clipboard:
    """``wl-copy`` on Wayland where installed (it works without focus), else Qt's clipboard."""
    if detect_session(env) is Session.WAYLAND:
        try:
            return WlClipboard()
        except OutputError:
            pass
    return QtClipboard()


def ensure_display(env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`OutputError` (one sentence) when the session's display cannot be reached — before Qt
    is started on it, which would abort the process instead."""
    env = os.environ if env is None else env
    session = detect_session(env)
    if session is Session.X11:
        from .x11 import open_display

        open_display(env.get("DISPLAY")).close()
    elif session is Session.WAYLAND:
        from pathlib import Path

        name = env.get("WAYLAND_DISPLAY", "wayland-0")
        path = Path(name) if name.startswith("/") else Path(env.get("XDG_RUNTIME_DIR", "/nonexistent"), name)
        if not path.exists():
            raise OutputError(f"Cannot connect to the Wayland display {name}.")
    else:
        raise OutputError("No graphical session was found (neither DISPLAY nor WAYLAND_DISPLAY is set).")


def needs_qt(mode: OutputMode, env: Mapping[str, str] | None = None) -> bool:
    """Whether this mode uses Qt's clipboard here (the caller must then run a Qt application)."""
    if mode not in (OutputMode.PASTE, OutputMode.CLIPBOARD, OutputMode.TYPE):
        return False
    if detect_session(env) is Session.WAYLAND:
        from shutil import which

        return which("wl-copy") is None
    return True


def open_output(
    options: OutputOptions, route: Route | None = None, env: Mapping[str, str] | None = None
) -> tuple[OutputSink, RouteChoice | None]:
    """The sink for ``options.mode`` and the route it types through (None when it does not type).
    Raises :class:`OutputError` when the mode cannot work here."""
    env = os.environ if env is None else env
    mode = options.mode
    choice = typer = clipboard = paster = None
    if mode in (OutputMode.TYPE, OutputMode.PASTE):
        choice = choose_route(env, only=route)
        typer = choice.typer
        if mode is OutputMode.TYPE and getattr(typer, "prefers_paste", False):
            mode = OutputMode.PASTE  # the portal types keysyms of the user's layout only: paste instead
            options = replace(options, mode=mode)
    if mode in (OutputMode.PASTE, OutputMode.CLIPBOARD) or (mode is OutputMode.TYPE and typer is None):
        clipboard = make_clipboard(env)
    if mode is OutputMode.PASTE:
        if typer is None or clipboard is None:
            raise OutputError(
                f"Paste mode needs a way to press Ctrl+V, and none works here ({choice.notice if choice else ''})."
            )
        schedule = qt_schedule if isinstance(clipboard, QtClipboard) else _timer
        paster = Paster(clipboard, typer, options.restore_clipboard_s, schedule)
    return OutputSink(options, typer, clipboard, paster), choice
