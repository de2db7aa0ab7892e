"""Replay the live benchmark's program through the segmenter, offline, to measure end-pointing alone.

``bench --live`` runs in real time, so on a loaded machine its finals wait behind decodes that cannot keep up
(a backlog of many seconds) and the hang-over's share of the latency is lost in the noise. This replay feeds
the same program (the shared clips joined with pauses) in 10 ms blocks through the real webrtcvad segmenter,
decodes every speculative final with the real engine (as the worker does: on the segment's audio up to its last
voiced frame + tail, no prompt), and assumes each decode takes ``--decode-s`` of audio time (default 0.07 s:
the measured time from end detection to final on an idle machine). A final is out when its segment closed and,
if the speculation covered exactly the segment, when that decode was done; otherwise one more decode after the
close. Reported: final after the end of each utterance (p50 / p95), WER of the finals, with and without the
end-pointing rule (and push-to-talk: a release at each utterance's end, then one decode).

    PYTHONPATH=. python devtools/endpoint_replay.py [--decode-s 0.07 | --measured] [--final-pad-s S]

``--measured``: each decode takes what it really took here (wall time, this machine's load) instead of a fixed
``--decode-s``. ``--final-pad-s S``: speculations and finals encode their audio plus S seconds of padding
instead of a padded 30 s window (``LiveOptions.final_pad_s``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from typing import Any

import numpy as np

from amanuensis_desktop.bench.corpus import shared_audio_dir
from amanuensis_desktop.bench.live import build_program
from amanuensis_desktop.engine import Engine
from amanuensis_desktop.live.endpoint import Endpointer, EndpointOptions
from amanuensis_desktop.live.vad import FRAME, FRAME_MS, Segmenter, VadOptions
from amanuensis_desktop.whisper.audio import SAMPLE_RATE as SR
from amanuensis_desktop.whisper.wer import wer

BLOCK = 160  # 10 ms, as a microphone delivers


_CACHE: dict[tuple[int, int, float | None], tuple[str, float]] = {}  # (start, n, pad) -> (text, decode s)


def replay(
    engine,
    program,
    utts,
    mode: str,
    decode_s: float,
    endpoint: EndpointOptions | None = None,
    vad: VadOptions | None = None,
    pad_s: float | None = None,
    measured: bool = False,
) -> dict:
    vad = vad or VadOptions()
    endpointer = Endpointer(endpoint or EndpointOptions(), FRAME_MS / 1000) if mode == "endpoint" else None
    seg = Segmenter(vad, endpointer=endpointer, push_to_talk=mode == "ptt")
    if endpointer is not None:
        endpointer.tail_frames = seg.tail
    tail = seg.tail * FRAME
    cache = _CACHE

    def decode(start: int, n: int) -> tuple[str, float]:
        """(text, seconds the decode takes in the replay)."""
        key = (start, n, pad_s)
        if key not in cache:
            audio = program[start : start + n]
            t0 = time.perf_counter()
            text = engine.transcribe(audio, condition_on_previous_text=False, encoder_pad_s=pad_s).text.strip()
            cache[key] = (text, time.perf_counter() - t0)
        text, took = cache[key]
        return text, took if measured else decode_s

    opened: dict[int, dict] = {}
    pending_offers: list[tuple[float, int, int, str]] = []  # (ready at, segment id, end sample, text)
    finals: list[dict] = []
    # push-to-talk: the key goes down 0.3 s before each onset and up at each utterance's end
    keys = (
        sorted(
            [(int(round((u["onset"] - 0.3) * SR)), "press") for u in utts]
            + [(int(round(u["end"] * SR)), "release") for u in utts]
        )
        if mode == "ptt"
        else []
    )

    def apply(events, now: float) -> None:
        for e in events:
            if e.kind == "open":
                opened[e.segment_id] = {"start": e.start, "voiced": e.voiced, "last": e.last_voiced, "spec": None}
            elif e.kind == "audio" and e.segment_id in opened:
                s = opened[e.segment_id]
                s["voiced"] += e.voiced
                s["last"] = max(s["last"], e.last_voiced)
            elif e.kind == "close" and e.segment_id in opened:
                s = opened.pop(e.segment_id)
                n = e.end - s["start"]
                spec = s["spec"]
                if e.too_short:
                    continue
                if spec is not None and spec[0] == n:
                    out_at, text = max(now, spec[1]), spec[2]
                else:
                    text, took = decode(s["start"], n)
                    out_at = now + took
                finals.append({"start": s["start"] / SR, "end": e.end / SR, "out": out_at, "text": text})

    for i in range(0, program.size, BLOCK):
        now = (i + BLOCK) / SR
        while pending_offers and pending_offers[0][0] <= now:
            _, sid, end, text = pending_offers.pop(0)
            if endpointer is not None:
                endpointer.offer(sid, end, text)
        apply(seg.push(program[i : i + BLOCK]), now)
        while keys and keys[0][0] <= i + BLOCK:
            if keys.pop(0)[1] == "press":
                seg.press()
            else:
                apply(seg.end_now(release=True), now)
        for sid, s in opened.items():  # the worker's speculation rule
            spec_end = s["last"] + tail
            covered = i + BLOCK - s["start"]
            if s["voiced"] >= vad.min_speech_s * SR and covered >= spec_end - s["start"]:
                n = spec_end - s["start"]
                if s["spec"] is None or s["spec"][0] != n:
                    text, took = decode(s["start"], n)
                    s["spec"] = (n, now + took, text)
                    pending_offers.append((now + took, sid, s["start"] + n, text))
    apply(seg.flush(), program.size / SR)

    lat = []
    for u in utts:
        mine = [f for f in finals if f["text"] and f["end"] > u["onset"] - 0.2 and f["start"] < u["end"] + 0.2]
        if mine:
            lat.append(max(f["out"] for f in mine) - u["end"])
    refs = " ".join(u["reference"] for u in utts)
    return {
        "mode": mode,
        "final_after_end_s": {
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
        },
        "per_utterance_s": [round(x, 3) for x in lat],
        "segments": [
            {"start": round(f["start"], 2), "end": round(f["end"], 2), "out": round(f["out"], 2), "text": f["text"]}
            for f in finals
        ],
        "wer": round(wer(refs, " ".join(f["text"] for f in finals)), 4),
    }


def _options(variant: str) -> tuple[EndpointOptions, VadOptions]:
    """'key=value,...' over EndpointOptions (``vad.key`` over VadOptions)."""
    ep: dict[str, Any] = {}  # the fields are ints and floats
    vad: dict[str, Any] = {}
    for item in filter(None, variant.split(",")):
        key, value = item.split("=")
        (vad if key.startswith("vad.") else ep)[key.removeprefix("vad.")] = float(value)
    return replace(EndpointOptions(), **ep), replace(VadOptions(), **vad)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decode-s", type=float, default=0.07)
    ap.add_argument("--measured", action="store_true", help="each decode takes its measured wall time")
    ap.add_argument("--final-pad-s", type=float, default=None, help="short encoder for finals: audio + this padding")
    ap.add_argument("--modes", nargs="*", default=["hangover", "endpoint", "ptt"])
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        help="extra end-pointing run with options changed, e.g. 'short_pause_s=0.35,vad.tail_s=0.15'",
    )
    args = ap.parse_args()
    program, utts = build_program(shared_audio_dir())
    engine = Engine.load("auto")
    refs = " ".join(u["reference"] for u in utts)
    file_wer = wer(refs, " ".join(engine.transcribe(u["audio"]).text for u in utts))
    pad, measured = args.final_pad_s, args.measured
    out = [replay(engine, program, utts, mode, args.decode_s, pad_s=pad, measured=measured) for mode in args.modes]
    for variant in args.variant:
        ep, vad = _options(variant)
        run = replay(engine, program, utts, "endpoint", args.decode_s, ep, vad, pad_s=pad, measured=measured)
        run["mode"] = f"endpoint {variant}"
        out.append(run)
    utterances = [{"clip": u["clip"], "onset": round(u["onset"], 2), "end": round(u["end"], 2)} for u in utts]
    decode = "measured" if measured else args.decode_s
    head = {"decode_s": decode, "final_pad_s": pad, "file_wer": round(file_wer, 4), "utterances": utterances}
    print(json.dumps({**head, "runs": out}))


if __name__ == "__main__":
    main()
