"""Nothing lost: the session transcript is written to the autosave folder as it grows (no Qt here).

One JSON file per session, ``session-<time>-<pid>.json``, replaced atomically on every write. A session that
ends normally is marked ``closed``; a file left unclosed by a process that is gone (crash, kill, power cut)
is an *orphan*, offered back at the next start.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..storage import private_dir, write_atomic
from .salvage import read_session

VERSION = 1


@dataclass
class Seg:
    start: float
    end: float
    text: str
    words: list = field(default_factory=list)  # whisper Words (word timestamps), on the transcript's time

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}
        if self.words:  # compact rows [word, start, end, probability] (no "text"/"start" keys for salvage to misread)
            out["words"] = [[w.word, round(w.start, 3), round(w.end, 3), round(w.probability, 4)] for w in self.words]
        return out

    def shifted(self, by: float) -> Seg:
        """This segment ``by`` seconds later, its words too."""
        words = [replace(w, start=w.start + by, end=w.end + by) for w in self.words]
        return Seg(self.start + by, self.end + by, self.text, words)

    @classmethod
    def of(cls, seg: Any) -> Seg:
        """A Seg from any segment with start, end, text (and words)."""
        return cls(seg.start, seg.end, seg.text, list(getattr(seg, "words", None) or ()))


def _read_words(rows: object) -> list:
    """Words from an autosave file's rows; none at all when any row is not [text, start, end, probability]
    with finite, increasing times (a damaged or foreign file keeps its text, not odd words)."""
    from ..whisper.words import Word

    if not isinstance(rows, list):
        return []
    words: list[Word] = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 4 and isinstance(row[0], str)):
            return []
        start, end, p = (_float(v, None) for v in row[1:])
        if start is None or end is None or p is None or end < start or (words and start < words[-1].start):
            return []
        words.append(Word(row[0], start, end, p))
    return words


def _ours(folder: Path) -> bool:
    """The folder is the app's (inside its data folder), not one the user chose for autosaves."""
    from ..settings import data_dir

    try:
        return folder.resolve().is_relative_to(data_dir().resolve())
    except OSError:
        return False


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
            "segments": [Seg.of(s).as_dict() for s in segments],
            "partial": partial,
        }
        try:  # private (0700 folder, 0600 file) and atomic: a full disk keeps the last good file whole
            private_dir(self.folder, tighten=_ours(self.folder))
            write_atomic(self.path, json.dumps(data, ensure_ascii=False), private=True)
        except OSError as exc:
            self.error = f"Cannot autosave to {self.folder} ({exc.strerror or exc}); the text stays in the window."
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
        data = read_session(path)
        if data is None or data.get("closed", True) is True:
            continue
        pid = _int(data.get("pid"))
        if pid and _alive(pid, _float(data.get("pid_started"), None)):
            continue  # another instance is running and owns it
        segs = [
            Seg(_float(s.get("start")), _float(s.get("end")), str(s.get("text", "")), _read_words(s.get("words")))
            for s in data.get("segments", []) or []
            if isinstance(s, dict)
        ]
        orphan = Orphan(path, segs, str(data.get("partial", "") or ""), str(data.get("started", "") or ""))
        if orphan.text:
            out.append(orphan)
    return out


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 0


def _float(value: object, default: float | None = 0.0) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return default  # type: ignore[return-value]
    return out if out == out and abs(out) < 1e9 else default  # type: ignore[return-value]


def settle(orphan: Orphan, how: str) -> None:
    """Mark an orphan as dealt with ("restored" or "discarded"); the file stays as history."""
    data = read_session(orphan.path) or {}
    data["closed"] = True
    data["settled"] = how
    data["settled_at"] = time.time()
    try:
        write_atomic(orphan.path, json.dumps(data, ensure_ascii=False), private=True)
    except OSError:
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
            restored += [s.shifted(shift) for s in segs]
            base = restored[-1].end + 1.0
    shift = (restored[-1].end + 1.0) if restored else 0.0
    merged = restored + [s.shifted(shift) for s in current]
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

    def add(self, text: str, start: float, end: float, words: Any = ()) -> Seg | None:
        """A final sentence (and its timed words) replaces the partial; None when it is empty (nothing was said)."""
        self.partial = ""
        text = text.strip()
        if not text:
            return None
        seg = Seg(start, end, text, list(words))
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
