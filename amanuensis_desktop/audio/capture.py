"""Microphone capture with PortAudio (sounddevice).

* :func:`list_input_devices` / :func:`resolve_input_device` — choose the input by name (exact, then
  case-insensitive substring) or index; every failure is one sentence (:class:`UserError`).
* :class:`MicrophoneSource` opens the device at its native rate; the audio callback only copies the block
  into a queue (``SimpleQueue.put`` never blocks and never drops). A device that vanishes mid-stream is
  noticed two ways: PortAudio finishing the stream on its own, or no callback for ``stall_timeout_s``
  (PulseAudio stalls ~2 s and then silently moves the stream when a source is unloaded).
* :class:`Converter` turns native-rate multi-channel blocks into 16 kHz mono float32 with soxr's streaming
  resampler (state kept across blocks, flushed at the end: no sample is lost).

Sources share one small protocol used by the live pipeline: ``open(queue)`` puts ``("audio", ndarray
[n, channels])`` items, then ``("end", None)`` when a finite source is exhausted or ``("error", message)``
when the device is lost; ``sample_rate`` and ``channels`` describe the blocks; ``check()`` returns an error
sentence when the source has stalled; ``close()`` stops it (idempotent); ``label`` names it for people.
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from ..errors import UserError
from ..whisper.audio import SAMPLE_RATE

LIST_HINT = "run 'amanuensis dictate --list-devices' to see them"


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio shared library is missing
        raise UserError("Audio capture is unavailable because the PortAudio library is missing "
                        f"(install libportaudio2): {exc}.") from exc
    return sd


def _default_input_index(sd) -> int:
    try:
        dev = sd.default.device
        idx = dev[0] if isinstance(dev, (list, tuple)) or hasattr(dev, "__getitem__") else dev
        idx = int(idx) if idx is not None else -1
    except Exception:
        idx = -1
    if idx < 0:
        try:
            idx = int(sd.query_devices(kind="input")["index"])
        except Exception:
            idx = -1
    return idx


def list_input_devices() -> list[dict]:
    """Every device with input channels: ``{index, name, channels, default_samplerate, is_default}``."""
    sd = _sd()
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise UserError(f"The audio devices could not be listed ({exc}).") from exc
    default = _default_input_index(sd)
    out = []
    for d in devices:
        if int(d["max_input_channels"]) <= 0:
            continue
        out.append({"index": int(d["index"]), "name": str(d["name"]), "channels": int(d["max_input_channels"]),
                    "default_samplerate": float(d["default_samplerate"]), "is_default": int(d["index"]) == default})
    return out


def resolve_input_device(spec: str | int | None = None, devices: list[dict] | None = None) -> dict:
    """The input device for ``spec``: None (the default), an index (int or digits) or a name."""
    devices = list_input_devices() if devices is None else devices
    if not devices:
        raise UserError("No microphone was found (the audio system lists no input device).")
    if spec is None or (isinstance(spec, str) and spec.strip() in ("", "default") and
                        not any(d["name"] == "default" for d in devices)):
        for d in devices:
            if d["is_default"]:
                return d
        return devices[0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        idx = int(spec)
        for d in devices:
            if d["index"] == idx:
                return d
        raise UserError(f"There is no input device number {idx}; {LIST_HINT}.")
    name = str(spec).strip()
    for d in devices:
        if d["name"] == name:
            return d
    matches = [d for d in devices if name.lower() in d["name"].lower()]
    if matches:
        return matches[0]
    raise UserError(f"No input device matches '{name}'; {LIST_HINT}.")


class Converter:
    """Native-rate ``[n, channels]`` blocks → 16 kHz mono float32, streaming (soxr keeps its state)."""

    def __init__(self, in_rate: float, channels: int):
        self.in_rate = float(in_rate)
        self.channels = int(channels)
        self._rs = None
        if int(round(self.in_rate)) != SAMPLE_RATE:
            import soxr

            self._rs = soxr.ResampleStream(self.in_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def push(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1)
        x = np.ascontiguousarray(x.reshape(-1), dtype=np.float32)
        if self._rs is None:
            return x
        return self._rs.resample_chunk(x, last=False)

    def flush(self) -> np.ndarray:
        if self._rs is None:
            return np.zeros(0, np.float32)
        return self._rs.resample_chunk(np.zeros(0, np.float32), last=True)


class MicrophoneSource:
    """A PortAudio input stream feeding the pipeline's queue."""

    kind = "microphone"

    def __init__(self, device: str | int | None = None, stall_timeout_s: float = 1.0,
                 first_audio_timeout_s: float = 6.0):
        self.device_spec = device
        self.stall_timeout_s = stall_timeout_s
        self.first_audio_timeout_s = first_audio_timeout_s
        self.sample_rate = 0.0
        self.channels = 1
        self.label = "microphone"
        self.overflows = 0
        self._stream = None
        self._q: queue.SimpleQueue | None = None
        self._closing = False
        self._lock = threading.Lock()
        self._opened_at = 0.0
        self._last_audio = 0.0  # monotonic time of the latest callback (0 = none yet)
        self._lost = False

    # PortAudio's thread: copy and enqueue, nothing else.
    def _callback(self, indata, frames, time_info, status) -> None:
        self._q.put(("audio", indata.copy()))
        self._last_audio = time.monotonic()
        if status:
            self.overflows += 1

    def _finished(self) -> None:
        if not self._closing and self._q is not None:
            self._lost = True
            self._q.put(("error", f"The microphone '{self.label}' stopped delivering audio "
                                  "(it was unplugged or taken by another program)."))

    def open(self, q: queue.SimpleQueue) -> None:
        sd = _sd()
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
                    stream = sd.InputStream(device=dev["index"], samplerate=rate, channels=ch, dtype="float32",
                                            callback=self._callback, finished_callback=self._finished)
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
        raise UserError(f"The microphone '{self.label}' could not be opened ({reason}); it may be busy, "
                        "unplugged or not allowed.")

    @property
    def has_audio(self) -> bool:
        return self._last_audio > 0

    def check(self) -> str | None:
        """An error sentence when the device has stopped delivering audio, else None."""
        if self._closing or self._stream is None or self._lost:
            return None
        now = time.monotonic()
        if self._last_audio == 0.0:
            if now - self._opened_at > self.first_audio_timeout_s:
                self._lost = True
                return (f"The microphone '{self.label}' delivers no audio (it may be muted, busy or "
                        "unplugged).")
            return None
        if now - self._last_audio > self.stall_timeout_s:
            self._lost = True
            return (f"The microphone '{self.label}' stopped delivering audio (it was unplugged or taken by "
                    "another program).")
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
