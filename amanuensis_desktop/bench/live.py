"""``amanuensis bench --live``: live dictation measured end to end, in real time.

The shared clips (jfk, the four Sense and Sensibility clips, goforward, the lamp command) are joined with
1.5 s pauses and played into the pipeline: through a private PulseAudio virtual microphone when pulseaudio
is installed and devtools/ is present, i.e. in a source checkout (the real capture path: PortAudio, native
rate, soxr), else from a FileSource at real time.
Then ~10 s of silence. Measured:

* final latency: from the end of each utterance (its last sample louder than -40 dBFS) to its final text,
  and from the moment the pipeline detected the end of speech (``Final.latency``; the hang-over excluded);
* first text: from the onset of each utterance to its first partial (or final) with text;
* backlog: the largest published real-time backlog;
* CPU while listening to silence: psutil ``cpu_percent`` of this process over ~10 s (100 % = one core);
* push-to-talk: the final after each release (the target is about this one);
* WER of the finals against the references, beside the engine's own file transcription.

``run(args)``: ``args.backend`` (default "auto"), ``args.json`` (path or None), optional ``args.model``,
``args.silence_s`` (10), ``args.source`` ("auto" | "mic" | "file"), ``args.ptt`` (push-to-talk: the pipeline's
``end_utterance()`` is called once each utterance's end has been captured; latency is still measured from the
end of the utterance). Prints a table and the JSON.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..whisper.audio import SAMPLE_RATE as SR

CLIPS = [
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
    "goforward.wav",
    "turn_on_the_living_room_lamp.wav",
]
PAUSE_S = 1.5
PTT_LEAD_S = 0.3  # push-to-talk: the key goes down this long before the speech starts
# ... and up this long after its end has been captured: the playback's start (the pipeline-time offset) is known
# only to within PulseAudio's start-up latency, and a release at the exact end clipped last words under load
PTT_RELEASE_AFTER_S = 0.15
LEAD_S = 1.0


def _speech_bounds(clip: np.ndarray, threshold: float = 0.01) -> tuple[float, float]:
    """(first, last) second of ``clip`` whose 10 ms block is louder than ``threshold`` RMS (-40 dBFS)."""
    blocks = clip[: clip.size // 160 * 160].reshape(-1, 160)
    loud = np.nonzero(np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1)) > threshold)[0]
    if loud.size == 0:
        return 0.0, clip.size / SR
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def build_program(folder: Path | None = None):
    """The clips joined with pauses, and each utterance's (name, onset, end, reference) in program seconds."""
    from .corpus import join_clips, shared_audio_dir

    folder = folder or shared_audio_dir()
    names = [name for name in CLIPS if (folder / name).is_file()]
    if not names:
        return np.zeros(0, np.float32), []
    program, spans = join_clips(names, pause_s=PAUSE_S, lead_s=LEAD_S, folder=folder)
    utterances = []
    for name, (start, end, ref) in zip(names, spans, strict=False):
        clip = program[int(round(start * SR)) : int(round(end * SR))]
        on, off = _speech_bounds(clip)
        utterances.append({"clip": name, "onset": start + on, "end": start + off, "reference": ref, "audio": clip})
    return program, utterances


def _pct(values, q):
    return float(np.percentile(values, q)) if len(values) else float("nan")


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple[float, object]] = []

    def __call__(self, ev):
        from ..live.events import Level

        if isinstance(ev, Level):
            return
        with self.lock:
            self.events.append((time.monotonic(), ev))


def _virtualmic() -> Any:
    """devtools.virtualmic (a development rig, not part of the installed package), or None when absent."""
    try:
        from devtools import virtualmic
    except ImportError:
        return None
    return virtualmic


def run(args) -> int:
    """The live benchmark; errors reach the CLI's one-sentence handler (cli.main)."""
    import psutil

    from ..engine import Engine
    from ..errors import UserError
    from ..live import FileSource, LiveOptions, LivePipeline
    from ..live.events import BackendInfo, Backlog, Error, Final, Partial
    from ..whisper.wer import wer
    from .corpus import shared_audio_dir

    folder = shared_audio_dir()
    if not (folder / "MANIFEST.tsv").is_file():
        raise UserError(f"The shared recordings were not found at {folder}.")
    backend = getattr(args, "backend", None) or "auto"
    silence_s = float(getattr(args, "silence_s", None) or 10.0)
    want = getattr(args, "source", None) or "auto"
    ptt = bool(getattr(args, "ptt", False))  # push-to-talk: released at the end of each utterance
    live_options = LiveOptions(push_to_talk=ptt)
    for name in ("partial_pad_s", "final_pad_s"):  # the encoder's padding for live segments (None: 30 s windows)
        if hasattr(args, name):
            live_options = replace(live_options, **{name: getattr(args, name)})
    program, utts = build_program(folder)
    if not utts:
        raise UserError(f"None of the benchmark clips is in {folder}.")

    virtualmic = _virtualmic() if want != "file" else None
    if want == "mic" and virtualmic is None:
        raise UserError("The virtual microphone needs the devtools package of a source checkout; run from there.")
    use_mic = virtualmic is not None and (want == "mic" or (want == "auto" and virtualmic.available() is None))
    rec = _Recorder()
    proc = psutil.Process()
    with contextlib.ExitStack() as stack:
        t_load = time.perf_counter()
        engine = Engine.load(backend, getattr(args, "model", None))
        stack.callback(engine.close)  # runs last: after the pipeline has stopped
        load_s = time.perf_counter() - t_load
        file_texts = [engine.transcribe(u["audio"]).text for u in utts]
        engine.transcribe(program[: 3 * SR])  # warm-up (first-inference costs are not live latency)

        # Everything is undone on the way out, also on errors: the daemon, its folder and the environment.
        mic = stack.enter_context(virtualmic.session(prefix="amanuensis-bench-")) if virtualmic and use_mic else None
        if mic is not None:
            pipeline = LivePipeline(engine, replace(live_options, device=mic.device), rec)
            pipeline.start()
            stack.callback(pipeline.stop)  # runs before the session ends (its stream must close first)
            if not pipeline.wait_ready(6):
                raise UserError("The virtual microphone delivered no audio.")
            time.sleep(0.5)
            offset = pipeline.captured_seconds  # pipeline time at which playback starts
            t_play = time.monotonic()
            player = mic.play(program, blocking=False)
            source_label = f"virtual microphone (PulseAudio, PortAudio device '{mic.device}')"
        else:
            audio = np.concatenate([program, np.zeros(int((silence_s + 3) * SR), np.float32)])
            pipeline = LivePipeline(engine, live_options, rec, source=FileSource(audio, speed=1.0))
            t_play = time.monotonic()
            pipeline.start()
            stack.callback(pipeline.stop)
            offset, player = 0.0, None
            source_label = "FileSource at real time (no pulseaudio)"
        program_s = program.size / SR
        # Push-to-talk: the key goes down PTT_LEAD_S before each utterance's onset and up once its end has been
        # captured (the pipeline starts with the key down).
        released: list[float] = []  # monotonic time of each release, in utterance order

        def release() -> None:
            pipeline.end_utterance()
            released.append(time.monotonic())

        keys = (
            sorted(
                [(offset + u["onset"] - PTT_LEAD_S, pipeline.begin_utterance) for u in utts]
                + [(offset + u["end"] + PTT_RELEASE_AFTER_S, release) for u in utts],
                key=lambda k: k[0],
            )
            if ptt
            else []
        )
        while time.monotonic() < t_play + program_s + 0.2:
            while keys and pipeline.captured_seconds >= keys[0][0]:
                keys.pop(0)[1]()
            time.sleep(0.005 if keys else 0.1)
        if player is not None:
            player.wait()
        # Wait for the last final, then listen to silence only.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (pipeline.backlog_seconds > 0.05 or not pipeline.idle):
            time.sleep(0.1)
        time.sleep(1.0)
        proc.cpu_percent(None)
        t_sil = time.perf_counter()
        cpu_times0 = proc.cpu_times()
        time.sleep(silence_s)
        cpu_silence = proc.cpu_percent(None)
        cpu_times1 = proc.cpu_times()
        sil_wall = time.perf_counter() - t_sil
        pipeline.stop()
        label_fallback = engine.backend.label

    events = rec.events
    label = next((e.label for _, e in events if isinstance(e, BackendInfo)), label_fallback)
    finals = [(t, e) for t, e in events if isinstance(e, Final)]
    texts = [
        (t, e)
        for t, e in events
        if isinstance(e, (Partial, Final))
        and (e.text.strip() if isinstance(e, Final) else (e.stable + e.unstable).strip())
    ]
    end_lat, detect_lat, first_text, per_utt, release_lat = [], [], [], [], []
    for i, u in enumerate(utts):
        on_p, end_p = u["onset"] + offset, u["end"] + offset  # pipeline seconds
        mine = [(t, f) for t, f in finals if f.text.strip() and f.end > on_p - 0.2 and f.start < end_p + 0.2]
        row = {
            "clip": u["clip"],
            "final_after_end_s": None,
            "first_text_after_onset_s": None,
            "text": " ".join(f.text for _, f in mine),
        }
        if mine:
            t_last, f_last = max(mine, key=lambda tf: tf[1].end)
            row["final_after_end_s"] = round(t_last - (t_play + u["end"]), 3)
            end_lat.append(row["final_after_end_s"])
            if i < len(released):
                row["final_after_release_s"] = round(t_last - released[i], 3)
                release_lat.append(row["final_after_release_s"])
        # the first text of a segment that starts with this utterance (pre-roll included) or overlaps it
        firsts = [t for t, e in texts if on_p - 1.5 <= e.start <= end_p and t >= t_play + u["onset"]]
        if firsts:
            row["first_text_after_onset_s"] = round(min(firsts) - (t_play + u["onset"]), 3)
            first_text.append(row["first_text_after_onset_s"])
        per_utt.append(row)
    detect_lat = [f.latency for _, f in finals if f.text.strip()]
    backlog = [e.seconds for _, e in events if isinstance(e, Backlog)]
    errors = [e.message for _, e in events if isinstance(e, Error)]
    refs = " ".join(u["reference"] for u in utts)
    live_wer = wer(refs, " ".join(f.text for _, f in finals))
    file_wer = wer(refs, " ".join(file_texts))
    cpu_core = (sum(cpu_times1[:2]) - sum(cpu_times0[:2])) / sil_wall * 100
    result = {
        "backend": label,
        "source": source_label,
        "engine_load_s": round(load_s, 2),
        "utterances": len(utts),
        "program_s": round(program.size / SR, 1),
        "final_after_end_of_utterance_s": {"p50": round(_pct(end_lat, 50), 3), "p95": round(_pct(end_lat, 95), 3)},
        "final_after_end_detected_s": {
            "p50": round(_pct(detect_lat, 50), 3),
            "p95": round(_pct(detect_lat, 95), 3),
            "n": len(detect_lat),
        },
        "first_text_after_onset_s": {
            "p50": round(_pct(first_text, 50), 3),
            "p95": round(_pct(first_text, 95), 3),
            "max": round(max(first_text), 3) if first_text else None,
        },
        "final_after_release_s": {"p50": round(_pct(release_lat, 50), 3), "p95": round(_pct(release_lat, 95), 3)}
        if ptt
        else None,
        "backlog_max_s": round(max(backlog), 3) if backlog else 0.0,
        "cpu_silence_percent_of_one_core": round(cpu_silence, 2),
        "cpu_silence_from_cpu_times": round(cpu_core, 2),
        "silence_s": round(sil_wall, 1),
        "wer_live": round(live_wer, 4),
        "wer_file": round(file_wer, 4),
        "pipeline": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in pipeline.stats.items()},
        "hangover_s": pipeline.options.vad.hangover_s,
        "encoder_pad_s": {"partial": pipeline.options.partial_pad_s, "final": pipeline.options.final_pad_s},
        "timeline_median_s": _timeline_medians(pipeline.stats.get("timeline", [])),
        "mode": "hands-free"
        if not ptt
        else f"push-to-talk (released {PTT_RELEASE_AFTER_S:.2f} s after each utterance's end)",
        "errors": errors,
        "per_utterance": per_utt,
    }
    _print_table(result)
    text = json.dumps(result, indent=2)
    print(text)
    path = getattr(args, "json", None)
    if path:
        Path(path).write_text(text + "\n")
    return 0


def _timeline_medians(timeline: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the finals with text of where their time went, seconds after the end was detected."""
    rows = [t for t in timeline if t.get("text")]
    keys = ("taken_s", "decode_start_s", "encoder_s", "decode_end_s", "emitted_s")
    return {k: round(float(np.median([t[k] for t in rows])), 3) for k in keys} if rows else {}


def _ms(pair: dict[str, Any]) -> str:
    """'p50 / p95 ms' of a latency summary in seconds."""
    return f"{pair['p50'] * 1000:.0f} / {pair['p95'] * 1000:.0f} ms"


def _print_table(r: dict[str, Any]) -> None:
    rows = [
        ("backend", r["backend"]),
        ("audio source", r["source"]),
        ("mode", r["mode"]),
        ("final after end of utterance (p50 / p95)", _ms(r["final_after_end_of_utterance_s"])),
        (
            "final after end detected (p50 / p95)",
            f"{_ms(r['final_after_end_detected_s'])}  (n={r['final_after_end_detected_s']['n']})",
        ),
        ("first text after speech onset (p50 / p95)", _ms(r["first_text_after_onset_s"])),
        *([("final after release (p50 / p95)", _ms(r["final_after_release_s"]))] if r["final_after_release_s"] else []),
        ("backlog max", f"{r['backlog_max_s']:.2f} s"),
        (
            "CPU listening to silence",
            f"{r['cpu_silence_percent_of_one_core']:.1f} % of one core over {r['silence_s']} s",
        ),
        ("WER live / file", f"{r['wer_live'] * 100:.1f} % / {r['wer_file'] * 100:.1f} %"),
        (
            "final timeline, median s after end detected",
            " ".join(f"{k}={v}" for k, v in r["timeline_median_s"].items()),
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print("Live dictation benchmark")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    for u in r["per_utterance"]:
        fe = u["final_after_end_s"]
        ft = u["first_text_after_onset_s"]
        print(
            f"    {u['clip'][:44]:<44} final +{(fe or float('nan')) * 1000:5.0f} ms  first text "
            f"+{(ft or float('nan')) * 1000:5.0f} ms"
        )


if __name__ == "__main__":  # pragma: no cover
    import argparse

    from ..live.pipeline import LiveOptions as _LiveOptions

    LIVE_DEFAULTS = _LiveOptions()

    parser = argparse.ArgumentParser(prog="amanuensis bench --live")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--json", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--silence-s", type=float, default=10.0)
    parser.add_argument("--source", choices=("auto", "mic", "file"), default="auto")
    parser.add_argument("--ptt", action="store_true")

    def pad(value: str) -> float | None:
        return None if value.lower() == "none" else float(value)

    parser.add_argument("--partial-pad-s", type=pad, default=LIVE_DEFAULTS.partial_pad_s, help="seconds, or none")
    parser.add_argument("--final-pad-s", type=pad, default=LIVE_DEFAULTS.final_pad_s, help="seconds, or none")
    sys.exit(run(parser.parse_args()))
