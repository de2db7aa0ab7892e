"""Transcript writers: plain text, SubRip (SRT), WebVTT and JSON.

``segments`` are any objects with ``start``, ``end`` (seconds) and ``text``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

FORMATS = ("txt", "srt", "vtt", "json")


class TimedText(Protocol):
    """A transcript segment as the writers need it (whisper's Segment is one)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(segments: Iterable[TimedText]) -> Iterator[tuple[float, float, str]]:
    """Segments with text, with end strictly after start."""
    for seg in segments:
        text = seg.text.strip()
        if text:
            yield seg.start, max(seg.end, seg.start + 0.001), text


def format_transcript(segments: Iterable[TimedText], fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    segments = list(segments)
    if fmt == "txt":
        return "\n".join(text for _, _, text in _cues(segments)) + "\n"
    if fmt == "srt":
        blocks = [
            f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{t}\n" for i, (a, b, t) in enumerate(_cues(segments), 1)
        ]
        return "\n".join(blocks)
    if fmt == "vtt":
        blocks = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{t}\n" for a, b, t in _cues(segments)]
        return "WEBVTT\n\n" + "\n".join(blocks)
    if fmt == "json":
        data = {
            "text": " ".join(t for _, _, t in _cues(segments)),
            "segments": [
                {"id": i, "start": round(a, 3), "end": round(b, 3), "text": t}
                for i, (a, b, t) in enumerate(_cues(segments))
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_transcript(segments: Iterable[TimedText], fmt: str, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file, then rename), so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(format_transcript(segments, fmt), encoding="utf-8")
    os.replace(tmp, path)
    return path
