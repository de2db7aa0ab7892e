"""The SVG icons shipped in this package folder (found installed or not, via importlib.resources)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

NAMES = ("app", "tray-idle", "tray-listening", "tray-transcribing")


def icon_path(name: str) -> Path:
    if name not in NAMES:
        raise KeyError(name)
    ref = resources.files(__name__) / f"{name}.svg"
    return Path(str(ref))


@cache
def icon(name: str):
    from PySide6.QtGui import QIcon

    return QIcon(str(icon_path(name)))
