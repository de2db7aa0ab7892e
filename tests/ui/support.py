"""Helpers shared by the tests/ui/ test modules (no tests here)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JFK_REF = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def make_store(tmp_path: Path, **values):
    from PySide6.QtCore import QSettings

    from amanuensis_desktop.ui.settings_store import SettingsStore

    store = SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    if values:
        store.update(values)
    return store


def make_window(qtbot, tmp_path: Path, engine=None, show=True, **settings):
    """A MainWindow with its own data folder and settings file under ``tmp_path``."""
    os.environ["AMANUENSIS_DATA_DIR"] = str(tmp_path / "data")
    from amanuensis_desktop.ui.main_window import MainWindow

    store = make_store(tmp_path, **settings)
    window = MainWindow(store, engine=engine)
    qtbot.addWidget(window)
    if show:
        window.show()
        qtbot.waitExposed(window)
    return window


SRT_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)$")


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """Strict SRT parse: numbered blocks from 1, valid times, start < end, non-decreasing starts."""
    cues = []
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    for i, block in enumerate(blocks, 1):
        lines = block.split("\n")
        assert lines[0] == str(i), f"cue {i} is numbered {lines[0]!r}"
        m = SRT_TIME.match(lines[1])
        assert m, f"bad time line {lines[1]!r}"
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        assert end > start, lines[1]
        assert not cues or start >= cues[-1][0]
        assert len(lines) >= 3 and all(line.strip() for line in lines[2:])
        cues.append((start, end, " ".join(lines[2:])))
    return cues
