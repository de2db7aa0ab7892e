"""Transcript writers: plain text, SubRip (SRT), WebVTT and JSON.

``segments`` are any objects with ``start``, ``end`` (seconds) and ``text``; where they also carry ``words``
(objects with ``word``, ``start``, ``end``, ``probability``: word timestamps), JSON lists them per segment and
SRT/VTT can cut cues of at most ``max_words_per_cue`` words.
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


def _word_cues(segments: Iterable[TimedText], max_words: int | None) -> Iterator[tuple[float, float, str]]:
    """Cues of at most ``max_words`` words where a segment has word timestamps; whole segments otherwise."""
    for seg in segments:
        words = list(getattr(seg, "words", None) or ())
        if not max_words or not words:
            yield from _cues([seg])
            continue
        for i in range(0, len(words), max_words):
            group = words[i : i + max_words]
            text = "".join(w.word for w in group).strip()
            if text:
                yield group[0].start, max(group[-1].end, group[0].start + 0.001), text


def _words_json(seg: TimedText) -> list[dict]:
    return [
        {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3), "probability": round(w.probability, 4)}
        for w in getattr(seg, "words", None) or ()
    ]


def format_transcript(segments: Iterable[TimedText], fmt: str, max_words_per_cue: int | None = None) -> str:
    fmt = fmt.lower().lstrip(".")
    segments = list(segments)
    if fmt == "txt":
        return "\n".join(text for _, _, text in _cues(segments)) + "\n"
    if fmt == "srt":
        cues = _word_cues(segments, max_words_per_cue)
        blocks = [f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{t}\n" for i, (a, b, t) in enumerate(cues, 1)]
        return "\n".join(blocks)
    if fmt == "vtt":
        cues = _word_cues(segments, max_words_per_cue)
        blocks = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{t}\n" for a, b, t in cues]
        return "WEBVTT\n\n" + "\n".join(blocks)
    if fmt == "json":
        kept = [seg for seg in segments if seg.text.strip()]
        entries = []
        for i, (seg, (a, b, t)) in enumerate(zip(kept, _cues(kept))):
            entry: dict = {"id": i, "start": round(a, 3), "end": round(b, 3), "text": t}
            words = _words_json(seg)
            if words:
                entry["words"] = words
            entries.append(entry)
        data = {"text": " ".join(e["text"] for e in entries), "segments": entries}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_transcript(
    segments: Iterable[TimedText], fmt: str, path: str | os.PathLike[str], max_words_per_cue: int | None = None
) -> Path:
    """Write atomically (temp file, then rename), so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(format_transcript(segments, fmt, max_words_per_cue), encoding="utf-8")
    os.replace(tmp, path)
    return path
