"""One peer engine in the peer-bench venv (``build/peers/venv/bin/python peers_worker.py …``); never imported by
the app (it imports OpenVINO GenAI, faster-whisper or pywhispercpp, and nothing of ``amanuensis_desktop``).

``ENGINE --model JSON --serve``: load, print one JSON line, then one JSON command per stdin line
(``{"cmd": "run", "wav": PATH}`` -> wall time and text; ``{"cmd": "done"}`` -> peak RSS). ``ENGINE --model JSON
--once WAV``: load, transcribe, print the text as JSON, exit (the caller times the whole process).
Decoding: greedy, temperature 0 only, no conditioning on previous text, timestamps on (seeking), English, 2 threads.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import wave
from collections.abc import Callable

import numpy as np

THREADS = 2
ENGINES = ("genai", "faster-whisper", "whisper.cpp")


def read_wav(path: str) -> np.ndarray:
    with wave.open(path) as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path} is not 16 kHz mono 16-bit")
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0


def _genai(model: dict) -> tuple[str, Callable[[np.ndarray], str]]:
    import openvino_genai as ov_genai  # type: ignore[import-not-found]

    pipe = ov_genai.WhisperPipeline(model["ov"], "CPU")
    config = pipe.get_generation_config()
    if config.is_multilingual:
        config.language = "<|en|>"
        config.task = "transcribe"
    config.return_timestamps = True  # seek by timestamps, as the others do
    config.max_new_tokens = 448

    def transcribe(audio: np.ndarray) -> str:
        result = pipe.generate(audio.tolist(), config)
        return str(result.texts[0]).strip()

    return f"OpenVINO GenAI {ov_genai.__version__} WhisperPipeline int8", transcribe


def _faster_whisper(model: dict) -> tuple[str, Callable[[np.ndarray], str]]:
    import faster_whisper
    from faster_whisper import WhisperModel

    m = WhisperModel(model["ct2"], device="cpu", compute_type="int8", cpu_threads=THREADS, num_workers=1)

    def transcribe(audio: np.ndarray) -> str:
        segments, _info = m.transcribe(
            audio,
            language="en",
            beam_size=1,
            temperature=[0.0],
            condition_on_previous_text=False,
            without_timestamps=False,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments)

    return f"faster-whisper {faster_whisper.__version__} int8", transcribe


def _whisper_cpp(model: dict) -> tuple[str, Callable[[np.ndarray], str]]:
    from importlib.metadata import version

    from pywhispercpp.model import Model  # type: ignore[import-not-found]

    m = Model(
        model["ggml"],
        n_threads=THREADS,
        print_progress=False,
        print_realtime=False,
        print_timestamps=False,
        redirect_whispercpp_logs_to=None,
        language="en",
        no_context=True,
        temperature_inc=0.0,
    )

    def transcribe(audio: np.ndarray) -> str:
        return " ".join(s.text.strip() for s in m.transcribe(audio))

    return f"whisper.cpp (pywhispercpp {version('pywhispercpp')}) f16", transcribe


def load(engine: str, model: dict) -> tuple[str, Callable[[np.ndarray], str]]:
    if engine == "genai":
        return _genai(model)
    if engine == "faster-whisper":
        return _faster_whisper(model)
    if engine == "whisper.cpp":
        return _whisper_cpp(model)
    raise SystemExit(f"unknown peer engine {engine}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def serve(engine: str, model: dict) -> None:
    t0 = time.perf_counter()
    label, transcribe = load(engine, model)
    print(json.dumps({"engine": engine, "label": label, "load_s": time.perf_counter() - t0}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] != "run":
            print(json.dumps({"peak_rss_mb": peak_rss_mb()}), flush=True)
            return
        audio = read_wav(cmd["wav"])
        t = time.perf_counter()
        text = transcribe(audio)
        print(json.dumps({"wall": time.perf_counter() - t, "text": text}), flush=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("engine", choices=ENGINES)
    p.add_argument("--model", required=True, help="JSON: the peers.json of the model")
    p.add_argument("--serve", action="store_true")
    p.add_argument("--once", default=None, metavar="WAV")
    args = p.parse_args()
    model = json.loads(args.model)
    if args.serve:
        serve(args.engine, model)
        return 0
    _label, transcribe = load(args.engine, model)
    print(json.dumps({"text": transcribe(read_wav(args.once))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
