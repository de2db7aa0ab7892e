"""Live dictation: microphone (or file) → VAD segments → partial and final text, as toolkit-free events.

from amanuensis_desktop.live import LivePipeline, LiveOptions, list_input_devices, FileSource
from amanuensis_desktop.live.events import Partial, Final, Level, Backlog, BackendInfo, Error, Stopped

The names are imported on first use (PEP 562), so that ``amanuensis transcribe`` — whose argument parser
imports ``live.command`` — does not load the audio sources, the VAD and the pipeline at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..audio.devices import list_input_devices
    from ..audio.sources import FileSource
    from .pipeline import LiveOptions, LivePipeline
    from .vad import VadOptions

__all__ = ["LivePipeline", "LiveOptions", "VadOptions", "list_input_devices", "FileSource"]

_HOMES = {
    "list_input_devices": "..audio.devices",
    "FileSource": "..audio.sources",
    "LiveOptions": ".pipeline",
    "LivePipeline": ".pipeline",
    "VadOptions": ".vad",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
