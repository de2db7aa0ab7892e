"""``amanuensis bench --peers``: us against OpenVINO GenAI, faster-whisper and whisper.cpp on OUR weights, in one
interleaved series (whole process and in process, jfk.wav and a >= 3-minute joined clip, peak RSS, WER).

The peers run in subprocesses of the throwaway venv ``make bench-peers`` builds (bench/peers_env.py); this process
never imports torch or GenAI. Same decoding for all where the engines allow: greedy, temperature 0 only, no
conditioning on previous text, timestamps on, English, 2 threads; our default mode (conditioning, temperature
fallback; whole process = the real ``amanuensis transcribe``) is reported too. Each round visits the engines in a
rotated order; ratios are paired per round. Figures and method: docs/decisions/peers.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from . import peers_env
from .peers_report import FILES, OURS, PEERS, report

logger = logging.getLogger(__name__)

LONG_SECONDS = 180.0
WORKER = Path(__file__).with_name("peers_worker.py")
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # so our children import this checkout, not another install


# --------------------------------------------------------------------------------------------------
# Inputs: jfk.wav as it is, the long clip written once as a 16-bit wav that every engine reads
# --------------------------------------------------------------------------------------------------


def bench_audio(root: Path) -> dict[str, tuple[str, str, float]]:
    """``{"jfk"|"long": (wav path, reference, seconds)}``."""
    from .corpus import long_clip, manifest, shared_audio_dir

    folder = shared_audio_dir()
    jfk = folder / "jfk.wav"
    if not jfk.is_file():
        raise FileNotFoundError(f"The shared recordings are not at {folder}; set AMANUENSIS_SHARED_AUDIO.")
    out = {"jfk": (str(jfk), dict(manifest(folder))["jfk.wav"], _wav_seconds(jfk))}
    wav = root / "audio" / f"long-{LONG_SECONDS:.0f}s.wav"
    ref_file = wav.with_suffix(".txt")
    if not (wav.is_file() and ref_file.is_file()):
        import numpy as np

        audio, ref, _spans = long_clip(LONG_SECONDS, 1.0, folder)
        wav.parent.mkdir(parents=True, exist_ok=True)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(pcm.tobytes())
        ref_file.write_text(ref)
    out["long"] = (str(wav), ref_file.read_text(), _wav_seconds(wav))
    return out


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


# --------------------------------------------------------------------------------------------------
# Our side of a subprocess (python -m amanuensis_desktop.bench.peers --serve/--once)
# --------------------------------------------------------------------------------------------------


def _ours(mode: str, model_dir: str):
    from ..audio.files import load_audio
    from ..engine import Engine

    engine = Engine.load("auto", model_dir)
    same = {"temperature": (0.0,), "condition_on_previous_text": False, "without_timestamps": False}
    kwargs: dict[str, Any] = {"language": "en", **(same if mode == "same" else {})}

    def transcribe(wav: str) -> tuple[float, str]:
        audio = load_audio(wav)
        t = time.perf_counter()
        text = engine.transcribe(audio, **kwargs).text
        return time.perf_counter() - t, text

    return engine.backend.label, transcribe


def _serve_ours(mode: str, model_dir: str) -> None:
    import resource

    t0 = time.perf_counter()
    label, transcribe = _ours(mode, model_dir)
    print(json.dumps({"label": label, "load_s": time.perf_counter() - t0}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] != "run":
            print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
            return
        wall, text = transcribe(cmd["wav"])
        print(json.dumps({"wall": wall, "text": text}), flush=True)


# --------------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SOURCE_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def commands(key: str, model: dict[str, str], root: Path) -> tuple[list[str], list[str]]:
    """``(server command, one-shot command without the wav)`` of engine ``key``."""
    if key in OURS:
        mode = "same" if key == "ours" else "default"
        me = [sys.executable, "-m", "amanuensis_desktop.bench.peers", "--model-dir", model["ct2"]]
        if mode == "default":  # whole process: exactly what a user runs
            once = [sys.executable, "-m", "amanuensis_desktop", "transcribe", "--quiet", "--language", "en"]
            return [*me, "--serve", mode], [*once, "--model", model["ct2"]]
        return [*me, "--serve", mode], [*me, "--once"]
    py = [str(peers_env.venv_python(root)), "-I", str(WORKER), key, "--model", json.dumps(model)]
    return [*py, "--serve"], [*py, "--once"]


class Server:
    """One engine kept loaded in its own process: one JSON command per line."""

    def __init__(self, key: str, cmd: list[str]):
        self.key = key
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            cmd, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True
        )
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(timeout=60)
                self.err.seek(0)
                err = self.err.read().strip().splitlines() or ["no output"]
                raise RuntimeError(f"{self.key} failed: {err[-1][:300]}")
            if line.startswith("{"):  # a library may print to stdout; our replies are JSON objects
                return json.loads(line)

    def ask(self, cmd: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> dict[str, Any]:
        try:
            return self.ask({"cmd": "done"}) if self.proc.poll() is None else {}
        finally:
            self.proc.wait(timeout=60)
            self.err.close()


def whole_process(cmd: list[str]) -> tuple[float, float, str]:
    """``(wall s, peak RSS MB, text)`` of one process from spawn to exit (rusage of that child alone)."""
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=_env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().strip()
        if proc.returncode != 0:
            err.seek(0)
            lines = err.read().strip().splitlines() or ["no output"]
            raise RuntimeError(f"{' '.join(cmd[:4])}… exited {proc.returncode}: {lines[-1][:300]}")
    last = text.splitlines()[-1] if text else ""
    if last.startswith("{"):
        text = json.loads(last)["text"]
    return wall, usage.ru_maxrss / 1024.0, text


def start_hog() -> subprocess.Popen:
    """A busy loop on one core (CPU 0 where affinity can be set): the issue's "one core busy"."""

    def pin() -> None:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {0})

    return subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# --------------------------------------------------------------------------------------------------
# The series
# --------------------------------------------------------------------------------------------------


def series(
    model_name: str, rounds: int, hog: bool = False, root: Path | None = None, files: tuple[str, ...] = FILES
) -> dict[str, Any]:
    """One interleaved series of ``rounds`` rounds over ``files`` (a subset of jfk, long: to split long runs)."""
    from ..whisper.wer import wer

    root = root or peers_env.peers_dir()
    model = peers_env.read_manifest(model_name, root)
    if model is None:
        raise FileNotFoundError(peers_env.missing([model_name], root) or model_name)
    audio = bench_audio(root)
    keys = [*OURS, *PEERS]
    res: dict[str, Any] = {"model": model_name, "rounds": rounds, "hog": hog, "files": {}, "engines": {}}
    res["durations"] = {f: audio[f][2] for f in FILES}
    engines: dict[str, dict[str, Any]] = {
        k: {
            "whole": {f: [] for f in FILES},
            "inproc": {f: [] for f in FILES},
            "rss_mb": [],
            "text": {},
            "text_whole": {},
        }
        for k in keys
    }
    res["engines"] = engines
    hog_proc = start_hog() if hog else None
    servers: dict[str, Server] = {}
    try:
        res["load"] = {"before": _load()}
        for key in keys:
            server_cmd, once = commands(key, model, root)
            try:
                servers[key] = Server(key, server_cmd)
                engines[key]["label"] = servers[key].info.get("label")
                servers[key].ask({"cmd": "run", "wav": audio["jfk"][0]})  # warm-up, not counted
                whole_process([*once, audio["jfk"][0]])  # fills model caches, not counted
            except (RuntimeError, OSError) as exc:
                logger.warning("%s: %s", key, exc)
                engines[key]["error"] = str(exc)
                servers.pop(key, None)
        live = [k for k in keys if not engines[k].get("error")]
        for r in range(rounds):
            order = live[r % len(live) :] + live[: r % len(live)] if live else []
            for key in order:
                for f in files:
                    reply = servers[key].ask({"cmd": "run", "wav": audio[f][0]})
                    engines[key]["inproc"][f].append(reply["wall"])
                    engines[key]["text"][f] = reply["text"]
            for key in order:
                for f in files:
                    wall, rss, text = whole_process([*commands(key, model, root)[1], audio[f][0]])
                    engines[key]["whole"][f].append(wall)
                    engines[key]["text_whole"][f] = text
                    if f == "long":
                        engines[key]["rss_mb"].append(rss)
            logger.info("round %d/%d done (load %s)", r + 1, rounds, _load())
        res["load"]["after"] = _load()
    finally:
        for key, s in servers.items():
            try:
                engines[key]["inproc_peak_rss_mb"] = s.close().get("peak_rss_mb")
            except (RuntimeError, OSError, ValueError):
                s.proc.kill()
        if hog_proc is not None:
            hog_proc.kill()
            hog_proc.wait()
    for key in keys:
        e = engines[key]
        e["wer"] = {f: wer(audio[f][1], e["text"][f]) for f in FILES if f in e["text"]}
        e["wer_whole"] = {f: wer(audio[f][1], e["text_whole"][f]) for f in FILES if f in e["text_whole"]}
    return res


def run(args: argparse.Namespace) -> int:
    """The ``bench --peers [MODEL ...]`` command."""
    models = list(getattr(args, "peers", None) or peers_env.MODELS)
    unknown = [m for m in models if m not in peers_env.MODELS]
    if unknown:
        print(f"Unknown peer model {unknown[0]}; choose from {', '.join(peers_env.MODELS)}.", file=sys.stderr)
        return 2
    missing = peers_env.missing(models)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    rounds = max(1, int(getattr(args, "rounds", 5) or 5))
    results = []
    for m in models:
        results.append(series(m, rounds, hog=bool(getattr(args, "hog", False))))
        print(report(results[-1]) + "\n", flush=True)
    if getattr(args, "json", None):
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Series of one model run in several pieces (files or rounds apart) as one result: samples appended in order,
    so the pairing by round holds when every piece ran every engine."""
    out = json.loads(json.dumps(parts[0]))
    for part in parts[1:]:
        out["load"]["after"] = part.get("load", {}).get("after")
        out["hog"] = out["hog"] or part["hog"]
        for key, e in part["engines"].items():
            o = out["engines"].setdefault(key, e)
            if o is e or e.get("error"):
                o.update({"error": e["error"]} if e.get("error") else {})
                continue
            for kind in ("whole", "inproc"):
                for f, vals in e.get(kind, {}).items():
                    o[kind].setdefault(f, []).extend(vals)
            o["rss_mb"].extend(e.get("rss_mb", []))
            for field in ("text", "text_whole", "wer", "wer_whole"):
                o.setdefault(field, {}).update(e.get(field, {}))
    out["rounds"] = max(len(e.get("whole", {}).get(f, [])) for e in out["engines"].values() for f in FILES)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m amanuensis_desktop.bench.peers", description=__doc__.split("\n")[0])
    p.add_argument("--model-dir", default=None, help="our side of a worker: the model folder")
    p.add_argument("--serve", choices=("same", "default"), default=None)
    p.add_argument("--once", default=None, metavar="WAV", help="our same-decoding transcription of WAV, then exit")
    p.add_argument("--series", default=None, metavar="MODEL", help="one piece of a series (split long runs)")
    p.add_argument("--files", default=",".join(FILES), help="with --series: jfk, long, or both as jfk,long")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--hog", action="store_true")
    p.add_argument("--json", default=None, help="with --series: write the piece here")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON", help="print the report of pieces merged")
    args = p.parse_args(argv)
    if args.merge:
        print(report(merge([json.loads(Path(x).read_text()) for x in args.merge])))
        return 0
    if args.series:
        files = tuple(f.strip() for f in args.files.split(","))
        if not files or any(f not in FILES for f in files):
            p.error(f"--files takes {', '.join(FILES)} or both comma-separated, not '{args.files}'.")
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        res = series(args.series, args.rounds, args.hog, files=files)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2))
        print(report(res))
        return 0
    if args.serve:
        _serve_ours(args.serve, args.model_dir)
        return 0
    _label, transcribe = _ours("same", args.model_dir)
    _wall, text = transcribe(args.once)
    print(json.dumps({"text": text}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
