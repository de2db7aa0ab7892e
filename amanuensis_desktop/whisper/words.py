"""Words from tokens: split, punctuation attached, timed (by :mod:`.alignment`) and weighed (token probabilities).

A window's segments are timed together, as Whisper does: their text tokens are aligned in one pass, split into
words (at spaces for languages that write them; per character run for zh, ja, th, lo, my, yue), punctuation is
merged into its neighbour, over-long words are shortened (attention tends to stretch a word over the pause
around it), word edges that fall in silence are moved to the speech (the window's audio energy, 20 ms frames),
and every word is then clamped into its segment, in increasing order.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .alignment import Heads, token_start_times
from .inference import Backend
from .tokenizer import Tokenizer

if TYPE_CHECKING:
    from .transcribe import Segment

PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
SENTENCE_END = ".。!！?？"
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})
FRAME_S = 0.02  # one audio-feature frame: the alignment's resolution
SILENCE_DB = -40.0  # a frame this far below the window's loud frames is silence
MIN_SILENCE_FRAMES = 3  # trim a word's edge only over at least this much silence (60 ms)


@dataclass
class Word:
    word: str  # as decoded: a leading space marks a new word in languages that use spaces
    start: float
    end: float
    probability: float

    def as_dict(self) -> dict:
        return {"word": self.word, "start": self.start, "end": self.end, "probability": round(self.probability, 4)}


@dataclass
class _Piece:
    word: str
    tokens: list[int]
    start: float = 0.0
    end: float = 0.0
    probability: float = 0.0


def split_unicode(tok: Tokenizer, tokens: Sequence[int]) -> list[tuple[str, list[int]]]:
    """Token runs that each decode to whole characters (a character may span several byte tokens)."""
    out: list[tuple[str, list[int]]] = []
    current: list[int] = []
    for t in tokens:
        current.append(int(t))
        text = tok.decode(current)
        if "\ufffd" not in text:
            out.append((text, current))
            current = []
    if current:
        out.append((tok.decode(current), current))
    return out


def split_words(tok: Tokenizer, tokens: Sequence[int], language: str = "en") -> list[tuple[str, list[int]]]:
    """Words (with their leading space) and their tokens."""
    pieces = split_unicode(tok, tokens)
    if language in NO_SPACE_LANGUAGES:
        return pieces
    words: list[tuple[str, list[int]]] = []
    for text, toks in pieces:
        starts_word = text.startswith(" ") or text.strip() in string.punctuation
        if starts_word or not words:
            words.append((text, list(toks)))
        else:
            words[-1] = (words[-1][0] + text, words[-1][1] + toks)
    return words


def merge_punctuations(pieces: list[_Piece]) -> list[_Piece]:
    """Attach opening punctuation to the following word and closing punctuation to the preceding one."""
    merged: list[_Piece] = []
    pending: _Piece | None = None
    for p in pieces:
        bare = p.word.strip()
        if bare and all(c in PREPEND_PUNCTUATIONS for c in bare) and p.word.startswith(" "):
            pending = p if pending is None else _Piece(pending.word + p.word, pending.tokens + p.tokens)
            continue
        if pending is not None:
            p = _Piece(pending.word + p.word.lstrip(" "), pending.tokens + p.tokens, p.start, p.end, p.probability)
            if not p.word.startswith(" "):
                p.word = " " + p.word if pending.word.startswith(" ") else p.word
            pending = None
        if merged and bare and all(c in APPEND_PUNCTUATIONS for c in bare) and not p.word.startswith(" "):
            prev = merged[-1]
            prev.word += p.word
            prev.tokens = prev.tokens + p.tokens
            continue
        merged.append(p)
    if pending is not None:
        merged.append(pending)
    return merged


def _word_probability(logprobs: Sequence[float]) -> float:
    return float(np.mean(np.exp(logprobs))) if len(logprobs) else 0.0


def add_word_timestamps(
    backend: Backend,
    tokenizer: Tokenizer,
    features: np.ndarray,
    segments: Sequence[Segment],
    logprobs: Sequence[Sequence[float]],
    num_frames: int,
    time_offset: float,
    heads: Heads,
    language: str = "en",
    audio: np.ndarray | None = None,
    sot_sequence: Sequence[int] | None = None,
) -> None:
    """Time and weigh the words of one window's ``segments`` (their ``tokens`` are text tokens only; ``logprobs``
    are each segment's per-token log-probabilities) and set each segment's ``words``. ``audio``: the window's
    samples (16 kHz, from ``time_offset``); where given, word edges in silence move to the speech."""
    all_tokens = [t for seg in segments for t in seg.tokens]
    if not all_tokens:
        return
    all_lps = [
        lp for seg, lps in zip(segments, logprobs) for lp in (list(lps) + [0.0] * len(seg.tokens))[: len(seg.tokens)]
    ]
    times = token_start_times(backend, tokenizer, features, all_tokens, num_frames, heads, sot_sequence=sot_sequence)
    words = split_words(tokenizer, all_tokens, language)
    pieces: list[_Piece] = []
    at = 0
    for text, toks in words:
        n = len(toks)
        pieces.append(
            _Piece(text, toks, float(times[at]), float(times[at + n]), _word_probability(all_lps[at : at + n]))
        )
        at += n
    _shorten_long_words(pieces)
    pieces = merge_punctuations(pieces)
    if audio is not None and audio.size:
        _trim_to_speech(pieces, speech_frames(audio))
    # Give each segment the words its tokens hold.
    at = 0
    prev_end = 0.0
    for seg in segments:
        taken: list[_Piece] = []
        count = 0
        while at < len(pieces) and count < len(seg.tokens):
            taken.append(pieces[at])
            count += len(pieces[at].tokens)
            at += 1
        seg.words = _clamp(taken, seg, time_offset, prev_end)
        if seg.words:
            prev_end = seg.words[-1].end


def _shorten_long_words(pieces: list[_Piece]) -> None:
    """Words far longer than the median (a word stretched over a pause) are cut to twice the median, on the
    side of the pause: after a sentence's end, the start moves; at a sentence's end, the end moves."""
    durations = np.array([p.end - p.start for p in pieces])
    durations = durations[durations > 0]
    if not durations.size:
        return
    median = min(0.7, float(np.median(durations)))
    longest = median * 2
    for i, p in enumerate(pieces):
        if p.end - p.start <= longest:
            continue
        if p.word.strip()[-1:] in SENTENCE_END or i == len(pieces) - 1:
            p.end = p.start + longest
        elif i == 0 or pieces[i - 1].word.strip()[-1:] in SENTENCE_END:
            p.start = p.end - longest


def speech_frames(audio: np.ndarray) -> np.ndarray:
    """One bool per 20 ms frame: louder than ``SILENCE_DB`` below the window's loudest frames (99th percentile)."""
    n = int(FRAME_S * 16000)
    count = max(1, audio.size // n)
    frames = np.zeros(count * n, np.float32)
    frames[: min(audio.size, count * n)] = audio[: count * n]
    rms = np.sqrt(np.mean(frames.reshape(count, n) ** 2, axis=1))
    loud = float(np.percentile(rms, 99))
    if loud <= 0:
        return np.zeros(count, dtype=bool)
    return rms > loud * 10 ** (SILENCE_DB / 20)


def _silent_runs(speech: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` frame ranges of silence at least ``MIN_SILENCE_FRAMES`` long."""
    padded = np.concatenate(([True], speech, [True])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2]) if e - s >= MIN_SILENCE_FRAMES]


def _trim_to_speech(pieces: list[_Piece], speech: np.ndarray) -> None:
    """Attention puts a pause into the word after it (or before it). A silence with less of the word's speech
    before it than after moves the word's start to the speech after it (one frame of margin); otherwise it
    moves the end to the speech before it. A word with no speech frame keeps its times."""
    for p in pieces:
        a = max(0, int(round(p.start / FRAME_S)))
        b = min(len(speech), int(round(p.end / FRAME_S)))
        if b - a < 2 or not speech[a:b].any():
            continue
        start, end = a, b
        for s, e in _silent_runs(speech[a:b]):
            before, after = int(speech[a : a + s].sum()), int(speech[a + e : b].sum())
            if before < after:
                start = max(start, a + e - 1)
            elif after < before:
                end = min(end, a + s + 1)
        if end > start:
            p.start = max(p.start, start * FRAME_S)
            p.end = min(p.end, end * FRAME_S)


def _clamp(pieces: list[_Piece], seg: Segment, time_offset: float, prev_end: float) -> list[Word]:
    """Absolute times, inside the segment, each word starting where the previous ended or later."""
    out: list[Word] = []
    floor = max(seg.start, prev_end)
    for p in pieces:
        start = min(max(time_offset + p.start, floor), seg.end)
        end = min(max(time_offset + p.end, start), seg.end)
        out.append(Word(p.word, round(start, 3), round(end, 3), p.probability if math.isfinite(p.probability) else 0.0))
        floor = end
    return out
