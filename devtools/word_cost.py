"""What word timestamps cost: seconds per audio minute with and without, ours (OpenVINO) and faster-whisper's.

``python -m devtools.word_cost [--rounds N]`` transcribes the shared clean clips joined into one file (0.5 s
between them), in interleaved rounds (ours without, ours with, faster-whisper without, with), and prints medians,
and the time of our word pass itself (the alignment pass, DTW and word merging: ``words_s``) per audio minute.

``python -m devtools.word_cost --live [--rounds N]``: the delay word timestamps add to live finals. The first
clips of ``amanuensis bench --live`` are played at real time (a FileSource) through the live pipeline, with word
timestamps off and on in alternate runs; printed: the median final latency (from the detected end of speech to
the final, ``Final.latency``) and the median time from each utterance's last loud sample to its final.
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
    parser.add_argument("--live", action="store_true", help="the delay of live finals with word timestamps on/off")
    parser.add_argument("--clips", type=int, default=4, help="--live: how many of the live bench's clips")
    args = parser.parse_args()
    if args.live:
        live(args)
        return

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


def live(args) -> None:
    import threading

    from amanuensis_desktop.bench.live import build_program
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.live import FileSource, LiveOptions, LivePipeline
    from amanuensis_desktop.live.events import Final

    engine = Engine.load(args.backend)
    program, utts = build_program()
    utts = utts[: args.clips]
    program = np.concatenate([program[: int((utts[-1]["end"] + 1.0) * 16000)], np.zeros(3 * 16000, np.float32)])
    engine.transcribe(program[: 3 * 16000], word_timestamps=True)  # warm-up, the alignment pass included

    def run(words: bool) -> tuple[list[float], list[float]]:
        events: list[tuple[float, Final]] = []
        lock = threading.Lock()

        def sink(ev) -> None:
            if isinstance(ev, Final) and ev.text.strip():
                with lock:
                    events.append((time.monotonic(), ev))

        pipeline = LivePipeline(engine, LiveOptions(word_timestamps=words), sink, source=FileSource(program))
        t_play = time.monotonic()
        pipeline.start()
        time.sleep(program.size / 16000 + 0.5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not pipeline.idle:
            time.sleep(0.1)
        pipeline.stop()
        if words and not all(f.words for _, f in events):
            raise SystemExit("a final came without its words")
        after_end = []
        for u in utts:
            mine = [(t, f) for t, f in events if f.end > u["onset"] - 0.2 and f.start < u["end"] + 0.2]
            if mine:
                after_end.append(max(mine, key=lambda tf: tf[1].end)[0] - (t_play + u["end"]))
        return [f.latency for _, f in events], after_end

    runs: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
    for _ in range(args.rounds):
        for words in (False, True):
            latency, after_end = run(words)
            runs[words][0].extend(latency)
            runs[words][1].extend(after_end)
    print(f"{len(utts)} utterances x {args.rounds} rounds, {engine.backend.label}, FileSource at real time")
    for words, (latency, after_end) in runs.items():
        print(
            f"  words {'on ' if words else 'off'}: final latency median {np.median(latency):.3f} s "
            f"(p90 {np.percentile(latency, 90):.3f}, n={len(latency)}); "
            f"utterance end to final median {np.median(after_end):.3f} s"
        )


if __name__ == "__main__":
    main()
