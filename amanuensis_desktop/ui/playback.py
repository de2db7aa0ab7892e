"""Click to listen: the audio of one word (with a little context) played on the default output device.

Live sessions keep the audio of their finals here, bounded (the oldest clips are dropped past ``max_seconds``);
file results read their file again on the first click.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

import numpy as np

from ..whisper.audio import SAMPLE_RATE

logger = logging.getLogger(__name__)

CONTEXT_S = 0.2  # played before and after the word
# Silence around the clip: a stream's start and its drain swallow the first ~15 ms and the last ~20 ms of what
# is played (PortAudio through ALSA's pulse plugin, recorded back from a PulseAudio sink: tests/ui/
# test_words_playback.py); 50 ms of silence each side gets every sample of the word out.
PAD_S = 0.05
LATENCY_S = "high"  # PortAudio's larger output buffer (a click needs no low latency)


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


class _Player:
    """One clip at a time, written to a blocking PortAudio stream from a thread of its own.

    A callback stream (``sounddevice.play``) needs the GIL for every block; while the window's thread held it,
    PulseAudio ran dry and inserted 60-150 ms of silence into the word (recorded back in
    tests/ui/test_words_playback.py). A blocking write waits inside PortAudio without the GIL, ``CHUNK_S`` of
    audio at a time; a newer click stops the older clip between chunks."""

    CHUNK_S = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: threading.Event | None = None  # set = stop the clip being played
        self._thread: threading.Thread | None = None

    def play(self, clip: np.ndarray) -> None:
        import sounddevice as sd

        self.stop()
        stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", latency=LATENCY_S)
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stream, clip, stop), name="word-playback", daemon=True)
        with self._lock:
            self._current, self._thread = stop, thread
        thread.start()

    @classmethod
    def _run(cls, stream, clip: np.ndarray, stop: threading.Event) -> None:
        step = int(cls.CHUNK_S * SAMPLE_RATE)
        try:
            stream.start()
            for at in range(0, clip.size, step):
                if stop.is_set():
                    stream.abort()
                    return
                stream.write(np.ascontiguousarray(clip[at : at + step].reshape(-1, 1)))
            stream.stop()  # returns once what was written has been played
        except Exception as exc:  # PortAudio errors have many types
            logger.info("playback failed: %s", exc)
        finally:
            stream.close()

    def stop(self, wait: float = 1.0) -> None:
        """Stop the clip being played (if any) and wait up to ``wait`` seconds for its stream to close."""
        with self._lock:
            stop, thread = self._current, self._thread
            self._current = self._thread = None
        if stop is not None:
            stop.set()
        if thread is not None:
            thread.join(wait)


_player = _Player()


def play(audio: np.ndarray) -> str | None:
    """Start playing 16 kHz ``audio`` (returns at once); one sentence on failure, else None."""
    try:
        pad = np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)
        _player.play(np.concatenate([pad, np.asarray(audio, dtype=np.float32).reshape(-1), pad]))
    except Exception as exc:  # PortAudio errors have many types: no device, busy device, missing library
        logger.info("playback failed: %s", exc)
        return f"Cannot play the word: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}."
    return None


def stop() -> None:
    """Stop click-to-listen playback (and close its stream)."""
    _player.stop()
