"""``amanuensis bench --noise``: what the speech gate costs and saves on the shared recordings.

* words out of every non-speech clip (``noise/noise_*.wav``), from a file (the engine's file path, with and
  without the neural speech gate) and through the live pipeline (a FileSource as fast as the pipeline
  takes it, with and without the gate);
* pooled WER of the clean speech clips and of the noisy VoiceBank-DEMAND clips, with and without the gate;
* a clip made of 20 s of noise followed by jfk.wav: its text and its first segment's start (should be ~20 s);
* the gate's own cost: milliseconds per second of audio, streaming (live) and batched (files).

``run(args)``: ``args.backend`` ("auto"), ``args.json`` (path or None), ``args.live`` (also the live pipeline).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SR = 16000
NOISE_LEAD_S = 20.0


def _words(text: str) -> int:
    from ..whisper.wer import normalize

    return len(normalize(text).split())


def clips(folder: Path) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """(non-speech clips, clean speech clips with references, noisy speech clips with references)."""
    from .corpus import manifest, non_speech

    return non_speech(folder), manifest(folder), manifest(folder, noisy=True)


def noise_then_speech(
    folder: Path, noise: str = "noise/noise_running_tap.wav", lead_s: float = NOISE_LEAD_S
) -> np.ndarray:
    """``lead_s`` of a noise clip (looped) followed by jfk.wav."""
    from .corpus import load_clip

    n = load_clip(noise, folder)
    lead = np.resize(n, int(lead_s * SR)).astype(np.float32)
    return np.concatenate([lead, load_clip("jfk.wav", folder)])


def gate_cost(audio: np.ndarray) -> dict[str, float]:
    """The detector's cost per second of audio: streaming in the listener's 20 ms blocks, and batched (files);
    CPU time (what it takes from the machine) and wall time (which also counts waiting for a busy core)."""
    from ..audio.speech_gate import SpeechGate, speech_probabilities

    gate = SpeechGate()
    gate.push(audio[:SR])  # warm
    speech_probabilities(audio[:SR])
    seconds = audio.size / SR

    def stream() -> None:
        for i in range(0, audio.size, 320):
            gate.push(audio[i : i + 320])

    out: dict[str, float] = {"audio_s": round(seconds, 1)}
    for label, fn in (("stream", stream), ("batch", lambda: speech_probabilities(audio))):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        out[f"{label}_cpu_ms_per_s"] = round((time.process_time() - c0) * 1000 / seconds, 2)
        out[f"{label}_wall_ms_per_s"] = round((time.perf_counter() - w0) * 1000 / seconds, 2)
    return out


def live_text(engine, audio: np.ndarray, **options) -> tuple[str, dict]:
    """All final text of ``audio`` played through the live pipeline as fast as it takes it."""
    from ..live import FileSource, LiveOptions, LivePipeline
    from ..live.events import Final

    finals: list[str] = []

    def on_event(ev) -> None:
        if isinstance(ev, Final) and ev.text.strip():
            finals.append(ev.text.strip())

    pipeline = LivePipeline(engine, LiveOptions(**options), on_event, source=FileSource(audio, speed=float("inf")))
    pipeline.start()
    pipeline.wait()
    return " ".join(finals), dict(pipeline.stats)


def run(args) -> int:
    """The noise benchmark; errors reach the CLI's one-sentence handler (cli.main)."""
    from ..engine import Engine
    from ..errors import UserError
    from ..whisper.speech_only import transcribe_speech
    from ..whisper.wer import wer
    from .corpus import load_clip, shared_audio_dir

    folder = shared_audio_dir()
    if not (folder / "MANIFEST.tsv").is_file():
        raise UserError(f"The shared recordings were not found at {folder}.")
    engine = Engine.load(getattr(args, "backend", None) or "auto", getattr(args, "model", None))
    live = bool(getattr(args, "live", False))
    from ..live.confirm import GateOptions

    noise, clean, noisy = clips(folder)
    result: dict = {"backend": engine.backend.label, "noise": {}, "wer": {}}
    for name in noise:
        audio = load_clip(name, folder)
        row: dict[str, Any] = {
            "file_words": _words(engine.transcribe(audio).text),
            "file_words_gated": _words(transcribe_speech(engine, audio).text),
        }
        if live:
            text, _ = live_text(engine, audio, gate=GateOptions(enabled=False))
            row["live_words"] = _words(text)
            text, stats = live_text(engine, audio, gate=GateOptions())
            row["live_words_gated"] = _words(text)
            row["live_stats_gated"] = {k: v for k, v in stats.items() if "gate" in k or k == "finals"}
        result["noise"][name] = row
        print(f"{name:<40} {row}", flush=True)
    for label, rows in (("clean", clean), ("noisy", noisy)):
        refs, plain, gated = [], [], []
        for name, ref in rows:
            audio = load_clip(name, folder)
            refs.append(ref)
            plain.append(engine.transcribe(audio).text)
            gated.append(transcribe_speech(engine, audio).text)
        result["wer"][label] = {
            "clips": len(rows),
            "plain": round(wer(" ".join(refs), " ".join(plain)), 4),
            "gated": round(wer(" ".join(refs), " ".join(gated)), 4),
        }
        print(label, result["wer"][label], flush=True)
    lead = noise_then_speech(folder)
    for label, fn in (("plain", engine.transcribe), ("gated", lambda a: transcribe_speech(engine, a))):
        t0 = time.perf_counter()
        tr = fn(lead)
        result[f"noise_then_jfk_{label}"] = {
            "text": tr.text,
            "first_start": tr.segments[0].start if tr.segments else None,
            "seconds": round(time.perf_counter() - t0, 2),
        }
        print(label, result[f"noise_then_jfk_{label}"], flush=True)
    result["gate_cost"] = gate_cost(lead)
    print("gate cost", result["gate_cost"])
    text = json.dumps(result, indent=2)
    path = getattr(args, "json", None)
    if path:
        Path(path).write_text(text + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(prog="amanuensis bench --noise")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--json", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--live", action="store_true")
    sys.exit(run(parser.parse_args()))


def segment_scores(
    audio: np.ndarray, threshold: float = 0.5, marks: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25, 0.3)
) -> list[dict]:
    """webrtcvad's segments of ``audio`` (1 s of silence around it) as the live pipeline cuts them, each scored by
    the neural detector from its open: seconds above ``threshold`` in all, and how much audio past the ``open``
    event's (pre-roll + onset) had to arrive before ``mark`` seconds were above it (None: never)."""
    from ..audio.speech_gate import CHUNK_S, SpeechGate
    from ..live.vad import EventKind, Segmenter

    pad = np.zeros(SR, np.float32)
    seg = Segmenter()
    whole = np.concatenate([pad, audio, pad])
    events = [e for i in range(0, whole.size, 320) for e in seg.push(whole[i : i + 320])] + seg.flush()
    gate = SpeechGate()
    rows: list[dict] = []
    cur: dict | None = None
    for e in events:
        if e.kind == EventKind.OPEN:
            gate.reset()
            cur = {
                "id": e.segment_id,
                "open_s": e.audio.size / SR,
                "probs": [gate.push(e.audio)],
                "n": e.audio.size,
                "voiced": e.voiced,
                "partial_at_s": None,
            }
            rows.append(cur)
        elif e.kind == EventKind.AUDIO and cur is not None:
            cur["probs"].append(gate.push(e.audio))
            cur["n"] += e.audio.size
            cur["voiced"] += e.voiced
        if cur is not None and cur["partial_at_s"] is None and cur["voiced"] >= 0.4 * SR:
            # the live worker's first partial needs 0.4 s of webrtcvad-voiced audio
            cur["partial_at_s"] = round(max(0.0, cur["n"] / SR - cur["open_s"]), 3)
        elif e.kind == EventKind.CLOSE and cur is not None:
            cur["voiced_s"] = e.voiced / SR
            cur["too_short"] = e.too_short
            cur["length_s"] = (e.end - e.start) / SR if e.start else None
    for r in rows:
        p = np.concatenate(r.pop("probs"))
        above = np.cumsum(p >= threshold) * CHUNK_S
        r["speech_s"] = round(float(above[-1]) if above.size else 0.0, 3)
        r["max_p"] = round(float(p.max()) if p.size else 0.0, 3)
        del r["n"], r["voiced"]
        for m in marks:
            hit = np.nonzero(above >= m - 1e-9)[0]
            r[f"after_open_{m}"] = round(max(0.0, (hit[0] + 1) * CHUNK_S - r["open_s"]), 3) if hit.size else None
    return rows
