"""Typing into another app through XTEST on a real X server (Xvfb) with a real Qt receiver."""

from __future__ import annotations

import pytest

pytest.importorskip("Xlib")

from amanuensis_desktop.output.x11 import XTestTyper  # noqa: E402

SAMPLE = "naïve café — 50 °C ß € Привет 日本 🎤"


@pytest.fixture
def typer(xdisplay):
    t = XTestTyper(xdisplay)
    yield t
    t.close()


def test_types_unicode_exactly(typer, receiver):
    typer.type_text(SAMPLE)
    assert receiver.wait_for(SAMPLE).get("text") == SAMPLE


def test_newline_tab_and_backspace(typer, receiver):
    typer.type_text("one\ntwo\tthree")
    typer.backspace(5)
    expected = "one\ntwo\t"
    assert receiver.wait_for(expected).get("text") == expected
