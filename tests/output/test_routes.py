"""Route detection from the session's environment, and the first-that-works choice."""

from __future__ import annotations

import pytest

from amanuensis_desktop.output.errors import OutputError
from amanuensis_desktop.output.routes import Route, Session, candidate_routes, choose_route, detect_session


@pytest.mark.parametrize(
    "env, session, first",
    [
        ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, Session.X11, Route.X11),
        ({"DISPLAY": ":0"}, Session.X11, Route.X11),
        (
            {
                "XDG_SESSION_TYPE": "wayland",
                "WAYLAND_DISPLAY": "wayland-0",
                "DISPLAY": ":0",
                "XDG_CURRENT_DESKTOP": "ubuntu:GNOME",
            },
            Session.WAYLAND,
            Route.PORTAL,
        ),
        ({"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "KDE"}, Session.WAYLAND, Route.KWTYPE),
        ({"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "sway"}, Session.WAYLAND, Route.WTYPE),
        ({"XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "stale", "DISPLAY": ":1"}, Session.X11, Route.X11),
        ({}, Session.NONE, Route.CLIPBOARD),
    ],
)
def test_detection(env, session, first):
    assert detect_session(env) is session
    routes = candidate_routes(env)
    assert routes[0] is first and routes[-1] is Route.CLIPBOARD


def test_first_route_that_works_is_chosen_and_the_others_are_explained():
    def factory(route, env):
        if route is Route.WTYPE:
            raise OutputError("wtype is not installed (apt install wtype).")
        if route in (Route.PORTAL, Route.YDOTOOL):
            raise OutputError(f"{route.value} is not available.")
        return None

    choice = choose_route({"WAYLAND_DISPLAY": "w"}, factory=factory)
    assert choice.route is Route.CLIPBOARD and choice.typer is None
    assert [r for r, _ in choice.skipped] == [Route.WTYPE, Route.PORTAL, Route.YDOTOOL]
    assert choice.notice == (
        "Typing via clipboard (paste it yourself) because wtype is unavailable: "
        "wtype is not installed (apt install wtype)."
    )


def test_a_requested_route_that_fails_raises():
    def factory(route, env):
        raise OutputError("nope.")

    with pytest.raises(OutputError, match="nope"):
        choose_route({"DISPLAY": ":0"}, only=Route.X11, factory=factory)


def test_x11_route_with_no_server_is_one_sentence():
    with pytest.raises(OutputError, match="Cannot connect to the X display"):
        choose_route({"DISPLAY": ":199"}, only=Route.X11)


def test_wayland_tools_say_why_they_cannot_be_used(monkeypatch, tmp_path):
    """ydotool and kwtype are not installed here (no /dev/uinput, no KDE): each says why in one sentence."""
    from amanuensis_desktop.output import wayland

    monkeypatch.setenv("PATH", str(tmp_path))  # none of the tools on PATH
    for typer, reason in (
        (wayland.WtypeTyper, "wtype is not installed"),
        (wayland.KwtypeTyper, "kwtype is not"),
        (wayland.YdotoolTyper, "ydotool is not installed"),
    ):
        with pytest.raises(OutputError, match=reason):
            typer()
    fake = tmp_path / "ydotool"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    import os

    if not os.access("/dev/uinput", os.W_OK):
        with pytest.raises(OutputError, match="/dev/uinput is not writable"):
            wayland.YdotoolTyper()


def test_a_failing_tool_is_one_sentence(monkeypatch, tmp_path):
    from amanuensis_desktop.output import wayland

    fake = tmp_path / "wtype"
    fake.write_text("#!/bin/sh\necho 'Compositor does not support the virtual keyboard protocol' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        OutputError, match=r"^wtype failed: Compositor does not support the virtual keyboard protocol\.$"
    ):
        wayland.WtypeTyper().type_text("x")
