"""What the NPU kernels compute on, in which blocks, and which calls one Whisper encoder window needs.

Stdlib only: ``kernels/Makefile`` runs this file to learn which instruction streams to generate
(``python3 spec.py --dev npu1 --model tiny``), the host runtime uses it to pad Whisper's shapes into the
kernels' blocks, and the bench uses it to count FLOPs. One source of truth for all three.

Block sizes (fixed in the built xclbins, recorded in their manifest.json):

* GEMM: each compute core owns an ``m x n`` fp32 output tile and walks K in ``k``-deep steps. The whole
  array is ``rows x cols`` cores, so M is padded to ``m*rows``, N to ``n*cols`` and K to ``k``.
  npu1 (Phoenix/Hawk Point): 4 rows x 4 cols, m=64 k=64 n=32 → blocks 256 x 64 x 128.
  npu2 (Strix/Krackan):      4 rows x 8 cols, m=64 k=64 n=16 → blocks 256 x 64 x 128.
  (n=16 on npu2 keeps the N block at 128: with n=32 the 8 columns would pad d=384 to 512 and the
  64-wide attention·V product to 256, +74% executed FLOPs instead of +23%.)
* Row kernels (softmax, LayerNorm, bias+GELU): rows are dealt to ``cores`` cores in equal contiguous
  chunks, so the row count is padded to a multiple of ``cores``; a row is processed whole in one core.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

HEAD_DIM = 64


@dataclass(frozen=True)
class GemmTile:
    m: int = 64
    k: int = 64
    n: int = 32
    rows: int = 4
    cols: int = 4

    @property
    def m_block(self) -> int:
        return self.m * self.rows

    @property
    def n_block(self) -> int:
        return self.n * self.cols


@dataclass(frozen=True)
class DeviceSpec:
    """One NPU generation: the GEMM tiling, the row-kernel core count and the best published bf16 GEMM
    throughput (see ``DEVICES``; not measured here)."""

    name: str  # "npu1" | "npu2"
    gemm: GemmTile
    row_cores: int
    peak_bf16_tflops: float
    description: str

    def pad_m(self, x: int) -> int:
        return _roundup(x, self.gemm.m_block)

    def pad_k(self, x: int) -> int:
        return _roundup(x, self.gemm.k)

    def pad_n(self, x: int) -> int:
        return _roundup(x, self.gemm.n_block)

    def pad_t(self, t: int) -> int:
        """Audio frames: used as M (rows), N (score columns) and K (attention·V), so all three blocks."""
        step = math.lcm(self.gemm.m_block, self.gemm.n_block, self.gemm.k, self.row_cores)
        return _roundup(t, step)


DEVICES = {
    # Best published whole-array GEMM throughput (bf16): XDNA1 3.1 TFLOPS, XDNA2 14.7 TFLOPS — figures given in
    # the project brief ("Best published GEMM on XDNA1: 3.1 TFLOPS bf16, 6.8 TOPS int8; XDNA2 14.7 / 38"), from
    # published mlir-aie measurements; not measured here. Used only for the bench's predicted lower bound.
    "npu1": DeviceSpec("npu1", GemmTile(cols=4), 16, 3.1, "Phoenix / Hawk Point (XDNA1, 4 columns used)"),
    "npu2": DeviceSpec("npu2", GemmTile(n=16, cols=8), 32, 14.7, "Strix / Krackan (XDNA2, 8 columns)"),
}


def _roundup(x: int, step: int) -> int:
    return -(-x // step) * step


# --------------------------------------------------------------------------------------------------
# Instruction-stream keys (one insts.bin per key; one xclbin per kernel serves every key)
# --------------------------------------------------------------------------------------------------


def gemm_key(batch: int, m: int, k: int, n: int) -> str:
    return f"gemm_b{batch}_{m}x{k}x{n}"


def softmax_key(rows: int, length: int, valid: int) -> str:
    return f"softmax_{rows}x{length}_v{valid}"


def layernorm_key(rows: int, d: int) -> str:
    return f"layernorm_{rows}x{d}"


def gelu_key(rows: int, d: int) -> str:
    return f"bias_gelu_{rows}x{d}"


def parse_key(key: str) -> tuple[str, tuple[int, ...]]:
    """``"gemm_b6_1536x64x1536"`` → ``("gemm", (6, 1536, 64, 1536))``."""
    if key.startswith("gemm_b"):
        b, rest = key[len("gemm_b") :].split("_", 1)
        return "gemm", (int(b), *(int(v) for v in rest.split("x")))
    if key.startswith("softmax_"):
        shape, valid = key[len("softmax_") :].split("_v")
        r, length = shape.split("x")
        return "softmax", (int(r), int(length), int(valid))
    if key.startswith("layernorm_"):
        r, d = key[len("layernorm_") :].split("x")
        return "layernorm", (int(r), int(d))
    if key.startswith("bias_gelu_"):
        r, d = key[len("bias_gelu_") :].split("x")
        return "bias_gelu", (int(r), int(d))
    raise ValueError(f"unknown kernel key {key!r}")


# --------------------------------------------------------------------------------------------------
# The encoder plan
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kernel: str  # "gemm" | "softmax" | "layernorm" | "bias_gelu"
    key: str
    what: str  # human name: "conv1", "layer 0 QKV" ...
    useful_flops: int = 0  # 2*M*K*N of the unpadded problem (GEMMs only)
    executed_flops: int = 0  # 2*M*K*N as padded and run
    repeat: int = 1  # how many times per window (layers)
    per_layer: bool = False


@dataclass
class EncoderPlan:
    device: DeviceSpec
    n_mels: int
    d: int
    heads: int
    layers: int
    n_frames: int  # mel frames of the window (3000 for 30 s)
    calls: list[Call] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return self.n_frames // 2

    @property
    def keys(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for c in self.calls:
            out.setdefault(c.kernel, set()).add(c.key)
        return out

    def flops(self) -> tuple[int, int]:
        useful = sum(c.useful_flops * c.repeat for c in self.calls)
        executed = sum(c.executed_flops * c.repeat for c in self.calls)
        return useful, executed

    @property
    def dispatches(self) -> int:
        return sum(c.repeat for c in self.calls)


def encoder_plan(device: DeviceSpec, n_mels: int, d: int, heads: int, layers: int, n_frames: int = 3000) -> EncoderPlan:
    """Every NPU call of one encoder window, in order (per-layer calls carry ``repeat=layers``)."""
    sp = device
    plan = EncoderPlan(sp, n_mels, d, heads, layers, n_frames)
    t = n_frames // 2
    fp = sp.pad_t(n_frames)
    tp = sp.pad_t(t)
    dn = sp.pad_n(d)

    def gemm(what: str, batch: int, m: int, k: int, n: int, mp: int, kp: int, np_: int, layer: bool = False) -> None:
        plan.calls.append(
            Call(
                "gemm",
                gemm_key(batch, mp, kp, np_),
                what,
                2 * batch * m * k * n,
                2 * batch * mp * kp * np_,
                layers if layer else 1,
                layer,
            )
        )

    k1 = sp.pad_k(3 * n_mels)
    gemm("conv1 (im2col)", 1, n_frames, 3 * n_mels, d, fp, k1, dn)
    plan.calls.append(Call("bias_gelu", gelu_key(fp, dn), "conv1 bias+GELU"))
    gemm("conv2 (im2col, stride 2)", 1, t, 3 * d, d, tp, sp.pad_k(3 * d), dn)
    plan.calls.append(Call("bias_gelu", gelu_key(tp, dn), "conv2 bias+GELU"))
    L = layers

    plan.calls.append(Call("layernorm", layernorm_key(tp, d), "attn LayerNorm", repeat=L, per_layer=True))
    gemm("Q/K/V projection", 1, t, d, 3 * d, tp, d, sp.pad_n(3 * d), layer=True)
    gemm("attention scores QK^T", heads, t, HEAD_DIM, t, tp, HEAD_DIM, tp, layer=True)
    plan.calls.append(Call("softmax", softmax_key(heads * tp, tp, t), "attention softmax", repeat=L, per_layer=True))
    gemm("attention values PV", heads, t, t, HEAD_DIM, tp, tp, sp.pad_n(HEAD_DIM), layer=True)
    gemm("attention output projection", 1, t, d, d, tp, d, dn, layer=True)
    plan.calls.append(Call("layernorm", layernorm_key(tp, d), "MLP LayerNorm", repeat=L, per_layer=True))
    ffn = 4 * d
    ffn_p = sp.pad_n(ffn)
    gemm("MLP fc1", 1, t, d, ffn, tp, d, ffn_p, layer=True)
    plan.calls.append(Call("bias_gelu", gelu_key(tp, ffn_p), "MLP bias+GELU", repeat=L, per_layer=True))
    gemm("MLP fc2", 1, t, ffn, d, tp, ffn_p, dn, layer=True)
    return plan


# Whisper sizes: (n_mels, d, heads, layers)
MODELS = {
    "tiny": (80, 384, 6, 4),
    "base": (80, 512, 8, 6),
    "small": (80, 768, 12, 12),
    "medium": (80, 1024, 16, 24),
    "large-v3": (128, 1280, 20, 32),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="List the NPU instruction streams one Whisper encoder window needs.")
    ap.add_argument("--dev", choices=sorted(DEVICES), default="npu1")
    ap.add_argument("--model", action="append", choices=sorted(MODELS), help="repeatable; default tiny")
    ap.add_argument("--kernel", help="only this kernel's keys")
    args = ap.parse_args(argv)
    keys: set[str] = set()
    for name in args.model or ["tiny"]:
        plan = encoder_plan(DEVICES[args.dev], *MODELS[name])
        for kernel, ks in plan.keys.items():
            if args.kernel in (None, kernel):
                keys |= ks
    for key in sorted(keys):
        print(key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
