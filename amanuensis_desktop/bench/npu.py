"""``amanuensis bench --npu-emulated``: what the NPU backend sends to the NPU per 30 s window (GEMM FLOPs,
dispatches) and a predicted lower bound of its time from published throughput; on a machine with a working NPU
(without ``--npu-emulated``) it measures instead. The method: docs/decisions/engine.md.

``run(args)`` reads ``args.json`` (a path or None), ``args.npu_emulated`` (default True), ``args.model``
(None = embedded model) and ``args.runs`` (measured runs on hardware, default 5).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

# "A dispatch costs tens of µs": an assumption, not a measurement; only the hardware run (without
# --npu-emulated) measures the real per-window time, dispatches included.
DISPATCH_OVERHEAD_S = 50e-6


def _plan_figures(dims, gen: str) -> dict:
    from ..backends.npu.spec import DEVICES, encoder_plan

    sp = DEVICES[gen]
    plan = encoder_plan(sp, dims.n_mels, dims.n_audio_state, dims.n_audio_head, dims.n_audio_layer)
    useful, executed = plan.flops()
    gemm_s = executed / (sp.peak_bf16_tflops * 1e12)
    per_call: dict[str, dict[str, Any]] = {}
    for c in plan.calls:
        if c.kernel == "gemm":
            row = per_call.setdefault(c.what, {"useful_gflop": 0.0, "executed_gflop": 0.0, "key": c.key})
            row["useful_gflop"] += c.useful_flops * c.repeat / 1e9
            row["executed_gflop"] += c.executed_flops * c.repeat / 1e9
    return {
        "generation": gen,
        "device": sp.description,
        "gemm_tile": {"m": sp.gemm.m, "k": sp.gemm.k, "n": sp.gemm.n, "rows": sp.gemm.rows, "cols": sp.gemm.cols},
        "npu_gemm_gflop_per_window": useful / 1e9,
        "npu_gemm_gflop_executed_padded": executed / 1e9,
        "padding_overhead": executed / useful - 1,
        "cpu_gemm_gflop_per_window": 0.0,
        "dispatches_per_window": plan.dispatches,
        "peak_bf16_tflops": sp.peak_bf16_tflops,
        "predicted_gemm_ms_at_peak": gemm_s * 1e3,
        "predicted_dispatch_overhead_ms": plan.dispatches * DISPATCH_OVERHEAD_S * 1e3,
        "predicted_npu_ms_per_window": (gemm_s + plan.dispatches * DISPATCH_OVERHEAD_S) * 1e3,
        "gemms": per_call,
    }


def _window_mel(dims) -> tuple[np.ndarray, str]:
    from ..whisper.audio import N_FRAMES, log_mel_spectrogram, pad_or_trim

    try:
        from .corpus import load_clip, shared_audio_dir

        folder = shared_audio_dir()
        if (folder / "jfk.wav").is_file():
            audio = load_clip("jfk.wav", folder)
            return pad_or_trim(log_mel_spectrogram(audio, dims.n_mels), N_FRAMES), "jfk.wav"
    except Exception:  # the shared clips are optional for the bench
        pass
    rng = np.random.default_rng(0)
    return (rng.standard_normal((dims.n_mels, N_FRAMES)) * 0.3 - 0.3).astype(np.float32), "synthetic mel"


def _emulated(weights) -> dict:
    from ..backends.npu.emulator import EmulatorDevice
    from ..backends.npu.runtime import NpuEncoder
    from ..backends.npu.spec import DEVICES
    from ..backends.numpy_backend import NumpyBackend

    mel, source = _window_mel(weights.dims)
    dev = EmulatorDevice("npu1")
    enc = NpuEncoder(weights, dev, DEVICES["npu1"])
    t0 = time.perf_counter()
    got = enc.encode(mel)
    emu_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = NumpyBackend(weights).encode(mel)
    ref_s = time.perf_counter() - t0
    return {
        "input": source,
        "emulated_encode_s_on_cpu": emu_s,
        "fp32_numpy_encode_s": ref_s,
        "dispatches": dev.dispatches,
        "feature_rel_rms_error_vs_fp32": float(np.sqrt(np.mean((got - ref) ** 2) / np.mean(ref**2))),
        "feature_max_abs_error_vs_fp32": float(np.max(np.abs(got - ref))),
        "note": "CPU time of the numpy emulation of the kernels' arithmetic; not an NPU time",
    }


def _measured(weights, runs: int) -> dict:
    from ..backends import decoder_fallback, npu

    backend = npu.create(
        weights, fallback_factory=decoder_fallback
    )  # refuses with one sentence unless real hardware + pyxrt + kernels
    try:
        mel, source = _window_mel(weights.dims)
        backend.encode(mel)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            backend.encode(mel)
            times.append(time.perf_counter() - t0)
        if not backend.on_npu:
            return {"error": backend.failure}
        plan = _plan_figures(weights.dims, backend.device.generation)
        best = min(times)
        return {
            "input": source,
            "label": backend.label,
            "encode_s": times,
            "best_encode_s": best,
            "achieved_tflops_incl_host": plan["npu_gemm_gflop_executed_padded"] / best / 1e3,
        }
    finally:
        backend.close()


def run(args) -> int:
    from ..whisper.model import load_weights

    json_path = getattr(args, "json", None)
    emulated = getattr(args, "npu_emulated", True)
    weights = load_weights(getattr(args, "model", None))
    report: dict[str, Any] = {
        "model": weights.source,
        "per_generation": [_plan_figures(weights.dims, g) for g in ("npu1", "npu2")],
    }
    if emulated:
        report["emulation"] = _emulated(weights)
    else:
        report["measured"] = _measured(weights, int(getattr(args, "runs", 5) or 5))

    for g in report["per_generation"]:
        print(
            f"{g['generation']} ({g['device']}): {g['npu_gemm_gflop_per_window']:.2f} GFLOP of encoder GEMMs per "
            f"30 s window on the NPU ({g['npu_gemm_gflop_executed_padded']:.2f} executed after padding, "
            f"+{g['padding_overhead']:.0%}); 0 GFLOP of encoder GEMMs on the CPU; "
            f"{g['dispatches_per_window']} dispatches"
        )
        print(
            f"    predicted NPU time at the published {g['peak_bf16_tflops']} TFLOPS bf16: "
            f"{g['predicted_gemm_ms_at_peak']:.1f} ms GEMM + {g['predicted_dispatch_overhead_ms']:.1f} ms dispatch "
            f"= {g['predicted_npu_ms_per_window']:.1f} ms per window (a lower bound)"
        )
    if "emulation" in report:
        e = report["emulation"]
        print(
            f"emulated encode ({e['input']}): {e['emulated_encode_s_on_cpu']:.2f} s of CPU emulation "
            f"(fp32 numpy: {e['fp32_numpy_encode_s']:.2f} s), {e['dispatches']} dispatches; features vs fp32: "
            f"rel. RMS {e['feature_rel_rms_error_vs_fp32']:.2%}, max |Δ| {e['feature_max_abs_error_vs_fp32']:.3f}"
        )
        print(
            "    (emulation time is CPU time, not an NPU time; "
            "run without --npu-emulated on a Ryzen AI machine to measure)"
        )
    if "measured" in report:
        m = report["measured"]
        if "error" in m:
            print(f"measured: {m['error']}")
        else:
            print(
                f"measured on {m['label']}: best {m['best_encode_s'] * 1e3:.1f} ms per window "
                f"({m['achieved_tflops_incl_host']:.2f} TFLOPS including host work)"
            )
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2))
    return 0
