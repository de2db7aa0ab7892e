"""A neural speech detector: Silero VAD (MIT, vendored in ``data/``) on OpenVINO — no torch, no onnxruntime.

The model scores 32 ms chunks (512 samples at 16 kHz) with the probability that they hold speech. Each input
row is the previous chunk's last 64 samples followed by the 512 new ones; an LSTM state carries over from chunk
to chunk. Two exports of the same weights are vendored (bit-identical outputs, measured to 1e-6):

* ``silero_vad_openvino_16k.onnx`` — one chunk per call (``input [1, 576]``, ``state [2, 1, 128]``), for the
  live stream: :class:`SpeechGate`, ~0.45 ms per chunk (about 14 ms per second of audio) on one thread;
* ``silero_vad_16k_sequence.onnx`` — any number of chunks per call (``input [N, 576]``, ``h``/``c``), for files:
  :func:`speech_probabilities`, about 9x cheaper per second of audio (the per-call overhead dominates).

Both are compiled once per process on one CPU thread in float32 (the gate must stay cheap beside Whisper, and
give the same figures on every CPU). Noise that fools webrtcvad (running water, rain, traffic, music) scores
well under 0.5; speech scores ~1.0, also under loud café noise.
"""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CHUNK = 512  # samples scored per step (32 ms)
CONTEXT = 64  # samples of the previous chunk prepended to each
CHUNK_S = CHUNK / SAMPLE_RATE
DATA_DIR = Path(__file__).resolve().parent / "data"
STREAM_MODEL = DATA_DIR / "silero_vad_openvino_16k.onnx"
SEQUENCE_MODEL = DATA_DIR / "silero_vad_16k_sequence.onnx"
# Chunks per call of the sequence model (~8 s of audio). OpenVINO keeps buffers sized for the largest call:
# 2048 chunks left +28 MiB resident for the rest of a 183 s transcription, and 256 are no slower
# (docs/decisions/startup.md); the LSTM state carries over, so the figures are identical.
SEQUENCE_BLOCK = 256
# One unpinned thread: the gate runs beside Whisper's own OpenVINO threads and must not fight them.
COMPILE_CONFIG = {
    "INFERENCE_NUM_THREADS": 1,
    "PERFORMANCE_HINT": "LATENCY",
    "INFERENCE_PRECISION_HINT": "f32",
    "ENABLE_CPU_PINNING": False,
}

DEFAULT_THRESHOLD = 0.5  # speech probability from which a chunk counts as speech

_lock = threading.Lock()
_compiled: dict[Path, Any] = {}


def _compiled_model(path: Path) -> Any:
    """The model at ``path`` compiled for the CPU, once per process (thread-safe)."""
    with _lock:
        model = _compiled.get(path)
        if model is None:
            import openvino as ov

            if not path.is_file():
                raise FileNotFoundError(f"The speech detector model is missing from the installation: {path}")
            core = ov.Core()
            model = None
            try:  # through OpenVINO's blob cache beside Whisper's: a warm start imports instead of compiling
                from ..backends.openvino.cache import cache_root, compiled_dir

                core.set_property({"CACHE_DIR": str(compiled_dir(cache_root()))})
                model = core.compile_model(str(path), "CPU", COMPILE_CONFIG)
            except (RuntimeError, OSError) as exc:  # an unusable cache folder: compiled without it
                logger.debug("speech detector not compiled through the cache: %s", exc)
            if model is None:
                core = ov.Core()
                model = core.compile_model(core.read_model(str(path)), "CPU", COMPILE_CONFIG)
            _compiled[path] = model
            logger.debug("compiled %s", path.name)
        return model


def threshold_argument(text: str) -> float:
    """argparse ``type`` for ``--vad-threshold``: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a speech probability between 0 and 1 (e.g. 0.5)")
    return value


class SpeechGate:
    """Streaming speech probabilities: :meth:`push` audio of any length, get one probability per completed
    512-sample chunk (the rest waits for the next push). Not thread-safe; one instance per stream."""

    def __init__(self) -> None:
        self._request = _compiled_model(STREAM_MODEL).create_infer_request()
        self._input = np.zeros((1, CONTEXT + CHUNK), np.float32)
        self._state = np.zeros((2, 1, 128), np.float32)
        self._pending = np.zeros(0, np.float32)
        self.samples = 0  # samples scored since the last reset (a multiple of CHUNK)

    def reset(self) -> None:
        """Forget the stream: state, context and any incomplete chunk."""
        self._input[:] = 0.0
        self._state = np.zeros((2, 1, 128), np.float32)
        self._pending = np.zeros(0, np.float32)
        self.samples = 0

    def push(self, audio: np.ndarray) -> np.ndarray:
        """Score the completed chunks of ``audio`` (16 kHz mono float32). Returns their probabilities."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._pending, audio]) if self._pending.size else audio
        n = buf.size // CHUNK
        probs = np.empty(n, np.float32)
        for i in range(n):
            self._input[0, CONTEXT:] = buf[i * CHUNK : (i + 1) * CHUNK]
            result = self._request.infer({"input": self._input, "state": self._state})
            probs[i] = float(result["output"].reshape(-1)[0])
            self._state = np.array(result["stateN"], np.float32)
            self._input[0, :CONTEXT] = self._input[0, -CONTEXT:]
        self._pending = buf[n * CHUNK :].copy()
        self.samples += n * CHUNK
        return probs


def speech_probabilities(audio: np.ndarray, block: int = SEQUENCE_BLOCK) -> np.ndarray:
    """One speech probability per 512-sample chunk of ``audio`` (16 kHz mono float32); a last incomplete chunk
    is zero-padded. The same figures as :class:`SpeechGate` over the whole file, computed in large batches."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = -(-audio.size // CHUNK)
    if n == 0:
        return np.zeros(0, np.float32)
    frames = np.zeros((n, CHUNK), np.float32)
    frames.reshape(-1)[: audio.size] = audio
    rows = np.empty((n, CONTEXT + CHUNK), np.float32)
    rows[:, CONTEXT:] = frames
    rows[0, :CONTEXT] = 0.0
    rows[1:, :CONTEXT] = frames[:-1, -CONTEXT:]
    request = _compiled_model(SEQUENCE_MODEL).create_infer_request()
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    out = np.empty(n, np.float32)
    for first in range(0, n, max(1, block)):
        last = min(n, first + max(1, block))
        result = request.infer({"input": rows[first:last], "h": h, "c": c})
        out[first:last] = np.asarray(result["speech_probs"]).reshape(-1)
        h = np.array(result["hn"], np.float32)
        c = np.array(result["cn"], np.float32)
    return out
