"""Word error rate with an English normaliser (case, punctuation, small numbers, common abbreviations)."""

from __future__ import annotations

import re
import unicodedata

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split()
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ABBREV = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "ms": "miss", "vs": "versus"}
# British spellings scored as their American twins, as Whisper's English normaliser does (its list is longer):
# "colours" for "colors" is not a word error. Stems; the endings below are added.
_BRITISH_STEMS = {
    "colour": "color",
    "favour": "favor",
    "flavour": "flavor",
    "honour": "honor",
    "humour": "humor",
    "labour": "labor",
    "neighbour": "neighbor",
    "behaviour": "behavior",
    "harbour": "harbor",
    "rumour": "rumor",
    "centre": "center",
    "theatre": "theater",
    "metre": "meter",
    "litre": "liter",
    "fibre": "fiber",
    "realis": "realiz",
    "organis": "organiz",
    "recognis": "recogniz",
    "apologis": "apologiz",
    "analys": "analyz",
    "travell": "travel",
    "grey": "gray",
    "programme": "program",
}
_BRITISH = {
    stem + end: us + end
    for stem, us in _BRITISH_STEMS.items()
    for end in ("", "s", "ed", "ing", "er", "ers", "ful", "ite", "ites", "ation", "ations", "e", "es")
}


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        return _number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + _number_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\[\(<][^\]\)>]*[\]\)>]", " ", text)  # bracketed annotations
    text = text.replace("’", "'")
    text = re.sub(r"'s\b", " s", text)
    text = re.sub(r"(\d),(\d)", r"\1\2", text)
    text = re.sub(r"\d+", lambda m: " " + _number_words(int(m.group())) + " ", text)
    text = re.sub(r"[^\w\s']", " ", text)
    text = text.replace("'", "")
    words = [_BRITISH.get(w, _ABBREV.get(w, w)) for w in text.split()]
    return " ".join(words)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference word count) after normalising both."""
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def wer(references: list[str] | str, hypotheses: list[str] | str) -> float:
    """Pooled WER: total word errors over total reference words (0.0 .. >1.0)."""
    if isinstance(references, str):
        references, hypotheses = [references], [hypotheses]  # type: ignore[list-item]
    errors = words = 0
    for r, h in zip(references, hypotheses):
        e, n = word_errors(r, h)
        errors, words = errors + e, words + n
    return errors / words if words else 0.0
