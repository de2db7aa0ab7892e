"""Live dictation: microphone (or file) → VAD segments → partial and final text, as toolkit-free events.

from amanuensis_desktop.live import LivePipeline, LiveOptions, list_input_devices, FileSource
from amanuensis_desktop.live.events import Partial, Final, Level, Backlog, BackendInfo, Error, Stopped
"""

from ..audio.devices import list_input_devices
from ..audio.sources import FileSource
from .pipeline import LiveOptions, LivePipeline
from .vad import VadOptions

__all__ = ["LivePipeline", "LiveOptions", "VadOptions", "list_input_devices", "FileSource"]
