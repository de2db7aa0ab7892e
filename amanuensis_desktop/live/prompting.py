"""When the previous final becomes the prompt (``initial_prompt``) of the next decode.

Only where it helps: the previous final was cut mid-sentence (a split at ``max_segment_s``, or no closing
punctuation and not itself prompted — prompts pass their style on, so no chains of prompts), it ended under
``prompt_max_gap_s`` ago, and the new segment is not near-silent (>= 0.5 s voiced, a 100 ms block louder than
-40 dBFS; a prompt makes Whisper continue it from noise). After finished sentences a prompt mostly made tiny.en
repeat its own mistakes (docs/decisions/live.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..whisper.audio import SAMPLE_RATE
from .segments import Segment
from .vad import CloseReason

SR = SAMPLE_RATE
SENTENCE_END = (".", "!", "?", "…")


def peak_rms(audio: np.ndarray, block: int = SR // 10) -> float:
    """The RMS of the loudest ``block`` (100 ms) of ``audio``."""
    n = audio.size // block
    if n == 0:
        return float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    return float(np.sqrt(np.mean(audio[: n * block].reshape(n, block) ** 2, axis=1)).max())


class Prompter:
    """The prompting rule and its state: the latest trusted final, where it ended, whether it continues."""

    def __init__(self, enabled: bool, max_gap_s: float, max_chars: int) -> None:
        self.enabled, self.max_gap_s, self.max_chars = enabled, max_gap_s, max_chars
        self.text = ""
        self.end = 0  # sample where the prompting final ended
        self.continues = False  # that final ended mid-sentence

    def prompt_for(self, seg: Segment, audio: np.ndarray) -> str | None:
        """The prompt for decoding ``audio`` of ``seg``, or None."""
        if not (self.enabled and self.text):
            return None
        if seg.start - self.end > self.max_gap_s * SR:
            return None
        if not self.continues:
            return None
        if seg.voiced < 0.5 * SR or peak_rms(audio) < 0.01:
            return None
        text = self.text[-self.max_chars :]
        if len(text) < len(self.text) and " " in text:
            text = text[text.index(" ") + 1 :]
        return text

    def after_final(self, seg: Segment, result: Any, text: str, prompted: bool) -> None:
        """Remember ``seg``'s final (``text`` of ``result``, decoded with a prompt or not) for the next segment."""
        trusted = text and all(s.temperature <= 0.5 and s.compression_ratio <= 2.4 for s in result.segments)
        if trusted:
            self.text, self.end = text, seg.start + seg.n
            self.continues = seg.reason == CloseReason.SPLIT or (not text.endswith(SENTENCE_END) and not prompted)
        elif text:
            self.text = ""
