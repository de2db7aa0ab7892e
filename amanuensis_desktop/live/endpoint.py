"""End-pointing: when an utterance is over, using what the decoder already knows.

The segmenter's fixed hang-over (0.5 s of silence, 1.2 s for short segments) was most of the delay between
the end of speech and its final text. But once ``tail_s`` of silence follows the last voiced frame, the worker
decodes the speculative final on exactly the audio the segment would end with. When that text ends a sentence
(``.``, ``?``, ``!``), the utterance is very likely over: the segment may then close after a much shorter pause
(``pause_s``; ``short_pause_s`` while it holds less than the segmenter's short-speech amount, also right after
an early end: treating such a segment as a continuation split jfk's "Ask not" off at its 0.7 s pause). Only a
text of at least ``min_words`` words qualifies, so a lone "So." or "Ask not!" still waits for what follows.
The offer is tied to the exact end sample it was decoded on: one new voiced frame and it no longer applies
(the normal hang-over rules again, and a new speculation). Since the segment then closes on exactly the
speculated audio, its final is emitted at once, without decoding again.

Where speech ends: webrtcvad keeps marking breath and room noise after the last word as voiced (0.1-0.5 s on
the shared clips, 1.4 s on one), so with end-pointing a voiced frame ``quiet_ratio`` (-26 dB) below the
segment's loud level (95th-percentile voiced RMS) does not extend the segment's speech (its end is the last
loud voiced frame + ``tail_s``). Measured on the benchmark program: -26 dB leaves the end 0.0-0.17 s after the
last -40 dBFS sound on six of seven utterances and clips none; -20 dB would cut 0.32 s of a soft ending.

``short_pause_s`` was 0.5 s; ``devtools/endpoint_replay.py --variant short_pause_s=0.35`` over the whole bench
program gives the same segments and WER (2.4 %, as files) and final-after-end p50 / p95 0.43 / 1.17 s -> 0.40 /
0.66 s. Shorter tails (``vad.tail_s=0.15``) clip words (WER 6.0 %); a shorter ``pause_s`` changes nothing (the
offer arrives 0.27 s after the speech's end: tail + decode).

Push-to-talk needs no rule: the release is the end (:meth:`~.pipeline.LivePipeline.end_utterance`).

Thread use: the worker calls :meth:`Endpointer.offer`, the listener's segmenter :meth:`Endpointer.hangover`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True)
class EndpointOptions:
    enabled: bool = True
    pause_s: float = 0.25  # silence after the last voiced frame that ends an utterance whose text ends a sentence
    short_pause_s: float = 0.35  # ... for a segment with less speech than VadOptions.short_speech_s
    min_words: int = 3  # ... and only when the text has at least this many words ("Ask not!" waits: jfk pauses there)
    quiet_ratio: float = 0.05  # voiced frames 26 dB below the segment's loud level do not extend its speech


def ends_sentence(text: str) -> bool:
    t = text.strip().rstrip("\"')]»”’")
    return t.endswith(SENTENCE_END) and not t.endswith("...")


@dataclass(frozen=True)
class _Offer:
    segment_id: int
    end: int  # the segment's end sample the text was decoded on (last voiced frame + tail)
    words: int


class Endpointer:
    """The latest end-of-sentence offer from the worker, checked by the segmenter on every frame."""

    def __init__(self, options: EndpointOptions | None = None, frame_s: float = 0.03, tail_frames: int = 0) -> None:
        self.options = options or EndpointOptions()
        self.frame_s = frame_s
        self.tail_frames = tail_frames
        self._lock = threading.Lock()
        self._offer: _Offer | None = None

    def offer(self, segment_id: int, end: int, text: str) -> None:
        """The speculative final of segment ``segment_id`` decoded on its first samples up to ``end``."""
        if not self.options.enabled:
            return
        with self._lock:
            self._offer = _Offer(segment_id, end, len(text.split())) if ends_sentence(text) else None

    def hangover(self, segment_id: int, speech_end: int, short: bool) -> int | None:
        """Frames of silence that end the open segment now, or None for the segmenter's own hang-over.
        ``speech_end``: the segment's end sample if it closed now (last voiced frame + tail)."""
        with self._lock:
            o = self._offer
        if o is None or o.segment_id != segment_id or o.end != speech_end:
            return None
        if o.words < self.options.min_words:
            return None
        pause = self.options.short_pause_s if short else self.options.pause_s
        return max(self.tail_frames + 1, int(round(pause / self.frame_s)))
