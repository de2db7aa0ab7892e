"""OpenVINO thread settings with and without another process taking a core (issue #13, docs/decisions/busy_core.md).

Each variant adds CPU compile properties on top of ``devices.compile_config`` (per part: encoder, cross,
decoder) and runs in its own process (its own thread pools), serving transcriptions of jfk.wav and of the
183 s long clip (``corpus.long_clip(180)``) in process, with the peer bench's "same decoding" (greedy, no
conditioning, timestamps). The parent alternates the states in every round: quiet, busy (a ``while True: pass``
process pinned to CPU 0, the peer bench's ``--hog``) and roam (the same loop, free to move); it rotates the
variants' order and prints medians, the slow-down, the time inside the encoder and the decoder steps, and WER.
Run it under the CPU lock (the hog then runs inside the lock hold)::

    PYTHONPATH=$PWD flock /work/coord/cpu.lock .venv/bin/python devtools/busy_core.py \
        --variants today,pinned --files jfk,long --busy quiet,busy,roam --rounds 3 [--json out.json]

``--variants`` takes names from :data:`VARIANTS` or ``name=PART:KEY=VALUE;PART:KEY=VALUE`` (PART is encoder,
cross, decoder or all).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("encoder", "cross", "decoder")

# Extra properties per part ("all" = every part), on top of devices.compile_config. "today" adds nothing.
VARIANTS: dict[str, dict[str, dict[str, str]]] = {
    "today": {},
    "pinned": {"all": {"ENABLE_CPU_PINNING": "YES"}},  # the CPU plugin's default (compile_config until busy_core.md)
    "nopin": {"all": {"ENABLE_CPU_PINNING": "NO"}},
    "auto_part": {"all": {"TBB_PARTITIONER": "AUTO"}},
    "nopin_auto": {"all": {"ENABLE_CPU_PINNING": "NO", "TBB_PARTITIONER": "AUTO"}},
    "one": {"all": {"INFERENCE_NUM_THREADS": "1"}},
    "one_nopin": {"all": {"INFERENCE_NUM_THREADS": "1", "ENABLE_CPU_PINNING": "NO"}},
    "dec1": {"decoder": {"INFERENCE_NUM_THREADS": "1"}, "cross": {"INFERENCE_NUM_THREADS": "1"}},
    "nopin_t3": {"all": {"ENABLE_CPU_PINNING": "NO", "INFERENCE_NUM_THREADS": "3"}},
    "dec1_nopin": {
        "all": {"ENABLE_CPU_PINNING": "NO"},
        "decoder": {"INFERENCE_NUM_THREADS": "1"},
        "cross": {"INFERENCE_NUM_THREADS": "1"},
    },
}


def parse_variant(spec: str) -> tuple[str, dict[str, dict[str, str]]]:
    if spec in VARIANTS:
        return spec, VARIANTS[spec]
    if "=" not in spec:
        raise SystemExit(f"Unknown variant '{spec}'; known: {', '.join(VARIANTS)}.")
    name, body = spec.split("=", 1)
    out: dict[str, dict[str, str]] = {}
    for item in filter(None, body.split(";")):
        part, kv = item.split(":", 1)
        key, value = kv.split("=", 1)
        out.setdefault(part, {})[key] = value
    return name, out


# --------------------------------------------------------------------------------------------------
# The worker: one variant, in its own process
# --------------------------------------------------------------------------------------------------


def _patch(extra: dict[str, dict[str, str]]) -> dict[str, float]:
    """Add ``extra`` to every compile_config call; time encode, cross K/V and decoder steps. Returns the timers."""
    from amanuensis_desktop.backends.openvino import backend as ovb
    from amanuensis_desktop.backends.openvino import devices

    base = devices.compile_config

    def compile_config(device: str, precision: str, part: str) -> dict[str, str]:
        cfg = base(device, precision, part)
        cfg.update(extra.get("all", {}))
        cfg.update(extra.get(part, {}))
        return cfg

    devices.compile_config = compile_config
    timers = {"encoder": 0.0, "cross": 0.0, "step": 0.0, "steps": 0.0}

    def timed(cls: Any, name: str, key: str) -> None:
        fn = getattr(cls, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timers[key] += time.perf_counter() - t
                if key == "step":
                    timers["steps"] += 1

        setattr(cls, name, wrapper)

    timed(ovb.OpenVINOBackend, "encode", "encoder")
    timed(ovb.OpenVINOBackend, "_cross", "cross")
    timed(ovb._Session, "step", "step")
    return timers


def serve(spec: str) -> None:
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.bench.corpus import long_clip, manifest, shared_audio_dir
    from amanuensis_desktop.engine import Engine

    name, extra = parse_variant(spec)
    timers = _patch(extra)
    folder = shared_audio_dir()
    long_audio, long_ref, _ = long_clip(180.0, 1.0, folder)
    audio = {
        "jfk": (load_audio(str(folder / "jfk.wav")), dict(manifest(folder))["jfk.wav"]),
        "long": (long_audio, long_ref),
    }
    t0 = time.perf_counter()
    engine = Engine.load("auto")
    same: dict[str, Any] = {"temperature": (0.0,), "condition_on_previous_text": False, "without_timestamps": False}
    backend: Any = engine.backend
    configs = {p: backend._compiled[p].get_property("INFERENCE_NUM_THREADS") for p in PARTS}
    pins = {p: backend._compiled[p].get_property("ENABLE_CPU_PINNING") for p in PARTS}
    engine.transcribe(audio["jfk"][0], language="en", **same)  # first-inference costs out of the timings
    print(
        json.dumps(
            {
                "variant": name,
                "label": engine.backend.label,
                "load_s": time.perf_counter() - t0,
                "threads": configs,
                "pinning": pins,
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") != "run":
            return
        for k in timers:
            timers[k] = 0.0
        samples, ref = audio[cmd["file"]]
        t = time.perf_counter()
        text = engine.transcribe(samples, language="en", **same).text
        print(json.dumps({"wall": time.perf_counter() - t, "text": text, "ref": ref, **timers}), flush=True)


# --------------------------------------------------------------------------------------------------
# The parent: the interleaved series
# --------------------------------------------------------------------------------------------------


def start_hog(pinned: bool) -> subprocess.Popen:
    """A busy loop: pinned to CPU 0 (the peer bench's --hog) or free to move (any other process)."""

    def pin() -> None:
        os.sched_setaffinity(0, {0})

    return subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin if pinned else None)


class Worker:
    def __init__(self, spec: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", spec],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker exited ({self.proc.wait()})")
        return json.loads(line)

    def run(self, file: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": "run", "file": file}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write('{"cmd": "quit"}\n')
        self.proc.stdin.flush()
        self.proc.wait()


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def table(rows: list[dict[str, Any]], names: list[str], files: list[str], states: list[str]) -> str:
    """Medians per variant and file: wall per state, slow-down, encoder seconds, ms per decoder step, WER."""
    busy = [s for s in states if s != "quiet"]
    out = [
        "| variant | file | quiet s | "
        + " | ".join(f"{s} s | {s}/quiet" for s in busy)
        + " | encoder s "
        + "/".join(states)
        + " | ms per step "
        + "/".join(states)
        + " | WER |",
        "|---|---|---|" + "---|---|" * len(busy) + "---|---|---|",
    ]
    for name in names:
        for f in files:
            sel = {s: [x for x in rows if x["variant"] == name and x["file"] == f and x["state"] == s] for s in states}
            wall = {s: _median([x["wall"] for x in sel[s]]) for s in states}
            enc = " / ".join(f"{_median([x['encoder'] for x in sel[s]]):.2f}" for s in states)
            steps = " / ".join(
                f"{_median([1000 * x['step'] / max(1, x['steps']) for x in sel[s]]):.1f}" for s in states
            )
            wers = ", ".join(sorted({f"{x['wer']:.1%}" for s in states for x in sel[s]}))
            q = wall.get("quiet", float("nan"))
            cells = "".join(f" {wall[s]:.2f} | {wall[s] / q:.2f} |" for s in busy)
            out.append(f"| {name} | {f} | {q:.2f} |{cells} {enc} | {steps} | {wers} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--serve", help=argparse.SUPPRESS)
    p.add_argument("--variants", default="today,nopin,dec1_nopin")
    p.add_argument("--files", default="jfk,long")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--busy", default="quiet,busy", help="quiet, busy (a hog pinned to CPU 0), roam (an unpinned hog)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    from amanuensis_desktop.whisper.wer import wer

    specs = args.variants.split(",")
    files = args.files.split(",")
    states = args.busy.split(",")
    print(f"start {time.strftime('%H:%M:%S')} load {load()}", flush=True)
    workers = {}
    for spec in specs:
        w = Worker(spec)
        workers[w.info["variant"]] = w
        print(json.dumps(w.info), flush=True)
    rows: list[dict[str, Any]] = []
    for r in range(args.rounds):
        names = list(workers)
        names = names[r % len(names) :] + names[: r % len(names)]
        for state in states if r % 2 == 0 else states[::-1]:
            hog = start_hog(state == "busy") if state in ("busy", "roam") else None
            try:
                time.sleep(0.3 if hog else 0.0)
                for name in names:
                    for f in files:
                        res = workers[name].run(f)
                        res.update(variant=name, file=f, state=state, round=r, wer=wer(res.pop("ref"), res["text"]))
                        rows.append(res)
                        print(
                            f"r{r} {state:5} {name:12} {f:4} {res['wall']:7.2f} s  enc {res['encoder']:6.2f} "
                            f"cross {res['cross']:5.2f} steps {res['step']:6.2f}/{res['steps']:.0f} "
                            f"WER {res['wer']:.1%}",
                            flush=True,
                        )
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    for w in workers.values():
        w.close()
    print(f"end {time.strftime('%H:%M:%S')} load {load()}\n", flush=True)
    print(table(rows, list(workers), files, states))
    if args.json:
        args.json.write_text(json.dumps({"workers": {n: w.info for n, w in workers.items()}, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
