"""Live dictation: microphone (or file) → VAD segments → partial and final text, as toolkit-free events.

    from amanuensis_desktop.live import LivePipeline, LiveOptions, list_input_devices, FileSource
    from amanuensis_desktop.live.events import Partial, Final, Level, Backlog, BackendInfo, Error, Stopped
"""

from ..audio.capture import list_input_devices
from .pipeline import LiveOptions, LivePipeline
from .sources import FileSource

__all__ = ["LivePipeline", "LiveOptions", "list_input_devices", "FileSource"]
