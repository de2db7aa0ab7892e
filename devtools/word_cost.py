"""What word timestamps cost: seconds per audio minute with and without, ours (OpenVINO) and faster-whisper's.

``python -m devtools.word_cost [--rounds N]`` transcribes the shared clean clips joined into one file (0.5 s
between them), in interleaved rounds (ours without, ours with, faster-whisper without, with), and prints medians,
and the time of our word pass itself (the alignment pass, DTW and word merging: ``words_s``) per audio minute.
Not shipped; a measuring rig like ``amanuensis bench``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="openvino")
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    from amanuensis_desktop.bench.corpus import load_clip, manifest
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.whisper.model import resolve_model_path

    engine = Engine.load(args.backend)
    peer = WhisperModel(str(resolve_model_path(None)), device="cpu", compute_type="int8", cpu_threads=2)
    gap = np.zeros(8000, np.float32)
    audio = np.concatenate([x for name, _ in manifest() for x in (load_clip(name), gap)])
    minutes = audio.size / 16000 / 60

    passes: list[float] = []

    def ours(words: bool) -> float:
        t0 = time.perf_counter()
        result = engine.transcribe(audio, word_timestamps=words)
        if words:
            passes.append(result.timings.get("words_s", 0.0))
        return time.perf_counter() - t0

    def theirs(words: bool) -> float:
        t0 = time.perf_counter()
        segments, _ = peer.transcribe(audio, language="en", beam_size=1, word_timestamps=words)
        list(segments)
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    ours(True)  # warm-up: the alignment pass is compiled (or read from the cache) on first use
    first = time.perf_counter() - t0
    passes.clear()
    runs: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for label, fn, words in (
            ("ours", ours, False),
            ("ours + words", ours, True),
            ("faster-whisper", theirs, False),
            ("faster-whisper + words", theirs, True),
        ):
            runs.setdefault(label, []).append(fn(words))
    print(f"{audio.size / 16000:.0f} s of audio, {engine.backend.label}, {args.rounds} rounds (median)")
    for label, times in runs.items():
        print(f"  {label:24} {np.median(times) / minutes:6.2f} s per audio minute, runs {[round(t, 2) for t in times]}")
    print(f"  our word pass alone      {np.median(passes) / minutes:6.2f} s per audio minute (words_s)")
    print(f"  first run with words     {first:6.2f} s (the alignment pass prepared on first use)")


if __name__ == "__main__":
    main()
