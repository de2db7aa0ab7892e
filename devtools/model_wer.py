"""Pooled WER and time of models x backends on the shared speech clips, and faster-whisper on the same folder.

``python -m devtools.model_wer [--models tiny.en base] [--backends cpu openvino] [--peer] [--json PATH]``

Models: ``tiny.en`` (embedded), ``base`` (assembled from the PyPI wheels, see :mod:`devtools.base_model`) or a
folder. Clips: every shared clip with a speech reference (the non-speech noise clips have none), English
forced (``language="en"``) so multilingual models are compared on transcription alone. Greedy with the usual
temperature fallback on both sides; faster-whisper int8 with 2 threads (as ``amanuensis bench``). Times are
in-process transcription times after one warm-up clip (model load excluded and reported apart).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def speech_clips(folder=None) -> list[tuple[str, str]]:
    from amanuensis_desktop.bench.corpus import manifest

    return manifest(folder) + manifest(folder, noisy=True)  # clean and noisy speech: 17 clips, 98 s


def model_folder(name: str):
    if name in ("tiny.en", "", "default"):
        return None
    if name == "base":
        from .base_model import base_model_dir, missing_reason

        folder = base_model_dir()
        if folder is None:
            raise SystemExit(missing_reason())
        return folder
    return name


def run_ours(model: str, backend: str, clips, audio) -> dict:
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.whisper.wer import wer

    t0 = time.perf_counter()
    engine = Engine.load(backend, model_folder(model))
    load_s = time.perf_counter() - t0
    lang = "en" if engine.tokenizer.multilingual else None
    engine.transcribe(audio[clips[0][0]], language=lang)  # warm-up
    hyps, t0 = [], time.perf_counter()
    for name, _ref in clips:
        hyps.append(engine.transcribe(audio[name], language=lang, temperature=TEMPERATURES).text)
    seconds = time.perf_counter() - t0
    label = engine.backend.label
    engine.close()
    return {
        "model": model,
        "engine": label,
        "load_s": load_s,
        "transcribe_s": seconds,
        "wer": wer([r for _, r in clips], hyps),
        "hyps": hyps,
    }


def run_peer(model: str, clips, audio) -> dict:
    from faster_whisper import WhisperModel

    from amanuensis_desktop.whisper.model import resolve_model_path
    from amanuensis_desktop.whisper.wer import wer

    folder = str(resolve_model_path(model_folder(model)))
    t0 = time.perf_counter()
    fw = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=2, num_workers=1)
    load_s = time.perf_counter() - t0

    def transcribe(a):
        segments, _ = fw.transcribe(
            a,
            language="en",
            beam_size=1,
            best_of=5,
            temperature=list(TEMPERATURES),
            condition_on_previous_text=True,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments)

    transcribe(audio[clips[0][0]])
    hyps, t0 = [], time.perf_counter()
    for name, _ref in clips:
        hyps.append(transcribe(audio[name]))
    seconds = time.perf_counter() - t0
    return {
        "model": model,
        "engine": "faster-whisper int8",
        "load_s": load_s,
        "transcribe_s": seconds,
        "wer": wer([r for _, r in clips], hyps),
        "hyps": hyps,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.model_wer")
    p.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    p.add_argument("--backends", nargs="+", default=["cpu", "openvino"])
    p.add_argument("--peer", action="store_true", help="also faster-whisper on the same folders")
    p.add_argument("--json", help="write every result (with the transcripts) here")
    args = p.parse_args(argv)

    from amanuensis_desktop.bench.corpus import load_clip

    clips = speech_clips()
    audio = {name: load_clip(name) for name, _ in clips}
    total = sum(a.size for a in audio.values()) / 16000
    print(f"{len(clips)} speech clips, {total:.0f} s", flush=True)
    results = []
    for model in args.models:
        engines: list[str] = [*args.backends, *(["faster-whisper"] if args.peer else [])]
        for engine in engines:
            r = run_peer(model, clips, audio) if engine == "faster-whisper" else run_ours(model, engine, clips, audio)
            results.append(r)
            print(
                f"{r['model']:8s} {r['engine']:45s} WER {r['wer']:6.2%}  transcribe {r['transcribe_s']:6.1f} s  "
                f"load {r['load_s']:5.1f} s",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
