"""Click to listen: the audio of one word (with a little context) played on the default output device.

Live sessions keep the audio of their finals here, bounded (the oldest clips are dropped past ``max_seconds``);
file results read their file again on the first click.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
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

    def shift(self, by: float) -> None:
        """Move every clip ``by`` seconds on the time line (restored text placed before this session's)."""
        self._clips = deque((start + by, audio) for start, audio in self._clips)

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


def _server_player() -> list[str] | None:
    """``paplay`` reading raw float32 from stdin (PulseAudio, or PipeWire's pulse server), or None without it."""
    tool = shutil.which("paplay")
    if tool is None:
        return None
    return [tool, "--raw", "--format=float32le", f"--rate={SAMPLE_RATE}", "--channels=1", "--client-name=Amanuensis"]


def _feed(proc: subprocess.Popen, data: bytes, clip: np.ndarray) -> None:
    """Write the clip to the player and wait for it; if the player fails, play the clip in process instead."""
    try:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.close()
    except OSError:  # the player died at once (no sound server): its exit status says so
        pass
    if proc.wait() not in (0, -signal.SIGTERM) and proc is _state.child:
        logger.info("paplay failed (status %s); playing in process", proc.returncode)
        _play_in_process(clip)


class _State:
    child: subprocess.Popen | None = None


_state = _State()


def _play_in_process(clip: np.ndarray) -> str | None:
    try:
        import sounddevice as sd

        sd.stop()
        sd.play(clip, SAMPLE_RATE)
    except Exception as exc:  # PortAudio errors have many types: no device, busy device, missing library
        logger.info("playback failed: %s", exc)
        return f"Cannot play the word: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}."
    return None


def play(audio: np.ndarray) -> str | None:
    """Start playing 16 kHz ``audio`` (returns at once); one sentence on failure, else None.

    The sound server's own player (``paplay``) plays it in a process of its own where there is one: played from
    this process, PortAudio's callback shares the interpreter with the window and the engines, and a busy moment
    left 110-165 ms gaps inside the word (tests/ui/test_words_playback.py). Else sounddevice, in process."""
    pad = np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)
    clip = np.concatenate([pad, np.asarray(audio, dtype=np.float32).reshape(-1), pad])
    stop()
    cmd = _server_player()
    if cmd is not None:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            logger.info("paplay could not start: %s", exc)
        else:
            _state.child = proc
            data = clip.astype("<f4").tobytes()
            threading.Thread(target=_feed, args=(proc, data, clip), name="word-player", daemon=True).start()
            return None
    return _play_in_process(clip)


def stop() -> None:
    """Stop click-to-listen playback (the player process, or the in-process stream)."""
    child, _state.child = _state.child, None
    if child is not None and child.poll() is None:
        child.terminate()
    try:
        import sounddevice as sd

        sd.stop()
    except Exception as exc:  # nothing to stop, or no PortAudio
        logger.info("stopping playback failed: %s", exc)
