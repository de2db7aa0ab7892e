"""Local agreement for partial text: a word is confirmed (stable) once two consecutive hypotheses of the same
growing segment agree on it ("LocalAgreement-2").

Each hypothesis re-transcribes the whole segment, so it is first aligned to the confirmed words: its tail is
what follows the confirmed words (found by matching the last confirmed words, so a hypothesis that gains or
loses a word at the start — "And Mr. John" after "Mr. John" — still lines up). The common prefix of the
previous and the newest tails is confirmed. Words are compared case- and punctuation-insensitively
("Americans," agrees with "americans"). Confirmed words never change or disappear within a segment, so
partials do not flicker; the newest hypothesis' tail is shown as ``unstable``.
"""

from __future__ import annotations

import re

_STRIP = re.compile(r"[^\w']+")


def _key(word: str) -> str:
    return _STRIP.sub("", word.lower())


class LocalAgreement:
    def __init__(self, anchor_words: int = 3) -> None:
        self.confirmed: list[str] = []
        self.previous: list[str] | None = None
        self.anchor_words = anchor_words

    def _tail(self, words: list[str]) -> list[str]:
        """``words`` after the confirmed words (aligned on the last confirmed words)."""
        n = len(self.confirmed)
        if n == 0:
            return list(words)
        keys = [_key(w) for w in words]
        conf = [_key(w) for w in self.confirmed]
        if keys[:n] == conf:
            return list(words[n:])
        m = min(self.anchor_words, n)
        anchor = conf[-m:]
        best_j: int | None = None
        best_score = 0
        for j in range(1, len(words) + 1):  # j: index just past the confirmed words in ``words``
            score = 0
            for a, b in zip(reversed(anchor), reversed(keys[max(0, j - m) : j]), strict=False):
                if a != b:
                    break
                score += 1
            if score > best_score or (
                score == best_score and score and best_j is not None and abs(j - n) < abs(best_j - n)
            ):
                best_j, best_score = j, score
        if best_j is not None and best_score >= min(2, m):
            return list(words[best_j:])
        return list(words[n:])  # no anchor found: assume the same length

    def update(self, hypothesis: str) -> tuple[str, str]:
        """Feed the newest hypothesis of the whole segment; return ``(stable, unstable)`` with
        ``stable + unstable`` the text to show."""
        words = hypothesis.split()
        tail = self._tail(words)
        if self.previous is not None:
            prev_tail = self._tail(self.previous)
            agree = 0
            for a, b in zip(prev_tail, tail, strict=False):
                if _key(a) != _key(b):
                    break
                agree += 1
            if agree:
                self.confirmed += tail[:agree]
                tail = tail[agree:]
        self.previous = words
        stable = " ".join(self.confirmed)
        unstable = " ".join(tail)
        if stable and unstable:
            unstable = " " + unstable
        return stable, unstable
