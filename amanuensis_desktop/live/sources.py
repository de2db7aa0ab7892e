"""Audio sources for the live pipeline besides the microphone (:class:`~amanuensis_desktop.audio.capture.
MicrophoneSource`): :class:`FileSource` plays a file (or an array) through the same pipeline in real time."""

from __future__ import annotations

import os
import queue
import threading
import time

import numpy as np

from ..whisper.audio import SAMPLE_RATE


class FileSource:
    """A file or a 16 kHz mono float32 array, delivered in 20 ms blocks at ``speed`` x real time
    (``speed=float('inf')``: as fast as the pipeline takes it). Reading errors raise
    :class:`~amanuensis_desktop.errors.AudioError` (one sentence) from ``open``, i.e. from ``start()``."""

    kind = "file"

    def __init__(self, path_or_audio, speed: float = 1.0, block_s: float = 0.02):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.path = path_or_audio if isinstance(path_or_audio, (str, os.PathLike)) else None
        self._audio = None if self.path is not None else np.asarray(path_or_audio, np.float32).reshape(-1)
        self.speed = float(speed)
        self.block = max(1, int(round(block_s * SAMPLE_RATE)))
        self.sample_rate = float(SAMPLE_RATE)
        self.channels = 1
        self.label = os.fspath(self.path) if self.path is not None else "audio array"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.has_audio = False

    @property
    def duration(self) -> float:
        return 0.0 if self._audio is None else self._audio.size / SAMPLE_RATE

    def open(self, q: queue.SimpleQueue) -> None:
        if self._audio is None:
            from ..audio.files import load_audio

            self._audio = load_audio(self.path)
        self._thread = threading.Thread(target=self._run, args=(q,), name="amanuensis-file-source", daemon=True)
        self._thread.start()

    def _run(self, q: queue.SimpleQueue) -> None:
        audio = self._audio
        t0 = time.monotonic()
        pos = 0
        while pos < audio.size and not self._stop.is_set():
            if self.speed != float("inf"):
                due = t0 + pos / SAMPLE_RATE / self.speed
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
            block = audio[pos : pos + self.block]
            q.put(("audio", block.reshape(-1, 1).copy()))
            self.has_audio = True
            pos += block.size
        q.put(("end", None))

    def check(self) -> str | None:
        return None

    def close(self) -> None:
        """Stop playing (the blocks already delivered are kept)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
