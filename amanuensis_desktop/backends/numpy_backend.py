"""The numpy reference backend: Whisper in float32, KV cache, cross-attention K/V once per window.

This is the reference every other backend is compared with. It is written for clarity first, then for not
being careless (im2col convolutions, one matmul per projection, preallocated KV cache).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..whisper.inference import Backend, DecoderSession
from ..whisper.model import N_HEAD_DIM, Weights
from .names import BackendName

# Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution near 1).
_P, _A1, _A2, _A3, _A4, _A5 = 0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429


def erf(x: np.ndarray) -> np.ndarray:
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    y = 1.0 - (((((_A5 * t + _A4) * t) + _A3) * t + _A2) * t + _A1) * t * np.exp(-a * a)
    return (s * y).astype(x.dtype, copy=False)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as Whisper uses."""
    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    return xc / np.sqrt(var + np.float32(eps)) * gamma + beta


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=axis, keepdims=True)
    return x


def conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1) -> np.ndarray:
    """Kernel-3, padding-1 convolution as one GEMM. ``x [c_in, T]`` → ``[T_out, c_out]`` (time major)."""
    c_out, c_in, k = weight.shape
    xp = np.pad(x, ((0, 0), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, k, axis=1)[:, ::stride]  # [c_in, T_out, k]
    cols = np.ascontiguousarray(cols.transpose(1, 0, 2)).reshape(-1, c_in * k)
    return cols @ weight.reshape(c_out, c_in * k).T + bias


class _Linear:
    __slots__ = ("wt", "b")

    def __init__(self, weights: Weights, name: str):
        self.wt = np.ascontiguousarray(weights.f32(name + ".weight").T)
        self.b = weights.f32(name + ".bias") if name + ".bias" in weights else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = x @ self.wt
        if self.b is not None:
            y += self.b
        return y


class _Block:
    def __init__(self, w: Weights, prefix: str, cross: bool):
        self.attn_ln = (w.f32(f"{prefix}.attn_ln.weight"), w.f32(f"{prefix}.attn_ln.bias"))
        self.q, self.k, self.v, self.o = (_Linear(w, f"{prefix}.attn.{n}") for n in ("query", "key", "value", "out"))
        self.cross = cross
        if cross:
            self.cross_ln = (w.f32(f"{prefix}.cross_attn_ln.weight"), w.f32(f"{prefix}.cross_attn_ln.bias"))
            self.cq, self.ck, self.cv, self.co = (
                _Linear(w, f"{prefix}.cross_attn.{n}") for n in ("query", "key", "value", "out")
            )
        self.mlp_ln = (w.f32(f"{prefix}.mlp_ln.weight"), w.f32(f"{prefix}.mlp_ln.bias"))
        self.fc1, self.fc2 = _Linear(w, f"{prefix}.mlp.0"), _Linear(w, f"{prefix}.mlp.2")

    def mlp(self, x: np.ndarray) -> np.ndarray:
        return self.fc2(gelu(self.fc1(layer_norm(x, *self.mlp_ln))))


def _heads(x: np.ndarray, n_head: int) -> np.ndarray:
    """``[..., T, d]`` → ``[..., heads, T, 64]``."""
    *lead, t, d = x.shape
    return x.reshape(*lead, t, n_head, d // n_head).swapaxes(-2, -3)


def _merge(x: np.ndarray) -> np.ndarray:
    """``[..., heads, T, 64]`` → ``[..., T, d]``."""
    x = x.swapaxes(-2, -3)
    return x.reshape(*x.shape[:-2], -1)


class NumpyBackend(Backend):
    name = BackendName.CPU

    def __init__(self, weights: Weights):
        self.weights = weights
        self.dims = weights.dims
        w = weights
        self.conv1 = (w.f32("encoder.conv1.weight"), w.f32("encoder.conv1.bias"))
        self.conv2 = (w.f32("encoder.conv2.weight"), w.f32("encoder.conv2.bias"))
        self.enc_pos = w.f32("encoder.positional_embedding")
        self.enc_blocks = [_Block(w, f"encoder.blocks.{i}", False) for i in range(self.dims.n_audio_layer)]
        self.ln_post = (w.f32("encoder.ln_post.weight"), w.f32("encoder.ln_post.bias"))
        self.tok_emb = w.f32("decoder.token_embedding.weight")
        self.dec_pos = w.f32("decoder.positional_embedding")
        self.dec_blocks = [_Block(w, f"decoder.blocks.{i}", True) for i in range(self.dims.n_text_layer)]
        self.ln = (w.f32("decoder.ln.weight"), w.f32("decoder.ln.bias"))

    @property
    def label(self) -> str:
        return "CPU · numpy"

    def encode(self, mel: np.ndarray) -> np.ndarray:
        mel = np.asarray(mel, dtype=np.float32)
        x = gelu(conv1d(mel, *self.conv1))  # [T, d]
        x = gelu(conv1d(np.ascontiguousarray(x.T), *self.conv2, stride=2))  # [T/2, d]
        x = x + self.enc_pos[: x.shape[0]]
        h = self.dims.n_audio_head
        scale = np.float32(N_HEAD_DIM**-0.5)
        for b in self.enc_blocks:
            y = layer_norm(x, *b.attn_ln)
            q, k, v = _heads(b.q(y) * scale, h), _heads(b.k(y), h), _heads(b.v(y), h)
            att = softmax(q @ k.swapaxes(-1, -2))
            x = x + b.o(_merge(att @ v))
            x = x + b.mlp(x)
        return layer_norm(x, *self.ln_post).astype(np.float32, copy=False)

    def decoder(self, features: np.ndarray, batch: int = 1) -> DecoderSession:
        return NumpyDecoderSession(self, np.asarray(features, dtype=np.float32), batch)

    def cross_attention(
        self, features: np.ndarray, tokens: Sequence[int], heads: Sequence[tuple[int, int]]
    ) -> np.ndarray:
        """Teacher-forced pass over ``tokens``; the cross-attention weights of ``heads`` (see the interface).
        Layers past the last one asked for are skipped, and no logits are computed."""
        features = np.asarray(features, dtype=np.float32)
        toks = np.asarray(tokens, dtype=np.int64)[None, :]
        n = toks.shape[1]
        if n > self.dims.n_text_ctx:
            raise ValueError(f"decoder context overflow ({n} > {self.dims.n_text_ctx})")
        h = self.dims.n_text_head
        scale = np.float32(N_HEAD_DIM**-0.5)
        wanted: dict[int, list[int]] = {}
        for layer, head in heads:
            wanted.setdefault(int(layer), []).append(int(head))
        found: dict[tuple[int, int], np.ndarray] = {}
        x = self.tok_emb[toks] + self.dec_pos[:n]
        mask = np.triu(np.full((n, n), -np.inf, np.float32), k=1)
        last = max(wanted)
        for i, b in enumerate(self.dec_blocks[: last + 1]):
            y = layer_norm(x, *b.attn_ln)
            q, k, v = _heads(b.q(y) * scale, h), _heads(b.k(y), h), _heads(b.v(y), h)
            x = x + b.o(_merge(softmax(q @ k.swapaxes(-1, -2) + mask) @ v))
            y = layer_norm(x, *b.cross_ln)
            q = _heads(b.cq(y) * scale, h)
            att = softmax(q @ _heads(b.ck(features), h).swapaxes(-1, -2))  # [1, h, n, frames]
            for head in wanted.get(i, []):
                found[(i, head)] = att[0, head]
            if i == last:
                break  # nothing after the last layer asked for is needed
            x = x + b.co(_merge(att @ _heads(b.cv(features), h)))
            x = x + b.mlp(x)
        return np.stack([found[(int(a), int(b))] for a, b in heads]).astype(np.float32, copy=False)


class NumpyDecoderSession(DecoderSession):
    def __init__(self, model: NumpyBackend, features: np.ndarray, batch: int):
        self.m = model
        d = model.dims
        h = d.n_text_head
        self.batch = batch
        self.offset = 0
        # Cross-attention K (pre-transposed) and V, once per window, shared by every batch row.
        self.cross_kt = [np.ascontiguousarray(_heads(b.ck(features), h).swapaxes(-1, -2)) for b in model.dec_blocks]
        self.cross_v = [np.ascontiguousarray(_heads(b.cv(features), h)) for b in model.dec_blocks]
        shape = (batch, h, d.n_text_ctx, N_HEAD_DIM)
        self.k_cache = [np.zeros(shape, np.float32) for _ in model.dec_blocks]
        self.v_cache = [np.zeros(shape, np.float32) for _ in model.dec_blocks]

    @property
    def length(self) -> int:
        return self.offset

    def reorder(self, index: np.ndarray) -> None:
        index = np.asarray(index, dtype=np.int64)
        end = self.offset
        for cache in (self.k_cache, self.v_cache):
            for i, c in enumerate(cache):
                new = np.zeros((len(index),) + c.shape[1:], np.float32)
                new[:, :, :end] = c[index, :, :end]
                cache[i] = new
        self.batch = len(index)

    def step(self, tokens: np.ndarray) -> np.ndarray:
        m = self.m
        tokens = np.asarray(tokens, dtype=np.int64)
        if tokens.ndim == 1:
            tokens = tokens[None, :]
        n = tokens.shape[1]
        start, end = self.offset, self.offset + n
        if end > m.dims.n_text_ctx:
            raise ValueError(f"decoder context overflow ({end} > {m.dims.n_text_ctx})")
        h = m.dims.n_text_head
        scale = np.float32(N_HEAD_DIM**-0.5)
        x = m.tok_emb[tokens] + m.dec_pos[start:end]  # [B, n, d]
        mask = None
        if n > 1:
            mask = np.triu(np.full((n, end), -np.inf, np.float32), k=start + 1)
        for i, b in enumerate(m.dec_blocks):
            y = layer_norm(x, *b.attn_ln)
            q = _heads(b.q(y) * scale, h)  # [B, h, n, 64]
            self.k_cache[i][:, :, start:end] = _heads(b.k(y), h)
            self.v_cache[i][:, :, start:end] = _heads(b.v(y), h)
            att = q @ self.k_cache[i][:, :, :end].swapaxes(-1, -2)  # [B, h, n, end]
            if mask is not None:
                att += mask
            x = x + b.o(_merge(softmax(att) @ self.v_cache[i][:, :, :end]))
            y = layer_norm(x, *b.cross_ln)
            q = _heads(b.cq(y) * scale, h)
            x = x + b.co(_merge(softmax(q @ self.cross_kt[i]) @ self.cross_v[i]))
            x = x + b.mlp(x)
        self.offset = end
        last = layer_norm(x[:, -1], *m.ln)
        return (last @ m.tok_emb.T).astype(np.float32, copy=False)
