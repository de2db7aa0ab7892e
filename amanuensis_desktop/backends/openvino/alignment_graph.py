"""Word timestamps on OpenVINO: a teacher-forced decoder pass that returns the alignment heads' cross-attention.

One model per weight set and set of heads: ``embeddings f32 [1, n, d]`` (the tokens' embeddings, looked up by
the caller from the backend's own table, as the decoder's are) and ``features f32 [T, d]`` (the encoder's
output) → ``attention f32 [len(heads), n, T]``, the softmax'd cross-attention weights of the ``(layer, head)``
pairs asked for, in their order (the contract of :meth:`~amanuensis_desktop.whisper.inference.Backend.
cross_attention`). Causal self-attention over the whole sequence (no KV cache); the layers after the last one
asked for and the output projection are left out.

It is built from :mod:`.graph`'s builder (same layers, same weight storage as the decoder blocks), saved as IR
beside the backend's other parts and compiled through OpenVINO's compile cache, on the first request for word
timestamps only: normal decoding never builds, compiles or runs it, and a warm start neither builds it nor reads
the weights. Computed in f32 (one pass per window; attention weights feed a DTW over small differences).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset15 as op

from ...whisper.model import N_HEAD_DIM, ModelDims, Weights
from ..names import Precision
from . import cache, memory
from .devices import compile_config
from .graph import F32, I64, _Builder, _f32, _i64, _name, _param

logger = logging.getLogger(__name__)

ALIGN_VERSION = "1"  # bump whenever this graph changes: part of its file name in the cache entry
Heads = tuple[tuple[int, int], ...]


def weight_format(precision: str) -> str:
    """Storage of the alignment graph's weights: the decoder blocks' (int8 keeps them in f16, see backend.py)."""
    return Precision.F16 if precision == Precision.INT8 else precision


def build_alignment(weights: Weights, precision: str, heads: Sequence[tuple[int, int]]) -> ov.Model:
    """The alignment graph of ``heads`` (see the module's docstring)."""
    heads = tuple((int(a), int(b)) for a, b in heads)
    if not heads:
        raise ValueError("no alignment heads asked for")
    b = _Builder(weights, weight_format(precision))
    d = b.d
    h = d.n_text_head
    if not all(0 <= layer < d.n_text_layer and 0 <= head < h for layer, head in heads):
        raise ValueError(f"alignment heads {heads} outside the decoder's {d.n_text_layer} layers x {h} heads")
    embeddings = _param("embeddings", [1, -1, d.n_text_state], F32)
    features = _param("features", [-1, d.n_audio_state], F32)
    n = op.gather(op.shape_of(embeddings, I64), _i64([1]), _i64(0))  # [1]
    positions = op.slice(b.small("decoder.positional_embedding"), _i64([0]), n, _i64([1]), _i64([0]))
    x = op.add(embeddings, positions)
    audio = op.unsqueeze(features, _i64(0))  # [1, T, d]
    scale = _f32(np.float32(N_HEAD_DIM**-0.5))
    last = max(layer for layer, _ in heads)
    attention: dict[int, ov.Node] = {}
    for i in range(last + 1):
        p = f"decoder.blocks.{i}"
        y = b.layer_norm(x, f"{p}.attn_ln")
        q = b.heads(b.linear(y, f"{p}.attn.query"), h)
        k = b.heads(b.linear(y, f"{p}.attn.key"), h)
        v = b.heads(b.linear(y, f"{p}.attn.value"), h)
        a = op.scaled_dot_product_attention(q, k, v, scale=scale, causal=True)
        x = op.add(x, b.linear(b.merge(a, d.n_text_state), f"{p}.attn.out"))
        y = b.layer_norm(x, f"{p}.cross_attn_ln")
        q = b.heads(op.multiply(b.linear(y, f"{p}.cross_attn.query"), scale), h)  # [1, h, n, 64]
        k = b.heads(b.linear(audio, f"{p}.cross_attn.key"), h)  # [1, h, T, 64]
        att = op.softmax(op.matmul(q, k, False, True), -1)  # [1, h, n, T]
        attention[i] = op.squeeze(att, _i64([0]))
        if i == last:
            break  # nothing after the last layer asked for is needed
        v = b.heads(b.linear(audio, f"{p}.cross_attn.value"), h)
        x = op.add(x, b.linear(b.merge(op.matmul(att, v, False, False), d.n_text_state), f"{p}.cross_attn.out"))
        x = op.add(x, b.mlp(x, p))
    rows = [op.gather(attention[layer], _i64([head]), _i64(0)) for layer, head in heads]  # each [1, n, T]
    out = _name(op.concat(rows, 0) if len(rows) > 1 else rows[0], "attention")
    return ov.Model([out], [embeddings, features], "whisper_alignment")


def ir_name(heads: Sequence[tuple[int, int]]) -> str:
    """The IR's file name in the backend's cache entry (which is keyed by weights, precision and versions)."""
    key = hashlib.sha1(repr(tuple((int(a), int(b)) for a, b in heads)).encode()).hexdigest()[:12]
    return f"alignment-v{ALIGN_VERSION}-{key}.xml"


class Aligner:
    """The compiled alignment graphs of one backend (one per set of heads; a model has one), compiled on first use.

    ``rows(tokens)`` gives the tokens' embeddings (the backend's table); ``weights()`` gives the weights, called
    only when a graph must be built (not cached yet). ``device``: where it runs (CPU for the static NPU variant:
    the NPU plugin takes no dynamic shapes)."""

    def __init__(
        self,
        core: ov.Core,
        device: str,
        model_dir: Path,
        dims: ModelDims,
        precision: str,
        rows: Callable[[np.ndarray], np.ndarray],
        weights: Callable[[], Weights],
    ):
        self.core = core
        self.device = device
        self.model_dir = Path(model_dir)
        self.dims = dims
        self.precision = precision
        self._rows = rows
        self._weights = weights
        self._requests: dict[Heads, ov.InferRequest] = {}
        self._lock = threading.Lock()
        self.built = False  # whether any graph had to be built (tests and the cost figure read it)

    def _config(self) -> dict[str, str]:
        # the decoding parts' properties (threads unpinned on the CPU: docs/decisions/busy_core.md), computed in f32
        return compile_config(self.device, Precision.F32, "alignment")

    def _compile(self, heads: Heads) -> ov.CompiledModel:
        """Compile from the cache entry's IR (through the compile cache), building and saving it first if absent;
        a damaged IR is rebuilt once."""
        path = self.model_dir / ir_name(heads)
        for attempt in range(2):
            if not path.exists():
                model = build_alignment(self._weights(), self.precision, heads)
                self.built = True
                try:
                    cache.save_ir(model, path)
                except OSError as exc:  # an unwritable cache: compiled from memory, built again next start
                    logger.warning("cannot save the alignment graph in %s (%s)", path.parent, exc)
                    return self.core.compile_model(model, self.device, self._config())
                del model
            try:
                return self.core.compile_model(str(path), self.device, self._config())
            except RuntimeError as exc:
                if attempt:
                    raise
                first = (str(exc).strip().splitlines() or ["unreadable"])[0][:160]
                logger.warning("OpenVINO alignment graph %s is damaged (%s); rebuilding it", path, first)
                for stale in (path, path.with_suffix(".bin")):
                    stale.unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def attention(self, features: np.ndarray, tokens: Sequence[int], heads: Sequence[tuple[int, int]]) -> np.ndarray:
        """``float32 [len(heads), len(tokens), n_frames]``: see the module's docstring."""
        key: Heads = tuple((int(a), int(b)) for a, b in heads)
        features = np.ascontiguousarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.dims.n_audio_state:
            raise ValueError(f"expected features [frames, {self.dims.n_audio_state}], got {list(features.shape)}")
        toks = np.asarray(tokens, dtype=np.int64).reshape(-1)
        if toks.size > self.dims.n_text_ctx:
            raise ValueError(f"decoder context overflow ({toks.size} > {self.dims.n_text_ctx})")
        if not toks.size:
            return np.zeros((len(key), 0, features.shape[0]), np.float32)
        embeddings = np.ascontiguousarray(np.asarray(self._rows(toks), dtype=np.float32)[None])
        with self._lock:
            req = self._requests.get(key)
            first = req is None
            if req is None:
                req = self._requests[key] = self._compile(key).create_infer_request()
            req.infer({0: embeddings, 1: features}, share_inputs=True)
            if first:  # the plugin has repacked the weights: drop the cache's mapped pages (see memory.py)
                memory.release_mapped(self.model_dir.parent.parent)  # <cache root>/models/<key>
            return np.array(req.get_output_tensor(0).data, dtype=np.float32, copy=True)

    def close(self) -> None:
        with self._lock:
            self._requests.clear()
