"""Download progress: bytes, speed over the last few seconds, and time left."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 5.0  # speed is measured over this many recent seconds
INTERVAL_S = 0.2  # at most this often a callback


@dataclass(frozen=True)
class Progress:
    repo: str
    file: str  # the file being transferred now ("" before the first)
    done: int  # bytes of the whole model on disk (including what a previous run left)
    total: int
    speed: float  # bytes per second, recent
    eta: float | None  # seconds left, None while unknown
    resumed: int = 0  # bytes that a previous run had already fetched

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total > 0 else 0.0


ProgressCallback = Callable[[Progress], None]


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def human_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds + 0.5)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Meter:
    """Counts bytes and calls ``callback`` at most every INTERVAL_S (and once at the end)."""

    def __init__(self, repo: str, total: int, already: int, callback: ProgressCallback | None):
        self.repo, self.total, self.done, self.resumed = repo, total, already, already
        self.callback, self.file = callback, ""
        self._samples: deque[tuple[float, int]] = deque([(time.monotonic(), already)])
        self._last_emit = 0.0
        self.received = 0  # bytes received over the network in this run

    def start_file(self, name: str) -> None:
        self.file = name
        self.emit(force=True)

    def add(self, n: int) -> None:
        self.done += n
        self.received += n
        self.emit()

    def rewind(self, n: int) -> None:
        """A partial file had to be started again: its ``n`` bytes no longer count."""
        self.done -= n
        self.resumed = max(0, self.resumed - n)
        self._samples.clear()
        self._samples.append((time.monotonic(), self.done))
        self.emit(force=True)

    def speed(self) -> float:
        now = time.monotonic()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()
        t0, b0 = self._samples[0]
        return (self.done - b0) / (now - t0) if now > t0 else 0.0

    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.callback is None or (not force and now - self._last_emit < INTERVAL_S):
            return
        self._last_emit = now
        speed = self.speed()
        left = max(0, self.total - self.done)
        eta = left / speed if speed > 0 else (0.0 if left == 0 else None)
        self.callback(Progress(self.repo, self.file, self.done, self.total, speed, eta, self.resumed))
