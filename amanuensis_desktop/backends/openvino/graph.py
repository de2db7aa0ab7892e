"""Whisper as OpenVINO graphs, built with the opset API straight from the in-memory weights.

Four models per weight set:

* ``encoder``: ``mel f32 [n_mels, T]`` → ``features f32 [T/2, d]`` (``T`` dynamic, or 3000 when static).
* ``cross``: ``features f32 [T/2, d]`` → per decoder layer the cross-attention K, already transposed
  (``[1, h, 64, T/2]``), and V (``[1, h, T/2, 64]``), in ``kv_type``. Runs once per window.
* ``decoder`` (dynamic shapes, CPU/GPU): ``tokens i64 [B, n]`` + self-attention cache ``past_k{i}/past_v{i}
  f32 [B, h, P, 64]`` + the cross K/V → ``logits f32 [B, vocab]`` of the last position and the grown cache
  ``present_k{i}/present_v{i} [B, h, P + n, 64]``. Positions come from ``P``; the causal mask is built inside.
* ``decoder_static`` (every shape fixed, for Intel's NPU plugin): one token per call, a cache with
  ``n_text_ctx`` slots plus an additive ``mask [1, n_text_ctx + 1]`` and ``position i64 [1]``; returns the
  logits and the new token's ``new_k{i}/new_v{i} [B, h, 1, 64]``, which the caller writes into its cache.

Weight formats (``weight_format``): ``int8`` = every linear weight (and the tied embedding/output projection)
as a per-output-channel symmetric int8 Constant → Convert(f32) → Multiply(scale [out, 1]) → MatMul
(transpose_b), the decompression pattern the CPU plugin turns into an int8 FullyConnected; ``f16`` = f16
Constant → Convert (lossless for the fp16 tiny.en checkpoint); ``f32`` = plain f32 Constants.
"""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset15 as op

from ...whisper.model import N_HEAD_DIM, Weights

WEIGHT_FORMATS = ("int8", "f16", "f32")
GRAPH_VERSION = "1"  # bump whenever the graphs change: part of the cache key
_NEG = np.float32(-1e9)  # additive mask value (finite: safe in bf16 and with fully visible rows)

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
        if weight_format not in WEIGHT_FORMATS:
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
        if self.fmt == "int8" and quantize:
            flat = np.asarray(arr, dtype=np.float32).reshape(arr.shape[0], -1)
            q, scale = quantize_int8(flat)
            deq = op.multiply(op.convert(op.constant(q.reshape(arr.shape)), F32),
                              op.constant(scale.reshape((-1,) + (1,) * (arr.ndim - 1))))
            return deq
        if self.fmt in ("int8", "f16"):
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

    def embedding(self, tokens: ov.Node) -> ov.Node:
        """Token embedding lookup ``[B, n]`` → ``[B, n, d]`` (int8 rows × their scale when int8)."""
        table = self.w["decoder.token_embedding.weight"]
        if self.fmt == "int8":
            q, scale = quantize_int8(table)
            rows = op.convert(op.gather(op.constant(q), tokens, _i64(0)), F32)
            return op.multiply(rows, op.gather(op.constant(scale), tokens, _i64(0)))
        if self.fmt == "f16":
            return op.convert(op.gather(op.constant(np.asarray(table, np.float16)), tokens, _i64(0)), F32)
        return op.gather(op.constant(self.f32("decoder.token_embedding.weight")), tokens, _i64(0))


# --------------------------------------------------------------------------------------------------
# Encoder and cross K/V
# --------------------------------------------------------------------------------------------------


def build_encoder(weights: Weights, weight_format: str, n_frames: int | None = None) -> ov.Model:
    """``n_frames=None``: dynamic length (any even ``T`` ≤ 3000); an int: static shape (NPU)."""
    b = _Builder(weights, weight_format)
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


def _logits(b: _Builder, x_last: ov.Node) -> ov.Node:
    """``[B, d]`` → ``[B, vocab]`` through the final norm and the tied output projection."""
    y = b.layer_norm(x_last, "decoder.ln")
    return _name(op.matmul(y, b.dense(b.w["decoder.token_embedding.weight"]), False, True), "logits")


def _cross_params(d, kv_type: ov.Type, n_ctx: int | None) -> list[ov.Node]:
    t = -1 if n_ctx is None else n_ctx
    params = []
    for i in range(d.n_text_layer):
        params += [_param(f"cross_kt{i}", [1, d.n_text_head, N_HEAD_DIM, t], kv_type),
                   _param(f"cross_v{i}", [1, d.n_text_head, t, N_HEAD_DIM], kv_type)]
    return params


def build_decoder(weights: Weights, weight_format: str, kv_type: ov.Type) -> ov.Model:
    b = _Builder(weights, weight_format)
    d = b.d
    h = d.n_text_head
    tokens = _param("tokens", [-1, -1], I64)
    past = []
    for i in range(d.n_text_layer):
        past += [_param(f"past_k{i}", [-1, h, -1, N_HEAD_DIM], F32), _param(f"past_v{i}", [-1, h, -1, N_HEAD_DIM], F32)]
    cross = _cross_params(d, kv_type, None)

    past_len = op.gather(op.shape_of(past[0], I64), _i64([2]), _i64(0))  # [1]
    n_new = op.gather(op.shape_of(tokens, I64), _i64([1]), _i64(0))  # [1]
    total = op.add(past_len, n_new)
    x = b.embedding(tokens)
    pos = op.slice(b.small("decoder.positional_embedding"), past_len, total, _i64([1]), _i64([0]))
    x = op.add(x, pos)
    # Additive causal mask [n, P + n]: key j is visible to query i when j <= P + i.
    q_pos = op.unsqueeze(op.range(op.squeeze(past_len, _i64([0])), op.squeeze(total, _i64([0])), _i64(1), I64), _i64(1))
    k_pos = op.unsqueeze(op.range(_i64(0), op.squeeze(total, _i64([0])), _i64(1), I64), _i64(0))
    mask = op.select(op.greater(k_pos, q_pos), _f32(_NEG), _f32(0.0))

    outs = []
    for i in range(d.n_text_layer):
        p = f"decoder.blocks.{i}"
        y = b.layer_norm(x, f"{p}.attn_ln")
        q = b.heads(b.linear(y, f"{p}.attn.query"), h)
        k = op.concat([past[2 * i], b.heads(b.linear(y, f"{p}.attn.key"), h)], 2)
        v = op.concat([past[2 * i + 1], b.heads(b.linear(y, f"{p}.attn.value"), h)], 2)
        outs += [_name(k, f"present_k{i}"), _name(v, f"present_v{i}")]
        a = op.scaled_dot_product_attention(q, k, v, attention_mask=mask, scale=_f32(N_HEAD_DIM**-0.5))
        x = op.add(x, b.linear(b.merge(a, d.n_text_state), f"{p}.attn.out"))
        x = op.add(x, _cross_attention(b, x, p, cross[2 * i], cross[2 * i + 1]))
        x = op.add(x, b.mlp(x, p))
    last = op.squeeze(op.gather(x, op.subtract(n_new, _i64([1])), _i64(1)), _i64([1]))  # [B, d]
    logits = _logits(b, last)
    return ov.Model([logits, *outs], [tokens, *past, *cross], "whisper_decoder")


def build_static_decoder(weights: Weights, weight_format: str, kv_type: ov.Type, batch: int = 1) -> ov.Model:
    """Fixed shapes for the NPU: one token per call against a ``n_text_ctx``-slot cache."""
    b = _Builder(weights, weight_format)
    d = b.d
    h, n_ctx = d.n_text_head, d.n_text_ctx
    tokens = _param("tokens", [batch, 1], I64)
    position = _param("position", [1], I64)
    mask = _param("mask", [1, n_ctx + 1], F32)  # 0 where visible, large negative elsewhere; last = new token
    past = []
    for i in range(d.n_text_layer):
        past += [_param(f"past_k{i}", [batch, h, n_ctx, N_HEAD_DIM], F32),
                 _param(f"past_v{i}", [batch, h, n_ctx, N_HEAD_DIM], F32)]
    cross = _cross_params(d, kv_type, d.n_audio_ctx)
    x = op.add(b.embedding(tokens), op.gather(b.small("decoder.positional_embedding"), position, _i64(0)))
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
    logits = _logits(b, op.squeeze(x, _i64([1])))
    return ov.Model([logits, *outs], [tokens, position, mask, *past, *cross], "whisper_decoder_static")
