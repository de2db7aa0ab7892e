"""``amanuensis bench``: file transcription speed, memory and accuracy, every backend against faster-whisper,
each in a fresh subprocess (``--serve NAME``), same model folder; method: docs/decisions/engine.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.names import Precision
from ..whisper.audio import N_FRAMES, N_SAMPLES, SAMPLE_RATE

logger = logging.getLogger(__name__)

PEER = "faster-whisper"
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
CPU_THREADS = 2


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------


def bench_files(folder: Path | None = None, only: list[str] | None = None) -> list[tuple[str, np.ndarray, str]]:
    """``[(name, audio float32 16 kHz, reference)]``: jfk.wav and the joined >= 60 s clip."""
    from ..audio.files import load_audio
    from .corpus import long_clip, manifest, shared_audio_dir

    folder = folder or shared_audio_dir()
    refs = dict(manifest(folder))
    files = []
    if not only or "jfk" in only:
        files.append(("jfk", load_audio(folder / "jfk.wav"), refs["jfk.wav"]))
    if not only or "long" in only:
        audio, ref, _spans = long_clip(60.0, 1.0, folder)
        files.append(("long", audio, ref))
    for name in only or ():
        if name not in ("jfk", "long"):  # any other shared clip by file name (smoke tests use goforward.wav)
            files.append((name, load_audio(folder / name), refs[name]))
    return files


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# --------------------------------------------------------------------------------------------------
# Workers (one engine per process)
# --------------------------------------------------------------------------------------------------


def _ours(backend: str, options: dict):
    from ..engine import Engine

    options = dict(options)
    model = options.pop("model", None)  # the same folder faster-whisper reads (bench --model)
    t0 = time.perf_counter()
    engine = Engine.load(backend, model, **options)
    load_s = time.perf_counter() - t0
    be = engine.backend
    info = {
        "label": be.label,
        "devices": list(be.devices),
        "load_s": load_s,
        "startup": dict(be.startup) or None,
        "precision": be.precision,
    }

    def transcribe(audio):
        r = engine.transcribe(
            audio,
            beam_size=None,
            temperature=TEMPERATURES,
            condition_on_previous_text=True,
            without_timestamps=False,
            language="en",  # as the peer: the shared clips are English; a multilingual model skips detection
        )
        t = r.timings
        return r.text, {
            "encode_s": t.get("encode_s"),
            "decode_s": t.get("decode_s"),
            "windows": t.get("windows"),
            "steps": t.get("steps"),
        }

    return info, transcribe


def _peer(options: dict):
    from faster_whisper import WhisperModel

    from ..whisper.model import resolve_model_path

    folder = str(resolve_model_path(options.get("model")))
    t0 = time.perf_counter()
    model = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=CPU_THREADS, num_workers=1)
    load_s = time.perf_counter() - t0
    import faster_whisper

    info = {
        "label": f"faster-whisper {faster_whisper.__version__} · CTranslate2 int8",
        "devices": ["CPU"],
        "load_s": load_s,
        "startup": None,
        "precision": Precision.INT8.value,
    }

    def transcribe(audio):
        segments, _info = model.transcribe(
            audio,
            language="en",
            task="transcribe",
            beam_size=1,
            best_of=5,
            temperature=list(TEMPERATURES),
            compression_ratio_threshold=2.4,
            log_prob_threshold=-1.0,
            no_speech_threshold=0.6,
            condition_on_previous_text=True,
            prompt_reset_on_temperature=0.5,
            without_timestamps=False,
            vad_filter=False,
            word_timestamps=False,
            initial_prompt=None,
        )
        text = " ".join(s.text.strip() for s in segments)
        return text, {}

    def encoder_window_s() -> float:
        """faster-whisper's encoder alone on one padded 30 s window (median of 3)."""

        feats = model.feature_extractor(np.zeros(N_SAMPLES, np.float32))[:, :N_FRAMES]
        times = []
        for _ in range(3):
            t = time.perf_counter()
            model.encode(feats)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    info["encoder_window_s"] = encoder_window_s
    return info, transcribe


def _summary(
    fname: str, duration: float, ref: str, first: float, walls: list[float], timings: list[dict], text: str
) -> dict:
    from ..whisper.wer import wer

    med = statistics.median(walls)
    entry = {
        "duration_s": duration,
        "first_run_s": first,
        "runs_s": walls,
        "median_s": med,
        "rtf": med / duration,
        "text": text,
        "reference": ref,
        "wer": wer(ref, text),
    }
    windows = timings[-1].get("windows") if timings else None
    if windows:
        entry["windows"] = windows
        entry["steps"] = timings[-1].get("steps")
        entry["encode_ms_per_window"] = 1e3 * statistics.median(t["encode_s"] for t in timings) / windows
        entry["decode_ms_per_window"] = 1e3 * statistics.median(t["decode_s"] for t in timings) / windows
        if entry["steps"]:
            entry["decode_ms_per_step"] = 1e3 * statistics.median(t["decode_s"] / t["steps"] for t in timings)
    return entry


def serve(name: str, files: list[str] | None, options: dict, inp=None, out=None) -> None:
    """A worker: one engine, one JSON command per line on stdin (run FILE → times, text; done → peak RSS)."""
    inp = inp or sys.stdin
    out = out or sys.stdout
    info, transcribe = _peer(options) if name == PEER else _ours(name, options)
    enc_fn = info.pop("encoder_window_s", None)
    audio = {fname: a for fname, a, _ref in bench_files(only=files)}
    out.write(json.dumps({"engine": name, **info}) + "\n")
    out.flush()
    for line in inp:
        cmd = json.loads(line)
        if cmd["cmd"] == "run":
            t = time.perf_counter()
            text, tim = transcribe(audio[cmd["file"]])
            reply = {"wall": time.perf_counter() - t, "timings": tim, "text": text}
        else:
            reply = {"peak_rss_mb": _peak_rss_mb()}
            if enc_fn is not None:
                reply["encode_ms_per_window_isolated"] = 1e3 * enc_fn()
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if cmd["cmd"] != "run":
            return


class _Worker:
    def __init__(self, name: str, files: list[str] | None, options: dict, env: dict | None):
        cmd = [
            sys.executable,
            "-m",
            "amanuensis_desktop.bench.files",
            "--serve",
            name,
            "--options",
            json.dumps(options),
        ]
        if files:
            cmd += ["--files", ",".join(files)]
        self.name = name
        self.err = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: chatty stderr cannot block it
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True
        )
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None  # opened with stdout=PIPE
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=60)
            self.err.seek(0)
            err = self.err.read().strip().splitlines() or ["no output"]
            raise RuntimeError(f"{self.name} worker failed: {err[-1][:300]}")
        return json.loads(line)

    def ask(self, cmd: dict) -> dict:
        assert self.proc.stdin is not None  # opened with stdin=PIPE
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def finish(self) -> dict:
        try:
            return self.ask({"cmd": "done"})
        finally:
            self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def load_only(name: str, options: dict) -> dict:
    """Start the engine and stop: measures a start (first with an empty cache, warm with a filled one)."""
    info, _ = _ours(name, options)
    return {"engine": name, **info, "peak_rss_mb": _peak_rss_mb()}


# --------------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------------


def _spawn(args: list[str], env: dict | None = None, timeout: float = 3600) -> dict:
    with tempfile.TemporaryDirectory(prefix="amanuensis-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "amanuensis_desktop.bench.files", *args, "--out", str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return {"error": last[:300]}
        return json.loads(out.read_text())


def available_backends() -> list[str]:
    from ..backends import probe_all

    return [s.name for s in probe_all() if s.available]


def peer_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("faster_whisper") is not None


def collect(
    backends: list[str] | None,
    runs: int,
    peer: bool = True,
    files: list[str] | None = None,
    options: dict | None = None,
    log=print,
    first_start: bool = True,
    cache_dir: str | None = None,
) -> dict:
    """Run the benchmark; engines take turns (order rotated every round) so outside load falls on all alike."""
    options = options or {}
    names = list(backends) if backends else available_backends()
    if peer:
        if peer_installed():
            names.append(PEER)
    results: dict = {"runs": runs, "cpu_threads": CPU_THREADS, "python": sys.version.split()[0], "engines": {}}
    if peer and PEER not in names:
        results["engines"][PEER] = {"error": "faster-whisper is not installed"}
    # OpenVINO's model cache: a fresh temporary one (the first start is measured in it), unless given.
    cache = cache_dir or tempfile.mkdtemp(prefix="amanuensis-bench-cache-")
    env = {**os.environ, "AMANUENSIS_CACHE_DIR": cache}
    workers: dict[str, _Worker] = {}
    try:
        for name in names:
            entry: dict = {}
            if name == "openvino" and first_start:
                log(f"[bench] {name}: first start (empty cache)…")
                cold = _spawn(["--load-only", name, "--options", json.dumps(options)], env)
                entry["first_start_s"] = cold.get("load_s")
                entry["first_start_detail"] = cold.get("startup") or cold.get("error")
                entry["first_start_peak_rss_mb"] = cold.get("peak_rss_mb")  # load only (build + compile)
            log(f"[bench] {name}: starting…")
            try:
                workers[name] = _Worker(name, files, options, env)
            except RuntimeError as exc:
                entry["error"] = str(exc)
                results["engines"][name] = entry
                continue
            entry.update(workers[name].info)
            if name == "openvino":
                entry["warm_start_s"] = entry.get("load_s")
            results["engines"][name] = entry
        bench = bench_files(only=files)
        order = list(workers)
        for fname, audio, ref in bench:
            log(f"[bench] {fname}: warm-up, then {runs} rounds over {', '.join(order)}…")
            runs_by: dict[str, list] = {n: [] for n in order}
            first: dict[str, float] = {n: workers[n].ask({"cmd": "run", "file": fname})["wall"] for n in order}
            for r in range(runs):
                for n in order[r % len(order) :] + order[: r % len(order)]:
                    runs_by[n].append(workers[n].ask({"cmd": "run", "file": fname}))
            for n in order:
                got = runs_by[n]
                results["engines"][n].setdefault("files", {})[fname] = _summary(
                    fname,
                    audio.size / SAMPLE_RATE,
                    ref,
                    first[n],
                    [g["wall"] for g in got],
                    [g["timings"] for g in got],
                    got[-1]["text"],
                )
        for n in order:
            w = workers.pop(n)
            results["engines"][n].update(w.finish())
            w.kill()
    finally:
        for w in workers.values():
            w.kill()
        if not cache_dir:
            shutil.rmtree(cache, ignore_errors=True)
    results["headline"] = headline(results)
    return results


def headline(results: dict) -> dict:
    """faster-whisper median time / our median time, per backend and file (> 1: we are faster)."""
    eng = results["engines"]
    peer = eng.get(PEER, {}).get("files", {})
    out: dict = {}
    for name, e in eng.items():
        if name == PEER or "files" not in e:
            continue
        out[name] = {f: peer[f]["median_s"] / v["median_s"] for f, v in e["files"].items() if f in peer}
    return out


def _fmt(v, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def table(results: dict) -> str:
    lines = []
    head = (
        f"{'engine':<15} {'file':<5} {'audio s':>7} {'median s':>9} {'RTF':>6} {'enc ms/win':>10} "
        f"{'dec ms/win':>10} {'ms/step':>7} {'WER %':>6} {'peak RSS MB':>11}"
    )
    lines += [head, "-" * len(head)]
    for name, e in results["engines"].items():
        if "error" in e:
            lines.append(f"{name:<15} error: {e['error']}")
            continue
        for fname, f in e["files"].items():
            enc = f.get("encode_ms_per_window", e.get("encode_ms_per_window_isolated"))
            lines.append(
                f"{name:<15} {fname:<5} {f['duration_s']:>7.1f} {f['median_s']:>9.3f} {f['rtf']:>6.3f} "
                f"{_fmt(enc, '>10.1f')} {_fmt(f.get('decode_ms_per_window'), '>10.1f')} "
                f"{_fmt(f.get('decode_ms_per_step'), '>7.2f')} {100 * f['wer']:>6.2f} {e['peak_rss_mb']:>11.0f}"
            )
    lines.append("")
    for name, e in results["engines"].items():
        if "error" in e:
            continue
        extra = ""
        if "first_start_s" in e:
            extra = (
                f"; first start {_fmt(e['first_start_s'], '.2f')} s, warm start {_fmt(e.get('warm_start_s'), '.2f')} s"
            )
        where = ", ".join(e.get("devices", []))
        lines.append(f"{name}: {e.get('label', '')} on {where}; load {e['load_s']:.2f} s{extra}")
    if PEER in results["engines"] and "encode_ms_per_window_isolated" in results["engines"][PEER]:
        lines.append(
            f"{PEER}: encoder alone {results['engines'][PEER]['encode_ms_per_window_isolated']:.1f} ms per "
            "30 s window (its decoder ms/window is not separable)"
        )
    for name, per_file in results.get("headline", {}).items():
        parts = ", ".join(f"{f} {x:.2f}x" for f, x in per_file.items())
        lines.append(f"Headline {name}: {PEER} time / our time = {parts}")
    return "\n".join(lines)


def model_folder(spec: str) -> str:
    """``--model``: a catalogue name or repository (installed with ``amanuensis models``) or a folder."""
    from ..models.store import resolve_model

    return str(resolve_model(spec))


def run(args) -> int:
    runs = max(1, int(getattr(args, "runs", 5) or 5))
    backends = getattr(args, "backends", None) or None
    peer = not getattr(args, "no_peer", False)
    options = {}
    for key in ("device", "precision"):
        if getattr(args, key, None):
            options[key] = getattr(args, key)
    if getattr(args, "model", None):
        options["model"] = model_folder(args.model)
    from .corpus import shared_audio_dir

    if not (shared_audio_dir() / "jfk.wav").is_file():
        print(f"The shared recordings are not at {shared_audio_dir()}; set AMANUENSIS_SHARED_AUDIO.", file=sys.stderr)
        return 2
    results = collect(
        backends,
        runs,
        peer,
        getattr(args, "files", None),
        options,
        log=logger.info,
        first_start=not getattr(args, "no_first_start", False),
        cache_dir=getattr(args, "cache_dir", None),
    )
    print(table(results))
    if getattr(args, "json", None):
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m amanuensis_desktop.bench.files", description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--backends", nargs="*", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--precision", default=None)
    p.add_argument("--model", default=None, help="a model folder (or catalogue name); default: the embedded tiny.en")
    p.add_argument(
        "--files",
        type=lambda s: [x for x in s.split(",") if x],
        default=None,
        help="comma-separated: jfk, long, or shared clip file names",
    )
    p.add_argument("--no-first-start", action="store_true", help="skip the empty-cache start measurement")
    p.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    p.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    p.add_argument("--load-only", default=None, help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # progress lines on stderr
    if args.serve:
        serve(args.serve, args.files, json.loads(args.options))
        return 0
    if args.load_only:
        res = load_only(args.load_only, json.loads(args.options))
        text = json.dumps(res, indent=2)
        if args.out:
            Path(args.out).write_text(text)
        else:
            print(text)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
