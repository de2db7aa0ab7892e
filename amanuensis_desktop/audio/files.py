"""Decode any audio or video file to 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 quickly; PyAV (FFmpeg) reads everything else, including m4a/aac
and the audio track of video files. soxr resamples. Every failure becomes one clear sentence (AudioError).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..whisper.audio import SAMPLE_RATE

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".wma", ".aiff", ".aif")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")


def to_mono_16k(data: np.ndarray, sr: int) -> np.ndarray:
    """``[n]`` or ``[n, channels]`` at ``sr`` → float32 ``[n']`` mono at 16 kHz."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if sr != SAMPLE_RATE and data.size:
        import soxr

        data = soxr.resample(data, sr, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(data, dtype=np.float32)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"{path}: no such file.")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file.")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path} is empty.")


def _read_soundfile(path: Path, channel: int | None) -> tuple[np.ndarray, int] | None:
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception:
        return None
    if channel is not None:
        return data[:, _pick(channel, data.shape[1], path)], sr
    return data, sr


def _pick(channel: int, n: int, path: Path) -> int:
    if not 0 <= channel < n:
        raise AudioError(f"{path} has {n} channel(s); channel {channel} does not exist.")
    return channel


def _read_av(path: Path, channel: int | None) -> tuple[np.ndarray, int]:
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:
        raise AudioError(f"{path} is not a readable audio or video file ({_short(exc)}).") from exc
    try:
        streams = container.streams.audio
        if not streams:
            raise AudioError(f"{path} has no audio track.")
        stream = streams[0]
        chunks: list[np.ndarray] = []
        sr = stream.codec_context.sample_rate or stream.rate
        try:
            for frame in container.decode(stream):
                arr = frame.to_ndarray()
                if arr.dtype.kind == "i":
                    arr = arr.astype(np.float32) / float(2 ** (8 * arr.dtype.itemsize - 1))  # iinfo.max + 1
                elif arr.dtype.kind == "u":  # unsigned PCM (8-bit): centred on the middle of its range
                    half = float(2 ** (8 * arr.dtype.itemsize - 1))  # (iinfo.max + 1) / 2
                    arr = (arr.astype(np.float32) - half) / half
                arr = arr.astype(np.float32, copy=False)
                if frame.format.is_planar:
                    arr = arr.reshape(len(frame.layout.channels), -1).T
                else:
                    arr = arr.reshape(-1, len(frame.layout.channels))
                chunks.append(arr)
                sr = frame.sample_rate
        except AudioError:
            raise
        except Exception as exc:
            if not chunks:
                raise AudioError(f"{path} is corrupt or truncated ({_short(exc)}).") from exc
            # Keep what decoded: a truncated file still yields its first part.
    finally:
        container.close()
    if not chunks:
        raise AudioError(f"{path} contains no audio samples.")
    data = np.concatenate(chunks, axis=0)
    if channel is not None:
        data = data[:, _pick(channel, data.shape[1], path)]
    return data, int(sr)


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
    """Decode ``path`` to float32 mono 16 kHz (``channel``: take one channel instead of the mix)."""
    path = Path(path)
    _check_path(path)
    got = _read_soundfile(path, channel) if path.suffix.lower() not in VIDEO_EXTENSIONS else None
    data, sr = got if got is not None else _read_av(path, channel)
    audio = to_mono_16k(data, sr)
    if audio.size == 0:
        raise AudioError(f"{path} contains no audio samples.")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path} contains invalid (non-finite) samples.")
    return audio
