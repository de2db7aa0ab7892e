"""Amanuensis Desktop: live dictation with Whisper on the fastest honest backend."""

__version__ = "0.1.0"
