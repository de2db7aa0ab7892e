"""Token timing by Whisper's own method: cross-attention of the alignment heads, aligned by dynamic time warping.

After a window is decoded, one teacher-forced decoder pass over its final text tokens gives the cross-attention
weights of a few "alignment heads" (heads whose attention follows the speech). Per head the softmax'd weights
are standardised across tokens (each audio frame's column), median-filtered along time (width 7) and averaged
over heads; DTW on the negated matrix finds a monotonic path from the first token to the end token, and the
frame where the path enters a token's row is when that token starts (20 ms per audio-feature frame).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .audio import TIME_PRECISION
from .inference import Backend
from .model import ModelDims
from .tokenizer import Tokenizer

logger = logging.getLogger(__name__)

MEDFILT_WIDTH = 7
Heads = tuple[tuple[int, int], ...]


def alignment_heads(model_folder: str | os.PathLike | None, dims: ModelDims) -> Heads:
    """The ``(layer, head)`` pairs a model folder lists (CTranslate2 config.json or Hugging Face
    generation_config.json: ``alignment_heads``); else every head of the last half of the decoder layers."""
    if model_folder is not None:
        for name in ("config.json", "generation_config.json"):
            path = Path(model_folder) / name
            try:
                listed = json.loads(path.read_text()).get("alignment_heads")
            except (OSError, ValueError, AttributeError):
                continue
            heads = tuple(
                (int(a), int(b))
                for a, b in listed or ()
                if 0 <= int(a) < dims.n_text_layer and 0 <= int(b) < dims.n_text_head
            )
            if heads:
                return heads
    first = dims.n_text_layer // 2
    logger.info("the model lists no alignment heads: using every head of decoder layers %d and up", first)
    return tuple((layer, head) for layer in range(first, dims.n_text_layer) for head in range(dims.n_text_head))


def median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Median over a window of ``width`` (odd) along the last axis, edges reflected."""
    pad = width // 2
    if x.shape[-1] <= pad:
        return x
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width, axis=-1)
    return np.median(windows, axis=-1)


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monotonic path of least total ``cost`` from (0, 0) to (N-1, M-1), moving diagonally, down or right.

    Each row is computed at once: with ``a[j]`` the best of the cells above and diagonally above, the best
    cost of cell j is ``S[j] + min over k <= j of (a[k] - S[k-1])`` (``S``: the row's prefix sums), a running
    minimum. The path is traced back from the accumulated costs. Returns (row indices, column indices)."""
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        a = np.minimum(acc[i - 1, :-1], acc[i - 1, 1:])  # from the diagonal or from above, for columns 1..m
        prefix = np.cumsum(cost[i - 1])
        before = np.concatenate(([0.0], prefix[:-1]))
        acc[i, 1:] = prefix + np.minimum.accumulate(a - before)
    rows, cols = [], []
    i, j = n, m
    while i > 0 and j > 0:
        rows.append(i - 1)
        cols.append(j - 1)
        diag, up, left = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
        if diag <= up and diag <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
    return np.array(rows[::-1]), np.array(cols[::-1])


def token_start_times(
    backend: Backend,
    tokenizer: Tokenizer,
    features: np.ndarray,
    text_tokens: Sequence[int],
    num_frames: int,
    heads: Heads,
    medfilt_width: int = MEDFILT_WIDTH,
    sot_sequence: Sequence[int] | None = None,
) -> np.ndarray:
    """Seconds from the window's start at which each of ``text_tokens`` starts, plus one more entry: when the
    end of text starts (so token i spans ``[t[i], t[i+1]]``). ``num_frames``: mel frames of real audio in the
    window (the padding after them is never aligned to)."""
    prefix = [*(tokenizer.sot_sequence if sot_sequence is None else sot_sequence), tokenizer.no_timestamps]
    tokens = [*prefix, *map(int, text_tokens), tokenizer.eot]
    weights = backend.cross_attention(features, tokens, heads)  # [heads, tokens, frames]
    n_audio = max(1, min(weights.shape[-1], num_frames // 2))
    weights = weights[:, :, :n_audio].astype(np.float64)
    mean = weights.mean(axis=-2, keepdims=True)
    std = weights.std(axis=-2, keepdims=True)
    weights = (weights - mean) / np.maximum(std, 1e-10)
    weights = median_filter(weights, medfilt_width)
    matrix = weights.mean(axis=0)[len(prefix) - 1 : -1]  # rows that predict each text token and the end
    rows, cols = dtw(-matrix)
    jumps = np.concatenate(([True], np.diff(rows) > 0))
    return cols[jumps] * TIME_PRECISION
