"""Nothing lost: the session transcript is written to the autosave folder as it grows (no Qt here).

One JSON file per session, ``session-<time>-<pid>.json``, replaced atomically on every write. A session that
ends normally is marked ``closed``; a file left unclosed by a process that is gone (crash, kill, power cut)
is an *orphan*, offered back at the next start.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

VERSION = 1


@dataclass
class Seg:
    start: float
    end: float
    text: str

    def as_dict(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}


def _process_started(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:  # psutil missing, or no such process / no access: treated as not running
        return None


def _alive(pid: int, started: float | None) -> bool:
    now = _process_started(pid)
    if now is None:
        return False
    return started is None or abs(now - started) < 1.0  # same pid, same process (not a reused pid)


@dataclass
class Orphan:
    path: Path
    segments: list[Seg]
    partial: str
    started: str

    @property
    def text(self) -> str:
        parts = [s.text.strip() for s in self.segments if s.text.strip()]
        if self.partial.strip():
            parts.append(self.partial.strip())
        return " ".join(parts)

    @property
    def words(self) -> int:
        return len(self.text.split())


class AutosaveSession:
    """The autosave file of this run's transcript. Nothing is written until there is text."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        now = datetime.now()
        self.started = now.isoformat(timespec="seconds")
        self.pid = os.getpid()
        self.path = self.folder / f"session-{now:%Y%m%d-%H%M%S}-{self.pid}.json"
        self.error: str | None = None
        self._written = False

    def write(self, segments: list, partial: str = "", closed: bool = False) -> bool:
        """Replace the file with ``segments`` (objects with start, end, text) + ``partial``. False on error."""
        if not self._written and not closed and not partial.strip() and not any(s.text.strip() for s in segments):
            return True
        if closed and not self._written:
            return True  # an empty session leaves no file
        data = {
            "version": VERSION,
            "pid": self.pid,
            "pid_started": _process_started(self.pid),
            "started": self.started,
            "updated": datetime.now().isoformat(timespec="seconds"),
            "closed": closed,
            "segments": [Seg(s.start, s.end, s.text).as_dict() for s in segments],
            "partial": partial,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".part")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
                fh.flush()
            os.replace(tmp, self.path)
        except OSError as exc:
            self.error = f"Cannot autosave to {self.folder} ({exc.strerror or exc})."
            return False
        self.error = None
        self._written = True
        return True

    def close(self, segments: list) -> None:
        self.write(segments, "", closed=True)


def find_orphans(folder: str | os.PathLike) -> list[Orphan]:
    """Unclosed sessions whose process is gone, oldest first."""
    folder = Path(folder)
    out: list[Orphan] = []
    try:
        files = sorted(folder.glob("session-*.json"))
    except OSError:
        return []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("closed", True):
            continue
        pid = int(data.get("pid") or 0)
        if pid and _alive(pid, data.get("pid_started")):
            continue  # another instance is running and owns it
        segs = [
            Seg(float(s.get("start", 0)), float(s.get("end", 0)), str(s.get("text", "")))
            for s in data.get("segments", [])
            if isinstance(s, dict)
        ]
        orphan = Orphan(path, segs, str(data.get("partial", "")), str(data.get("started", "")))
        if orphan.text:
            out.append(orphan)
    return out


def settle(orphan: Orphan, how: str) -> None:
    """Mark an orphan as dealt with ("restored" or "discarded"); the file stays as history."""
    try:
        data = json.loads(orphan.path.read_text(encoding="utf-8"))
        data["closed"] = True
        data["settled"] = how
        data["settled_at"] = time.time()
        tmp = orphan.path.with_name(orphan.path.name + ".part")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, orphan.path)
    except (OSError, ValueError):
        pass


def merge_restored(orphans: list[Orphan], current: list[Seg]) -> tuple[list[Seg], int]:
    """The orphans' text (each one's unfinished partial as a last segment), one after another with 1 s
    between them, followed by ``current`` shifted to come after it. Returns (segments, restored words)."""
    restored: list[Seg] = []
    base = 0.0
    for o in orphans:
        segs = list(o.segments)
        if o.partial.strip():
            last_end = segs[-1].end if segs else 0.0
            segs.append(Seg(last_end, last_end + 1.0, o.partial.strip()))
        if segs:
            shift = base - segs[0].start if restored else 0.0
            restored += [Seg(s.start + shift, s.end + shift, s.text) for s in segs]
            base = restored[-1].end + 1.0
    shift = (restored[-1].end + 1.0) if restored else 0.0
    merged = restored + [Seg(s.start + shift, s.end + shift, s.text) for s in current]
    return merged, sum(len(s.text.split()) for s in restored)


class Transcript:
    """The dictated transcript: its final segments, the partial being spoken, and the autosave session that
    keeps both on disk."""

    def __init__(self, folder: str | os.PathLike):
        self.segments: list[Seg] = []
        self.partial = ""
        self.autosave = AutosaveSession(folder)

    def save(self) -> str | None:
        """Write the autosave file now; the error sentence if that failed."""
        if self.autosave.write(self.segments, self.partial):
            return None
        return self.autosave.error or "Autosave failed."

    def add(self, text: str, start: float, end: float) -> Seg | None:
        """A final sentence replaces the partial; None when it is empty (nothing was said)."""
        self.partial = ""
        text = text.strip()
        if not text:
            return None
        seg = Seg(start, end, text)
        self.segments.append(seg)
        return seg

    def next_start(self) -> float:
        """Where a new dictation starts on the transcript's time line (1 s after the last sentence)."""
        return (self.segments[-1].end + 1.0) if self.segments else 0.0

    def restart(self, folder: str | os.PathLike) -> None:
        """Close this session's file (its text stays there) and continue in a new session in ``folder``."""
        self.autosave.close(self.segments)
        self.autosave = AutosaveSession(folder)

    def clear(self, folder: str | os.PathLike) -> bool:
        """Empty the transcript; its text stays in the closed session file. False if there was no text."""
        had_text = bool(self.segments)
        if had_text:
            self.restart(folder)
        self.segments, self.partial = [], ""
        return had_text

    def restore(self, orphans: list[Orphan]) -> int:
        """Put the orphans' text before this transcript; returns the number of words restored."""
        self.segments, words = merge_restored(orphans, self.segments)
        return words

    def close(self) -> None:
        self.autosave.close(self.segments)
