"""Audio sources of live dictation: the microphone and a file played in real time, behind one protocol.

A source's ``open(queue)`` puts ``(SourceMessage.AUDIO, ndarray[n, channels])`` items, then
``(SourceMessage.END, None)`` when a finite source is exhausted or ``(SourceMessage.ERROR, sentence)`` when the
device is lost; ``sample_rate`` and ``channels`` describe the blocks; ``check()`` returns an error sentence
when the source has stalled; ``close()`` stops it (idempotent); ``label`` names it for people.

:class:`MicrophoneSource` opens the device at its native rate; the PortAudio callback only copies the block into
the queue (``SimpleQueue.put`` never blocks and never drops). A device that vanishes mid-stream is noticed two
ways: PortAudio finishing the stream on its own, or no callback for ``stall_timeout_s`` (PulseAudio stalls ~2 s
and then silently moves the stream when a source is unloaded).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from ..errors import UserError
from ..whisper.audio import SAMPLE_RATE
from .devices import resolve_input_device, sounddevice_module

logger = logging.getLogger(__name__)

# PortAudio's callback block. Left to PortAudio (blocksize 0) the pulse device called back every ~8 ms; each
# wake-up of the callback and listener threads costs more than the work on the block (idle CPU 5.0 % of a core
# -> 2.5 % at 40 ms). 40 ms delays the end of speech by 20 ms on average, next to 30 ms VAD frames.
BLOCK_S = 0.04


class SourceMessage(StrEnum):
    """Kinds of the items a source puts into the pipeline's queue."""

    AUDIO = "audio"
    END = "end"
    ERROR = "error"


SourceQueue = queue.SimpleQueue[tuple[str, Any]]  # (SourceMessage, payload) items


class AudioSource(Protocol):
    """What the live pipeline needs from a source (see the module docstring)."""

    sample_rate: float
    channels: int
    label: str

    def open(self, q: SourceQueue) -> None: ...

    def check(self) -> str | None: ...

    def close(self) -> None: ...


class MicrophoneSource:
    """A PortAudio input stream feeding the pipeline's queue."""

    def __init__(
        self,
        device: str | int | None = None,
        stall_timeout_s: float = 1.0,
        first_audio_timeout_s: float = 6.0,
        block_s: float = BLOCK_S,
    ) -> None:
        self.device_spec = device
        self.block_s = block_s
        self.stall_timeout_s = stall_timeout_s
        self.first_audio_timeout_s = first_audio_timeout_s
        self.sample_rate = 0.0
        self.channels = 1
        self.label = "microphone"
        self.overflows = 0
        self._stream: Any = None
        self._q: SourceQueue | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._opened_at = 0.0
        self._last_audio = 0.0  # monotonic time of the latest callback (0 = none yet)
        self._lost = False
        self._lost_at = 0.0  # monotonic time the loss was noticed
        self._gen = 0  # streams opened: a finished callback of an older one is not news

    # PortAudio's thread: copy and enqueue, nothing else.
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        assert self._q is not None
        self._q.put((SourceMessage.AUDIO, indata.copy()))
        self._last_audio = time.monotonic()
        if status:
            self.overflows += 1

    def _finished(self, gen: int = 0) -> None:
        if gen == self._gen and not self._closing and self._q is not None:
            self._lost, self._lost_at = True, time.monotonic()
            self._q.put(
                (
                    SourceMessage.ERROR,
                    f"The microphone '{self.label}' stopped delivering audio "
                    "(it was unplugged or taken by another program).",
                )
            )

    def open(self, q: SourceQueue) -> None:
        sd = sounddevice_module()
        self._gen += 1
        gen = self._gen
        dev = resolve_input_device(self.device_spec)
        self.label = dev["name"]
        self._q = q
        native = int(round(dev["default_samplerate"])) or SAMPLE_RATE
        rates = list(dict.fromkeys([native, 48000, 44100, SAMPLE_RATE]))
        chans = list(dict.fromkeys([1, min(2, max(1, dev["channels"]))]))
        last_exc: Exception | None = None
        for rate in rates:
            for ch in chans:
                try:
                    stream = sd.InputStream(
                        device=dev["index"],
                        samplerate=rate,
                        channels=ch,
                        dtype="float32",
                        blocksize=max(0, int(round(rate * self.block_s))),
                        callback=self._callback,
                        finished_callback=lambda: self._finished(gen),
                    )
                except Exception as exc:  # PortAudioError, ValueError for unsupported settings
                    last_exc = exc
                    continue
                try:
                    self._opened_at = time.monotonic()
                    stream.start()
                except Exception as exc:
                    last_exc = exc
                    try:
                        stream.close()
                    except Exception:
                        pass
                    continue
                self._stream, self.sample_rate, self.channels = stream, float(rate), ch
                return
        reason = str(last_exc).strip().rstrip(".") if last_exc else "unknown error"
        raise UserError(
            f"The microphone '{self.label}' could not be opened ({reason}); it may be busy, unplugged or not allowed."
        )

    def resume(self) -> bool:
        """After a loss (``check()`` or the stream's end reported it): True once the device delivers audio
        again. A stream that PortAudio still runs is kept (PulseAudio moves it to another source after ~2 s and
        back to the microphone when it returns); a finished one is closed and opened again, the device looked up
        anew (a UserError while it is absent: tried again on the next call)."""
        if self._closing or not self._lost:
            return not self._closing
        if self._last_audio > self._lost_at:
            self._lost = False
            return True
        stream = self._stream
        if stream is not None and stream.active:
            return False
        with self._lock:
            if self._closing:
                return False
            self._stream = None
            self._gen += 1  # its finished callback, when aborted below, is not a new loss
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # the device is gone: closing may fail
                logger.debug("closing the lost stream failed", exc_info=True)
        try:
            assert self._q is not None
            self.open(self._q)  # its first block sets _last_audio; then the next call says True
        except UserError as exc:
            logger.debug("the microphone is not back yet: %s", exc)
        return False

    def check(self) -> str | None:
        """An error sentence when the device has stopped delivering audio, else None."""
        if self._closing or self._stream is None or self._lost:
            return None
        now = time.monotonic()
        if self._last_audio == 0.0:
            if now - self._opened_at > self.first_audio_timeout_s:
                self._lost, self._lost_at = True, now
                return f"The microphone '{self.label}' delivers no audio (it may be muted, busy or unplugged)."
            return None
        if now - self._last_audio > self.stall_timeout_s:
            self._lost, self._lost_at = True, now
            return (
                f"The microphone '{self.label}' stopped delivering audio (it was unplugged or taken by "
                "another program)."
            )
        return None

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            if self._lost:
                stream.abort()
            else:
                stream.stop()  # lets PortAudio hand over the blocks it already holds
        except Exception:
            pass
        try:
            stream.close()
        except Exception:
            pass


class FileSource:
    """A file or a 16 kHz mono float32 array, delivered in 20 ms blocks at ``speed`` x real time
    (``speed=float('inf')``: as fast as the pipeline takes it). Reading errors raise
    :class:`~amanuensis_desktop.errors.AudioError` (one sentence) from ``open``, i.e. from ``start()``."""

    def __init__(
        self, path_or_audio: str | os.PathLike[str] | np.ndarray, speed: float = 1.0, block_s: float = 0.02
    ) -> None:
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

    def open(self, q: SourceQueue) -> None:
        if self._audio is None:
            from .isolated import decode_file

            assert self.path is not None  # no array given
            self._audio = decode_file(self.path).audio  # in a bounded child: a hostile file costs only itself
        self._thread = threading.Thread(target=self._run, args=(q,), name="amanuensis-file-source", daemon=True)
        self._thread.start()

    def _run(self, q: SourceQueue) -> None:
        audio = self._audio
        assert audio is not None  # loaded by open()
        t0 = time.monotonic()
        pos = 0
        while pos < audio.size and not self._stop.is_set():
            if self.speed != float("inf"):
                due = t0 + pos / SAMPLE_RATE / self.speed
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
            block = audio[pos : pos + self.block]
            q.put((SourceMessage.AUDIO, block.reshape(-1, 1).copy()))
            pos += block.size
        q.put((SourceMessage.END, None))

    def check(self) -> str | None:
        return None

    def close(self) -> None:
        """Stop playing (the blocks already delivered are kept)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
