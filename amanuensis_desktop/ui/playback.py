"""Click to listen: the audio of one word (with a little context) played on the default output device.

Live sessions keep the audio of their finals here, bounded (the oldest clips are dropped past ``max_seconds``);
file results read their file again on the first click.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np

from ..whisper.audio import SAMPLE_RATE

logger = logging.getLogger(__name__)

CONTEXT_S = 0.2  # played before and after the word
# Silence around the clip: a stream's start and its drain swallow the first ~15 ms and the last ~20 ms of what
# is played (PortAudio through ALSA's pulse plugin, recorded back from a PulseAudio sink: tests/ui/
# test_words_playback.py); 50 ms of silence each side gets every sample of the word out.
PAD_S = 0.05


class SessionAudio:
    """Clips of session audio placed on the transcript's time line, at most ``max_seconds`` of them in all."""

    def __init__(self, max_seconds: float = 600.0):
        self.max_samples = int(max_seconds * SAMPLE_RATE)
        self._clips: deque[tuple[float, np.ndarray]] = deque()
        self._samples = 0

    def add(self, start: float, audio: np.ndarray) -> None:
        if audio is None or not audio.size:
            return
        self._clips.append((start, np.asarray(audio, dtype=np.float32)))
        self._samples += audio.size
        while self._samples > self.max_samples and len(self._clips) > 1:
            _, old = self._clips.popleft()
            self._samples -= old.size

    def clear(self) -> None:
        self._clips.clear()
        self._samples = 0

    @property
    def seconds(self) -> float:
        return self._samples / SAMPLE_RATE

    def slice(self, start: float, end: float, context: float = CONTEXT_S) -> np.ndarray | None:
        """The audio from ``start - context`` to ``end + context`` (clipped to the clip holding the word)."""
        for clip_start, audio in reversed(self._clips):
            clip_end = clip_start + audio.size / SAMPLE_RATE
            if clip_start - 1e-3 <= start <= clip_end:
                return word_slice(audio, start - clip_start, end - clip_start, context)
        return None


def word_slice(audio: np.ndarray, start: float, end: float, context: float = CONTEXT_S) -> np.ndarray:
    """``audio[start - context : end + context]`` in seconds, clipped to the audio."""
    a = max(0, int((start - context) * SAMPLE_RATE))
    b = min(audio.size, int((end + context) * SAMPLE_RATE))
    return audio[a:b]


def play(audio: np.ndarray) -> str | None:
    """Start playing 16 kHz ``audio`` (returns at once); one sentence on failure, else None."""
    try:
        import sounddevice as sd

        pad = np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)
        sd.stop()
        sd.play(np.concatenate([pad, np.asarray(audio, dtype=np.float32).reshape(-1), pad]), SAMPLE_RATE)
    except Exception as exc:  # PortAudio errors have many types: no device, busy device, missing library
        logger.info("playback failed: %s", exc)
        return f"Cannot play the word: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}."
    return None


def stop() -> None:
    """Stop click-to-listen playback (and close its stream)."""
    try:
        import sounddevice as sd

        sd.stop()
    except Exception as exc:  # nothing to stop, or no PortAudio
        logger.info("stopping playback failed: %s", exc)
