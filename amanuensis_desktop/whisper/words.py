"""Words from tokens: split, punctuation attached, timed (by :mod:`.alignment`) and weighed (token probabilities).

A window's segments are timed together, as Whisper does: their text tokens are aligned in one pass, split into
words (at spaces for languages that write them; per character run for zh, ja, th, lo, my, yue), punctuation is
merged into its neighbour, over-long words are shortened (attention tends to stretch a word over the pause
around it), and every word is then clamped into its segment, in increasing order.
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
MIN_WORD_S = 0.02


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
) -> None:
    """Time and weigh the words of one window's ``segments`` (their ``tokens`` are text tokens only; ``logprobs``
    are each segment's per-token log-probabilities) and set each segment's ``words``."""
    all_tokens = [t for seg in segments for t in seg.tokens]
    if not all_tokens:
        return
    all_lps = [lp for seg, lps in zip(segments, logprobs) for lp in (list(lps) + [0.0] * len(seg.tokens))[: len(seg.tokens)]]
    times = token_start_times(backend, tokenizer, features, all_tokens, num_frames, heads)
    words = split_words(tokenizer, all_tokens, language)
    pieces: list[_Piece] = []
    at = 0
    for text, toks in words:
        n = len(toks)
        pieces.append(_Piece(text, toks, float(times[at]), float(times[at + n]), _word_probability(all_lps[at : at + n])))
        at += n
    _shorten_long_words(pieces)
    pieces = merge_punctuations(pieces)
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
