"""Soak helpers: a file source paced by the pipeline's own backlog (as fast as the pipeline takes it, never
the whole file queued at once), a sampler of RSS, threads and backlog, and the count of reference words lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from amanuensis_desktop.audio.sources import FileSource, SourceMessage, SourceQueue
from amanuensis_desktop.whisper.audio import SAMPLE_RATE
from amanuensis_desktop.whisper.wer import normalize


class PacedSource(FileSource):
    """A 16 kHz mono array delivered in 20 ms blocks as fast as the pipeline takes them: the source waits while
    ``backlog()`` (seconds of audio queued and not yet transcribed) is above ``max_ahead_s``. Without a backlog
    callback it waits only on its own queue. (The app's FileSource at ``speed=inf`` puts the whole file in the
    queue at once, which measures the queue, not the pipeline.)"""

    def __init__(self, audio: np.ndarray, max_ahead_s: float = 20.0, block_s: float = 0.02) -> None:
        super().__init__(audio, speed=float("inf"), block_s=block_s)
        self.max_ahead_s = max_ahead_s
        self.label = "paced audio array"
        self.backlog: Callable[[], float] | None = None
        self.delivered = 0

    def _ahead(self, q: SourceQueue) -> float:
        """Seconds ahead of the pipeline; the raw queue counts 20-fold, so at most ~1 s of it waits for the
        listener (which takes all queued blocks in one batch when no segment is open, and a batch is in neither
        the queue nor the pipeline's backlog until it is cut into segments)."""
        queued = q.qsize() * self.block / SAMPLE_RATE
        return max(queued * self.max_ahead_s, self.backlog() if self.backlog is not None else 0.0)

    def _run(self, q: SourceQueue) -> None:
        audio, pos = self._audio, 0
        assert audio is not None  # given to the constructor
        while pos < audio.size and not self._stop.is_set():
            while self._ahead(q) > self.max_ahead_s and not self._stop.is_set():
                self._stop.wait(0.01)
            block = audio[pos : pos + self.block]
            q.put((SourceMessage.AUDIO, block.reshape(-1, 1).copy()))
            pos += block.size
            self.delivered = pos
        q.put((SourceMessage.END, None))


@dataclass
class Sampler:
    """Samples RSS (bytes), thread count and a backlog callback every ``period_s`` in a thread of its own."""

    backlog: Callable[[], float] = lambda: 0.0
    period_s: float = 0.5
    samples: list[tuple[float, int, int, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._stop.wait(self.period_s):
            self.samples.append(
                (time.monotonic() - self._t0, proc.memory_info().rss, threading.active_count(), self.backlog())
            )

    def growth_mb(self, warm_fraction: float = 0.25) -> float:
        """RSS growth after warm-up: the highest sample after the first ``warm_fraction`` of the run minus the
        first sample there."""
        if not self.samples:
            return 0.0
        end = self.samples[-1][0]
        warm = [s for s in self.samples if s[0] >= end * warm_fraction] or self.samples
        return (max(s[1] for s in warm) - warm[0][1]) / 2**20

    def curve(self, points: int = 5) -> str:
        """RSS (MB) at evenly spaced moments of the run: a leak climbs steadily, a warm-up steps once."""
        if not self.samples:
            return ""
        end = self.samples[-1][0]
        picks = [next(s for s in self.samples if s[0] >= end * i / (points - 1)) for i in range(points)]
        return " ".join(f"{s[0]:.0f}s:{s[1] / 2**20:.0f}" for s in picks)

    @property
    def max_threads(self) -> int:
        return max((s[2] for s in self.samples), default=threading.active_count())

    @property
    def max_backlog(self) -> float:
        return max((s[3] for s in self.samples), default=0.0)


def deletions(reference: str, hypothesis: str) -> int:
    """Reference words missing from the hypothesis in a minimal word alignment (substitutions are not losses)."""
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    prev = [(j, 0) for j in range(len(hyp) + 1)]  # (cost, deletions): cost first, then fewer deletions
    for i, r in enumerate(ref, 1):
        cur = [(i, i)] + [(0, 0)] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min((prev[j][0] + 1, prev[j][1] + 1), (cur[j - 1][0] + 1, cur[j - 1][1]),
                         (prev[j - 1][0] + (r != h), prev[j - 1][1]))  # fmt: skip
        prev = cur
    return prev[-1][1]
