"""Transcript writers: plain text, SubRip (SRT), WebVTT and JSON.

``segments`` are any objects with ``start``, ``end`` (seconds) and ``text`` (and optionally ``language``).
JSON also takes ``meta``: top-level fields such as the detected ``language`` and ``language_probability``
(:func:`transcript_meta` reads them from a Transcript). Where segments also carry ``words`` (objects with
``word``, ``start``, ``end``, ``probability``: word timestamps), JSON lists them per segment and SRT/VTT can cut
cues of at most ``max_words_per_cue`` words (for a segment whose words spell its text; else one cue for it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

FORMATS = ("txt", "srt", "vtt", "json")


class TimedText(Protocol):
    """A transcript segment as the writers need it (whisper's Segment is one)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...


class _Cue(NamedTuple):
    start: float
    end: float
    text: str


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_text(text: str) -> str:
    """One line of cue text: line breaks (a blank line ends an SRT/VTT cue) become spaces, "-->" (a cue timing
    line) becomes "->", text that is not valid Unicode (lone surrogates) is replaced."""
    text = " ".join(text.split())
    text = text.replace("-->", "->")
    return text.encode("utf-8", "replace").decode("utf-8")


def _cues(segments: Iterable[TimedText]) -> Iterator[tuple[float, float, str]]:
    """Segments with text, with end strictly after start."""
    for seg in segments:
        text = _cue_text(seg.text)
        start, end = float(seg.start), float(seg.end)
        start = start if math.isfinite(start) else 0.0
        end = end if math.isfinite(end) else start
        if text:
            yield start, max(end, start + 0.001), text


def transcript_meta(transcript: object) -> dict[str, object]:
    """The JSON top-level fields of a Transcript: language, its probability, task."""
    meta = {
        "language": getattr(transcript, "language", None),
        "language_probability": getattr(transcript, "language_probability", None),
        "task": getattr(transcript, "task", None),
    }
    if isinstance(meta["language_probability"], float):
        meta["language_probability"] = round(meta["language_probability"], 4)
    return {k: v for k, v in meta.items() if v not in (None, "")}


def _spelled_by_words(seg: TimedText, words: list) -> bool:
    """The words spell the segment's text (up to spacing): their cues show what the segment says."""
    return "".join(w.word for w in words).split() == seg.text.split()


def _word_cues(segments: Iterable[TimedText], max_words: int | None) -> Iterator[tuple[float, float, str]]:
    """Cues of at most ``max_words`` words where a segment has word timestamps that spell its text; whole
    segments otherwise."""
    for seg in segments:
        words = list(getattr(seg, "words", None) or ())
        if not max_words or not words or not _spelled_by_words(seg, words):
            yield from _cues([seg])
            continue
        for i in range(0, len(words), max_words):
            group = words[i : i + max_words]
            yield from _cues([_Cue(group[0].start, group[-1].end, "".join(w.word for w in group))])


def _words_json(seg: TimedText) -> list[dict]:
    return [
        {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3), "probability": round(w.probability, 4)}
        for w in getattr(seg, "words", None) or ()
    ]


def format_transcript(
    segments: Iterable[TimedText],
    fmt: str,
    meta: dict[str, object] | None = None,
    max_words_per_cue: int | None = None,
) -> str:
    fmt = fmt.lower().lstrip(".")
    segments = list(segments)
    if fmt == "txt":
        return "\n".join(text for _, _, text in _cues(segments)) + "\n"
    if fmt == "srt":
        cues = _word_cues(segments, max_words_per_cue)
        blocks = [f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{t}\n" for i, (a, b, t) in enumerate(cues, 1)]
        return "\n".join(blocks)
    if fmt == "vtt":
        blocks = [
            f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{t}\n" for a, b, t in _word_cues(segments, max_words_per_cue)
        ]
        return "WEBVTT\n\n" + "\n".join(blocks)
    if fmt == "json":
        rows: list[dict[str, object]] = []
        for seg, (start, end, text) in zip((s for s in segments if s.text.strip()), _cues(segments), strict=True):
            row: dict[str, object] = {"id": len(rows), "start": round(start, 3), "end": round(end, 3), "text": text}
            language = getattr(seg, "language", "")
            if language:
                row["language"] = language  # per segment: a file may switch language
            words = _words_json(seg)
            if words:
                row["words"] = words
            rows.append(row)
        data = {**(meta or {}), "text": " ".join(str(r["text"]) for r in rows), "segments": rows}
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_transcript(
    segments: Iterable[TimedText],
    fmt: str,
    path: str | os.PathLike[str],
    meta: dict[str, object] | None = None,
    max_words_per_cue: int | None = None,
) -> Path:
    """Write atomically (temp file, then rename), so a crash never leaves half a file."""
    from .storage import write_atomic

    return write_atomic(path, format_transcript(segments, fmt, meta, max_words_per_cue))
