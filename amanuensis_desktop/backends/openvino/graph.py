"""Whisper as OpenVINO graphs, built with the opset API straight from the in-memory weights.

Four models per weight set:

* ``encoder``: ``mel f32 [n_mels, T]`` → ``features f32 [T/2, d]`` (``T`` dynamic, or 3000 when static).
* ``cross``: ``features f32 [T/2, d]`` → per decoder layer the cross-attention K, already transposed
  (``[1, h, 64, T/2]``), and V (``[1, h, T/2, 64]``), in ``kv_type``. Runs once per window.
* ``decoder``: token embeddings against a self-attention cache whose size changes rarely (additive mask);
  returns the last token's logits and final hidden state and the new tokens' K/V, which the caller writes
  into its cache. Dynamic batch/token count for CPU and GPU; every shape fixed (one token per call, 448
  slots) for Intel's NPU plugin.

Weight formats (``weight_format``): ``int8`` = per-output-channel symmetric int8 Constant → Convert(f32) →
Multiply(scale [out, 1]) → MatMul(transpose_b), the decompression pattern the CPU plugin turns into an int8
FullyConnected (the backend uses it for the tied output projection; see ``block_format``); ``f16`` = an f16
Constant → Convert (lossless for the fp16 tiny.en checkpoint); ``f32`` = plain f32 Constants.
The encoder never uses int8 (see :func:`build_encoder`).
"""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset15 as op

from ...whisper.model import N_HEAD_DIM, Weights
from ..names import PRECISIONS, Precision

GRAPH_VERSION = "6"  # bump whenever the graphs change: part of the cache key
NEG = np.float32(-1e9)  # additive mask value (finite: safe in bf16 and with fully visible rows)

F32 = ov.Type.f32
I64 = ov.Type.i64


def _i64(values) -> ov.Node:
    return op.constant(np.asarray(values, dtype=np.int64))


def _f32(value) -> ov.Node:
    return op.constant(np.asarray(value, dtype=np.float32))


def _param(name: str, shape, dtype) -> ov.Node:
    p = op.parameter(ov.PartialShape(shape), dtype, name=name)
    p.output(0).set_names({name})
    return p


def _name(node: ov.Node, name: str) -> ov.Node:
    node.output(0).set_names({name})
    return node


def quantize_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8: ``w ≈ q * scale`` with ``q`` in [-127, 127] and ``scale [rows, 1]``."""
    w = np.asarray(w, dtype=np.float32)
    amax = np.abs(w).max(axis=1, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


class _Builder:
    def __init__(self, weights: Weights, weight_format: str):
        if weight_format not in PRECISIONS:
            raise ValueError(f"unknown weight format {weight_format!r}")
        self.w = weights
        self.fmt = weight_format
        self.d = weights.dims

    # -- constants -------------------------------------------------------------------------------
    def f32(self, name: str) -> np.ndarray:
        # A local conversion: Weights.f32() would keep a float32 copy alive on the Weights object.
        return np.asarray(self.w[name], dtype=np.float32)

    def small(self, name: str, shape=None) -> ov.Node:
        """Biases, norms, positions: f32 (tiny, precision-sensitive)."""
        arr = self.f32(name)
        return op.constant(arr if shape is None else arr.reshape(shape))

    def dense(self, arr: np.ndarray, quantize: bool = True) -> ov.Node:
        """A weight whose output (f32) feeds a MatMul/Convolution, in the chosen storage format."""
        if self.fmt == Precision.INT8 and quantize:
            flat = np.asarray(arr, dtype=np.float32).reshape(arr.shape[0], -1)
            q, scale = quantize_int8(flat)
            deq = op.multiply(
                op.convert(op.constant(q.reshape(arr.shape)), F32),
                op.constant(scale.reshape((-1,) + (1,) * (arr.ndim - 1))),
            )
            return deq
        if self.fmt in (Precision.INT8, Precision.F16):
            return op.convert(op.constant(np.asarray(arr, dtype=np.float16)), F32)
        return op.constant(np.asarray(arr, dtype=np.float32))

    # -- layers ----------------------------------------------------------------------------------
    def linear(self, x: ov.Node, name: str) -> ov.Node:
        y = op.matmul(x, self.dense(self.w[name + ".weight"]), False, True)
        if name + ".bias" in self.w:
            y = op.add(y, self.small(name + ".bias"))
        return y

    def layer_norm(self, x: ov.Node, name: str) -> ov.Node:
        y = op.mvn(x, _i64([-1]), True, 1e-5, "inside_sqrt")
        return op.add(op.multiply(y, self.small(name + ".weight")), self.small(name + ".bias"))

    def mlp(self, x: ov.Node, prefix: str) -> ov.Node:
        y = self.layer_norm(x, f"{prefix}.mlp_ln")
        y = op.gelu(self.linear(y, f"{prefix}.mlp.0"), "erf")
        return self.linear(y, f"{prefix}.mlp.2")

    @staticmethod
    def heads(x: ov.Node, n_head: int) -> ov.Node:
        """``[B, T, d]`` → ``[B, h, T, 64]``."""
        x = op.reshape(x, _i64([0, 0, n_head, N_HEAD_DIM]), special_zero=True)
        return op.transpose(x, _i64([0, 2, 1, 3]))

    @staticmethod
    def merge(x: ov.Node, d: int) -> ov.Node:
        """``[B, h, T, 64]`` → ``[B, T, d]``."""
        x = op.transpose(x, _i64([0, 2, 1, 3]))
        return op.reshape(x, _i64([0, 0, d]), special_zero=True)

    def conv(self, x: ov.Node, name: str, stride: int) -> ov.Node:
        w = self.w[name + ".weight"]  # [c_out, c_in, 3]
        y = op.convolution(x, self.dense(w, quantize=False), [stride], [1], [1], [1])
        return op.add(y, self.small(name + ".bias", (1, -1, 1)))


# --------------------------------------------------------------------------------------------------
# Encoder and cross K/V
# --------------------------------------------------------------------------------------------------


def build_encoder(weights: Weights, weight_format: str, n_frames: int | None = None) -> ov.Model:
    """``n_frames=None``: dynamic length (any ``T`` ≤ 3000); an int: static shape (NPU).

    The encoder never uses int8: per-output-channel int8 weights put single encoder features off by >12
    standard deviations (measured against the numpy reference on real speech; outlier channels), and int8 gave
    the compute-bound encoder no speed-up here. With ``int8`` the encoder keeps the checkpoint's f16 weights.
    """
    b = _Builder(weights, Precision.F16 if weight_format == Precision.INT8 else weight_format)
    d = b.d
    mel = _param("mel", [d.n_mels, -1 if n_frames is None else n_frames], F32)
    x = op.unsqueeze(mel, _i64(0))  # [1, n_mels, T]
    x = op.gelu(b.conv(x, "encoder.conv1", 1), "erf")
    x = op.gelu(b.conv(x, "encoder.conv2", 2), "erf")
    x = op.transpose(x, _i64([0, 2, 1]))  # [1, T/2, d]
    length = op.gather(op.shape_of(x, I64), _i64([1]), _i64(0))
    pos = op.slice(b.small("encoder.positional_embedding"), _i64([0]), length, _i64([1]), _i64([0]))
    x = op.add(x, pos)
    h = d.n_audio_head
    scale = np.float32(N_HEAD_DIM**-0.5)
    for i in range(d.n_audio_layer):
        p = f"encoder.blocks.{i}"
        y = b.layer_norm(x, f"{p}.attn_ln")
        q = b.heads(b.linear(y, f"{p}.attn.query"), h)
        k = b.heads(b.linear(y, f"{p}.attn.key"), h)
        v = b.heads(b.linear(y, f"{p}.attn.value"), h)
        a = op.scaled_dot_product_attention(q, k, v, scale=_f32(scale))
        x = op.add(x, b.linear(b.merge(a, d.n_audio_state), f"{p}.attn.out"))
        x = op.add(x, b.mlp(x, p))
    x = b.layer_norm(x, "encoder.ln_post")
    out = _name(op.squeeze(x, _i64([0])), "features")
    return ov.Model([out], [mel], "whisper_encoder")


def build_cross(weights: Weights, weight_format: str, kv_type: ov.Type, n_ctx: int | None = None) -> ov.Model:
    b = _Builder(weights, weight_format)
    d = b.d
    feats = _param("features", [-1 if n_ctx is None else n_ctx, d.n_audio_state], F32)
    x = op.unsqueeze(feats, _i64(0))
    outs = []
    for i in range(d.n_text_layer):
        p = f"decoder.blocks.{i}.cross_attn"
        k = b.heads(b.linear(x, f"{p}.key"), d.n_text_head)  # [1, h, T, 64]
        v = b.heads(b.linear(x, f"{p}.value"), d.n_text_head)
        kt = op.transpose(k, _i64([0, 1, 3, 2]))  # [1, h, 64, T]
        if kv_type != F32:
            kt, v = op.convert(kt, kv_type), op.convert(v, kv_type)
        outs += [_name(kt, f"cross_kt{i}"), _name(v, f"cross_v{i}")]
    return ov.Model(outs, [feats], "whisper_cross_kv")


# --------------------------------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------------------------------


def _cross_attention(b: _Builder, x: ov.Node, prefix: str, kt: ov.Node, v: ov.Node) -> ov.Node:
    d = b.d
    scale = np.float32(N_HEAD_DIM**-0.5)
    y = b.layer_norm(x, f"{prefix}.cross_attn_ln")
    q = b.heads(op.multiply(b.linear(y, f"{prefix}.cross_attn.query"), _f32(scale)), d.n_text_head)
    if kt.get_output_element_type(0) != F32:
        kt, v = op.convert(kt, F32), op.convert(v, F32)
    att = op.softmax(op.matmul(q, kt, False, False), -1)  # [B, h, n, T]; K/V broadcast over B
    return b.linear(b.merge(op.matmul(att, v, False, False), d.n_text_state), f"{prefix}.cross_attn.out")


def _cross_params(d, kv_type: ov.Type, n_ctx: int | None) -> list[ov.Node]:
    t = -1 if n_ctx is None else n_ctx
    params = []
    for i in range(d.n_text_layer):
        params += [
            _param(f"cross_kt{i}", [1, d.n_text_head, N_HEAD_DIM, t], kv_type),
            _param(f"cross_v{i}", [1, d.n_text_head, t, N_HEAD_DIM], kv_type),
        ]
    return params


def build_decoder(
    weights: Weights,
    weight_format: str,
    kv_type: ov.Type,
    batch: int | None = None,
    n_tokens: int | None = None,
    block_format: str | None = None,
) -> ov.Model:
    """The decoder over a self-attention cache of C slots (masked), C changing rarely or never.

    Keeping the cache shape constant matters on the CPU too: with a cache that grows by one position per step,
    every step is a new input shape and costs the plugin shape-specific work (median 4-7 ms per step instead of
    ~2.6 ms here). So the caller keeps C fixed and grows it in a few sizes (64, 128, 256, 448: few shapes, and
    a step reads a small cache, not all 448 slots). ``batch``/``n_tokens`` None = dynamic (CPU, GPU: the whole
    prompt in one call); ints = fully static (NPU: ``n_tokens=1``, C = ``n_text_ctx``).

    Inputs: ``embeddings f32 [B, n, d]`` (token embeddings, looked up by the caller from the checkpoint's own
    table: an in-graph Gather costs 20-110 MB of plugin memory), ``position i64 [1]`` (index of the first new
    token), ``mask f32 [n, C + n]`` (additive: 0 = visible; columns are the C cache slots then the n new
    tokens), ``past_k{i}/past_v{i} [B, h, C, 64]``, cross K/V. Outputs: ``logits [B, vocab]`` of the last
    token, ``hidden [B, d]`` (its final-norm state, for exact rescoring of the best candidates) and
    ``new_k{i}/new_v{i} [B, h, n, 64]`` that the caller writes into its cache at ``position``.
    """
    b = _Builder(weights, block_format or weight_format)
    proj = _Builder(weights, weight_format)
    d = b.d
    h, n_ctx = d.n_text_head, d.n_text_ctx
    bdim = -1 if batch is None else batch
    ndim = -1 if n_tokens is None else n_tokens
    embeddings = _param("embeddings", [bdim, ndim, d.n_text_state], F32)
    position = _param("position", [1], I64)
    mask = _param("mask", [ndim, -1 if n_tokens is None else n_ctx + n_tokens], F32)
    cdim = -1 if n_tokens is None else n_ctx  # dynamic: the caller grows its cache in a few fixed sizes
    past = []
    for i in range(d.n_text_layer):
        past += [
            _param(f"past_k{i}", [bdim, h, cdim, N_HEAD_DIM], F32),
            _param(f"past_v{i}", [bdim, h, cdim, N_HEAD_DIM], F32),
        ]
    cross = _cross_params(d, kv_type, None if n_tokens is None else d.n_audio_ctx)

    n_new = op.gather(op.shape_of(embeddings, I64), _i64([1]), _i64(0))  # [1]
    start = op.squeeze(position, _i64([0]))
    positions = op.range(start, op.add(start, op.squeeze(n_new, _i64([0]))), _i64(1), I64)  # [n]
    x = op.add(embeddings, op.gather(b.small("decoder.positional_embedding"), positions, _i64(0)))
    outs = []
    for i in range(d.n_text_layer):
        p = f"decoder.blocks.{i}"
        y = b.layer_norm(x, f"{p}.attn_ln")
        q = b.heads(b.linear(y, f"{p}.attn.query"), h)
        k_new = b.heads(b.linear(y, f"{p}.attn.key"), h)
        v_new = b.heads(b.linear(y, f"{p}.attn.value"), h)
        outs += [_name(k_new, f"new_k{i}"), _name(v_new, f"new_v{i}")]
        k = op.concat([past[2 * i], k_new], 2)
        v = op.concat([past[2 * i + 1], v_new], 2)
        a = op.scaled_dot_product_attention(q, k, v, attention_mask=mask, scale=_f32(N_HEAD_DIM**-0.5))
        x = op.add(x, b.linear(b.merge(a, d.n_text_state), f"{p}.attn.out"))
        x = op.add(x, _cross_attention(b, x, p, cross[2 * i], cross[2 * i + 1]))
        x = op.add(x, b.mlp(x, p))
    last = op.squeeze(op.gather(x, op.subtract(n_new, _i64([1])), _i64(1)), _i64([1]))  # [B, d]
    hidden = _name(b.layer_norm(last, "decoder.ln"), "hidden")
    logits = _name(op.matmul(hidden, proj.dense(b.w["decoder.token_embedding.weight"]), False, True), "logits")
    return ov.Model([logits, hidden, *outs], [embeddings, position, mask, *past, *cross], "whisper_decoder")
