"""Decode any audio or video file to 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 quickly; PyAV (FFmpeg) reads everything else, including m4a/aac
and the audio track of video files. soxr resamples. Every failure becomes one clear sentence (AudioError).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioError
from ..whisper.audio import SAMPLE_RATE

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".wma", ".aiff", ".aif")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")


#: Sample rates outside these are refused as impossible (a hostile header could ask for hours of resampling).
MIN_RATE, MAX_RATE = 1000, 1_000_000


def to_mono_16k(data: np.ndarray, sr: int) -> np.ndarray:
    """``[n]`` or ``[n, channels]`` at ``sr`` → float32 ``[n']`` mono at 16 kHz."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if sr != SAMPLE_RATE and data.size:
        import soxr

        data = soxr.resample(data, sr, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(data, dtype=np.float32)


def check_path(path: Path) -> None:
    """One sentence for a path that is not a readable, non-empty regular file (a FIFO would block a reader)."""
    import stat

    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file.") from None
    except OSError as exc:
        raise AudioError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{path} is a folder, not an audio file.")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{path} is not a regular file (a pipe, socket or device), so it was not read.")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied.")
    if st.st_size == 0:
        raise AudioError(f"{path} is empty.")


class _Mixer:
    """Chunks of ``[n, channels]`` samples at any rate → 16 kHz mono float32, resampled as they arrive, so
    memory grows with the output only (not with the channel count or the source rate)."""

    def __init__(self, channel: int | None, path: Path):
        self.channel, self.path = channel, path
        self.out: list[np.ndarray] = []
        self._sr = 0
        self._stream: Any = None  # soxr.ResampleStream

    def add(self, data: np.ndarray, sr: int) -> None:
        if data.size == 0:
            return
        if self.channel is not None:
            mono = data[:, _pick(self.channel, data.shape[1], self.path)]
        else:
            mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
        mono = np.ascontiguousarray(mono, dtype=np.float32)
        if sr != self._sr:
            self.flush()
            if not MIN_RATE <= sr <= MAX_RATE:
                raise AudioError(f"{self.path} declares an impossible sample rate ({sr} Hz).")
            self._sr = sr
        if sr == SAMPLE_RATE:
            self.out.append(mono.copy())
            return
        if self._stream is None:
            import soxr

            self._stream = soxr.ResampleStream(sr, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        self.out.append(self._stream.resample_chunk(mono))

    def flush(self) -> None:
        if self._stream is not None:
            self.out.append(self._stream.resample_chunk(np.zeros(0, np.float32), last=True))
            self._stream = None

    def result(self) -> np.ndarray:
        self.flush()
        chunks = [c for c in self.out if c.size]
        return np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)


def _read_soundfile(path: Path, channel: int | None) -> np.ndarray | None:
    """libsndfile's reading of ``path`` (in blocks: a header may promise far more than is there), or None."""
    import soundfile as sf

    try:
        fh = sf.SoundFile(str(path))
    except Exception:
        return None
    mixer = _Mixer(channel, path)
    try:
        with fh:
            if fh.channels < 1 or fh.samplerate < 1:
                return None
            while True:
                block = fh.read(65536, dtype="float32", always_2d=True)
                if not len(block):
                    break
                mixer.add(block, fh.samplerate)
    except AudioError:
        raise
    except Exception:
        if not mixer.out:
            return None
    return mixer.result()


def _pick(channel: int, n: int, path: Path) -> int:
    if not 0 <= channel < n:
        raise AudioError(f"{path} has {n} channel(s); channel {channel} does not exist.")
    return channel


def _read_av(path: Path, channel: int | None) -> np.ndarray:
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:
        raise AudioError(f"{path} is not a readable audio or video file ({_short(exc)}).") from exc
    mixer = _Mixer(channel, path)
    try:
        streams = container.streams.audio
        if not streams:
            raise AudioError(f"{path} has no audio track.")
        stream = streams[0]
        try:
            for frame in container.decode(stream):
                arr = frame.to_ndarray()
                if arr.dtype.kind == "i":
                    arr = arr.astype(np.float32) / float(2 ** (8 * arr.dtype.itemsize - 1))  # iinfo.max + 1
                elif arr.dtype.kind == "u":  # unsigned PCM (8-bit): centred on the middle of its range
                    half = float(2 ** (8 * arr.dtype.itemsize - 1))  # (iinfo.max + 1) / 2
                    arr = (arr.astype(np.float32) - half) / half
                arr = arr.astype(np.float32, copy=False)
                channels = max(1, len(frame.layout.channels))
                if frame.format.is_planar:
                    arr = arr.reshape(channels, -1).T
                else:
                    arr = arr.reshape(-1, channels)
                mixer.add(arr, int(frame.sample_rate))
        except AudioError:
            raise
        except Exception as exc:
            if not mixer.out:
                raise AudioError(f"{path} is corrupt or truncated ({_short(exc)}).") from exc
            # Keep what decoded: a truncated file still yields its first part.
    finally:
        container.close()
    if not mixer.out:
        raise AudioError(f"{path} contains no audio samples.")
    return mixer.result()


def _short(exc: Exception) -> str:
    """The gist of a decoder's error: no errno, no repeated path."""
    import re

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    text = re.sub(r":\s*'[^']*'$", "", text)
    return text.rstrip(".")[:160]


def _wav_declared_seconds(path: Path) -> float | None:
    """Duration a RIFF/WAVE header promises (from its fmt and data chunk sizes), or None."""
    import struct

    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = None
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = fh.read(size)
                if len(fmt) >= 12:
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                if size % 2:
                    fh.read(1)
            elif cid == b"data":
                if not byte_rate or size in (0, 0xFFFFFFFF):
                    return None  # streaming writers leave the size unset
                return size / byte_rate
            else:
                fh.seek(size + (size % 2), 1)


def declared_seconds(path: str | os.PathLike) -> float | None:
    """How long the file says it is (its header), independent of how much really decodes."""
    path = Path(path)
    try:
        wav = _wav_declared_seconds(path)
        if wav is not None:
            return wav
        import av

        with av.open(str(path)) as container:
            return container.duration / 1_000_000 if container.duration else None
    except Exception:
        return None


def truncation_warning(path: str | os.PathLike, audio: np.ndarray) -> str | None:
    """One sentence when ``audio`` (what decoded) is clearly shorter than the file's header promises."""
    declared = declared_seconds(path)
    got = audio.size / SAMPLE_RATE
    if declared is None or got >= declared * 0.97 - 0.1:
        return None
    return f"{path} is truncated: only the first {got:.1f} s of {declared:.1f} s could be decoded and transcribed."


def load_audio(path: str | os.PathLike, channel: int | None = None) -> np.ndarray:
    """Decode ``path`` to float32 mono 16 kHz (``channel``: take one channel instead of the mix), in this
    process. Untrusted files should go through :func:`amanuensis_desktop.audio.isolated.decode_file`."""
    path = Path(path)
    check_path(path)
    audio = _read_soundfile(path, channel) if path.suffix.lower() not in VIDEO_EXTENSIONS else None
    if audio is None:
        audio = _read_av(path, channel)
    if audio.size == 0:
        raise AudioError(f"{path} contains no audio samples.")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path} contains invalid (non-finite) samples.")
    return audio
