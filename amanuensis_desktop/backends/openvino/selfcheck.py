"""The start-up self-check: a tiny known input through the compiled graphs, compared with the numpy reference.

A backend that disagrees is refused with one sentence (shown by ``amanuensis backends``). The check runs past
16 cached positions, where OpenVINO 2026.4.1's CPU plugin bug shows up (see docs/decisions/engine.md).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...whisper.audio import HOP_LENGTH, N_FRAMES, SAMPLE_RATE, log_mel_spectrogram
from ...whisper.model import Weights, default_model_path
from ...whisper.tokenizer import Tokenizer
from . import cache
from .precision import SelfCheckFailed

if TYPE_CHECKING:
    from .backend import OpenVINOBackend

CHECK_STEPS = 20  # past 16 cached positions: where OpenVINO 2026.4.1's CPU plugin bug shows up
CHECK_FRAMES = N_FRAMES  # the shape real windows have: no extra shape-specific memory in the plugin

# Thresholds: wide enough for int8 weights + bf16 compute, far below what a broken graph gives (the measured
# values are in docs/decisions/engine.md).
CHECK_MAX_REL = 1.5
CHECK_TOP1 = 0.8
CHECK_FEATURES_REL = 1.0


def check_mel(n_mels: int, n_frames: int) -> np.ndarray:
    """A deterministic voiced-sound log-mel (gliding harmonics, syllable-rate envelope, a little noise)."""
    n = n_frames * HOP_LENGTH
    t = np.arange(n) / SAMPLE_RATE
    f0 = 120.0 + 80.0 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t) ** 2
    noise = np.random.default_rng(1234).standard_normal(n) * 0.003
    audio = (0.08 * voice * envelope + noise).astype(np.float32)
    mel = log_mel_spectrogram(audio, n_mels)
    out = np.zeros((n_mels, n_frames), np.float32)
    m = min(n_frames, mel.shape[1])
    out[:, :m] = mel[:, :m]
    if m < n_frames:
        out[:, m:] = mel.min()
    return out


def start_token(weights: Weights) -> int:
    """The start-of-transcript token, from the tokenizer beside the weights (else the embedded model's)."""
    folder = Path(weights.source).parent if weights.source else default_model_path()
    if not (folder / "tokenizer.json").is_file():
        folder = default_model_path()
    return Tokenizer(folder / "tokenizer.json", n_vocab=weights.dims.n_vocab).sot


def _reference(weights: Weights, mel: np.ndarray, sot: int) -> dict[str, np.ndarray]:
    """Features and teacher-forced greedy logits from the numpy reference (float32)."""
    from ..numpy_backend import NumpyBackend

    # A private Weights: NumpyBackend's float32 copies are cached on it and freed with it.
    ref = NumpyBackend(Weights(dims=weights.dims, tensors=weights.tensors, source=weights.source))
    feats = ref.encode(mel)
    sess = ref.decoder(feats)
    tokens = [sot]
    logits = [sess.step(np.array([[sot]], np.int64))[0]]
    for _ in range(CHECK_STEPS):
        nxt = int(np.argmax(logits[-1]))
        tokens.append(nxt)
        logits.append(sess.step(np.array([[nxt]], np.int64))[0])
    out = {"mel": mel, "features": feats, "tokens": np.array(tokens, np.int64), "logits": np.stack(logits)}
    del ref, sess
    gc.collect()
    return out


def compare_logits(ours: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Agreement measures between two ``[steps, vocab]`` logit arrays."""
    diff = np.abs(ours.astype(np.float64) - ref)
    spread = ref.std(axis=-1, keepdims=True)
    return {
        "finite": float(np.isfinite(ours).all()),
        "max_abs": float(diff.max()),
        "max_rel": float((diff / spread).max()),  # in units of the reference logits' spread per step
        "top1": float(np.mean(ours.argmax(-1) == ref.argmax(-1))),
    }


def self_check(be: OpenVINOBackend, weights: Weights) -> dict[str, float]:
    """Compare ``be`` with the numpy reference on a tiny known input; raise :class:`SelfCheckFailed` (a
    BackendError naming the part that disagrees) when it disagrees."""
    path = be.root / "selfcheck" / f"{be.fingerprint}-{CHECK_FRAMES}-{CHECK_STEPS}.npz"
    ref = cache.load_reference(path)
    if ref is None:
        mel = check_mel(weights.dims.n_mels, CHECK_FRAMES)
        ref = _reference(weights, mel, start_token(weights))
        try:
            cache.save_reference(path, ref)
        except OSError:
            pass  # an unwritable cache only costs time
    feats = be.encode(ref["mel"])
    be.release_mapped()  # the encoder's weights are repacked now: its blob's pages need not stay resident
    fdiff = float(np.abs(feats - ref["features"]).max() / max(float(ref["features"].std()), 1e-6))
    sess = be.decoder(ref["features"])
    rows = []
    for i, t in enumerate(ref["tokens"]):
        rows.append(sess.step(np.array([[t]], np.int64))[0])
        if i == 0:
            be.release_mapped()  # likewise the decoder's, after its first step
    logits = np.stack(rows)
    stats = compare_logits(logits, ref["logits"])
    stats["features_max_rel"] = fdiff
    where = f"OpenVINO on {be.device} ({be.precision})"
    if not np.isfinite(feats).all() or not stats["finite"]:
        part = "encoder" if not np.isfinite(feats).all() else "decoder"
        raise SelfCheckFailed(f"{where} failed its self-check: it produced NaN or infinite values.", part)
    if fdiff > CHECK_FEATURES_REL:
        raise SelfCheckFailed(
            f"{where} failed its self-check: its encoder output differs from the numpy reference "
            f"by {fdiff:.2f} standard deviations.",
            "encoder",
        )
    if stats["max_rel"] > CHECK_MAX_REL or stats["top1"] < CHECK_TOP1:
        raise SelfCheckFailed(
            f"{where} failed its self-check: its logits differ from the numpy reference "
            f"(max {stats['max_rel']:.2f} spreads, top-1 agreement {stats['top1']:.0%}).",
            "decoder",
        )
    return stats
