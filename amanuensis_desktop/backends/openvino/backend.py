"""The OpenVINO backend: compiled encoder, cross-K/V and KV-cache decoder models behind the backend interface."""

from __future__ import annotations

import gc
import logging
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov

from ...errors import BackendError
from ...whisper.audio import N_FRAMES
from ...whisper.inference import Backend, DecoderSession
from ...whisper.model import N_HEAD_DIM, Weights, load_weights
from ..names import PRECISIONS, BackendName, Precision
from . import alignment_graph, cache, devices, graph, memory

logger = logging.getLogger(__name__)

STATIC_FRAMES = N_FRAMES  # a padded 30 s window: the only encoder length the static (NPU) variant takes
# "int8" compresses the tied output projection (51864 x 384: 20 M of the decoder's 29 M weights, the tensor
# that dominates a step's memory traffic); the decoder blocks keep f16: int8 there flips words on a shared
# clip (sense_and_sensibility ...0890) even with the exact top-k rescoring.
BLOCK_FORMAT: dict[str, str] = {Precision.INT8: Precision.F16}
CACHE_SIZES = (64, 128, 256, 448)  # self-attention cache sizes of the dynamic variant (few shapes, small reads)
RESCORE_K = 16  # int8 projection: the top-k logits per row are recomputed from the fp16 table in float32


def _kv_type(core: ov.Core, device: str, precision: str) -> ov.Type:
    """Element type of the cross-attention K/V handed from the cross model to the decoder."""
    if precision == Precision.F32:
        return ov.Type.f32
    if devices._family(device) == "CPU":
        hint = str(core.get_property("CPU", "INFERENCE_PRECISION_HINT"))
        return ov.Type.bf16 if "bf16" in hint or "bfloat16" in hint else ov.Type.f32
    return ov.Type.f16


class OpenVINOBackend(Backend):
    name = BackendName.OPENVINO

    def __init__(
        self,
        weights: Weights,
        device: str,
        precision: str = Precision.INT8,
        root: Path | None = None,
        core: ov.Core | None = None,
        *,
        snippets_workaround: bool = True,
        static: bool | None = None,
    ):
        if precision not in PRECISIONS:
            raise BackendError(f"Unknown OpenVINO precision '{precision}'; choose one of {', '.join(PRECISIONS)}.")
        t0 = time.perf_counter()
        self.dims = weights.dims
        self.device = device
        self.precision: str = Precision(precision)
        self.self_check_stats: dict[str, float] = {}  # filled by record_self_check()
        self.skipped: list[str] = []  # devices AUTO tried first, and why they were not used
        # The static-shape variant is what the NPU gets; ``static=True`` forces it elsewhere (tests run it on CPU).
        self.static = devices.is_static(device) if static is None else bool(static)
        self.root = root or cache.cache_root()
        self.core = core or ov.Core()
        self.core.set_property({"CACHE_DIR": str(cache.compiled_dir(self.root))})
        self.kv_type = _kv_type(self.core, device, precision)
        self.fingerprint = cache.fingerprint(weights)
        variant = "static" if self.static else "dynamic"
        key = cache.model_key(
            self.fingerprint,
            graph.GRAPH_VERSION,
            ov.__version__,
            precision,
            str(BLOCK_FORMAT.get(precision)),
            self.kv_type.get_type_name(),
            variant,
        )
        self.model_dir = self.root / "models" / key
        parts = {
            "encoder": lambda: graph.build_encoder(weights, precision, STATIC_FRAMES if self.static else None),
            "cross": lambda: graph.build_cross(
                weights, precision, self.kv_type, self.dims.n_audio_ctx if self.static else None
            ),
            "decoder": lambda: graph.build_decoder(
                weights,
                precision,
                self.kv_type,
                1 if self.static else None,
                1 if self.static else None,
                block_format=BLOCK_FORMAT.get(precision),
            ),
        }
        self._snippets_workaround = snippets_workaround
        try:
            built, t_build, tc = self._load_parts(parts)
        except RuntimeError as exc:  # a cached entry OpenVINO cannot read (damaged xml/bin): rebuilt, once
            if not any(self.model_dir.glob("*.xml")):
                raise
            first = (str(exc).strip().splitlines() or ["unreadable"])[0][:160]
            logger.warning("OpenVINO cache entry %s is damaged (%s); rebuilding it", self.model_dir, first)
            cache.discard_entry(self.model_dir)
            built, t_build, tc = self._load_parts(parts)
        self.release_mapped()  # importing the blobs read them all; each is read again once, to repack
        self._decoder_cfg = devices.compile_config(device, precision, "decoder")
        if not snippets_workaround:
            self._decoder_cfg.pop("SNIPPETS_MODE", None)
        # Token embeddings are looked up here, from the checkpoint's own table (a view: no copy). With an int8
        # output projection, the best candidates' logits are recomputed exactly from the same table.
        # Weights not read yet (a warm start: see whisper/lazy_weights.py) stay unread: the cache's copy serves.
        self._table_path = self.model_dir / "table.npy"
        self._table: np.ndarray | cache.FileRows = self._cached_table(weights)
        if not self._table_path.exists() and isinstance(self._table, np.ndarray):
            try:
                cache.save_array(self._table_path, self._table)
            except OSError:
                pass  # detach_weights() then keeps a copy in memory
        self.rescore_k = RESCORE_K if precision == Precision.INT8 else 0
        # Word timestamps: the alignment graph (alignment_graph.py), compiled on first use; built (only when not
        # cached) from these weights or, once detached, from the checkpoint they came from.
        self._weights: Weights | None = weights
        self._weights_source = weights.source
        self._aligner: alignment_graph.Aligner | None = None
        self._enc_req = self._compiled["encoder"].create_infer_request()
        self._cross_req = self._compiled["cross"].create_infer_request()
        self._cross_owner: weakref.ref[_Session] | None = None
        self._cross_key: tuple = ()  # features_key of the features whose K/V the cross request holds
        self._dec_reqs: dict[int, ov.InferRequest] = {}
        self._dec_owner: dict[int, weakref.ref] = {}
        self._release_pending: set[str] = set()  # see release_after_first_use()
        self.raised_parts: tuple[str, ...] = ()  # parts recompiled in f32 after failing the self-check (precision.py)
        self.startup: dict[str, float] = {
            "built": built,
            "build_s": t_build,
            "compile_s": time.perf_counter() - tc,
            "load_s": time.perf_counter() - t0,
        }

    def _load_parts(self, parts: dict[str, Callable[[], ov.Model]]) -> tuple[bool, float, float]:
        """Build the parts missing from the cache, then compile all; (built anything, build s, compile start)."""
        built = False
        t_build = 0.0
        for part, build in parts.items():
            path = self.model_dir / f"{part}.xml"
            if not path.exists():
                tb = time.perf_counter()
                model = build()
                cache.save_ir(model, path)
                del model
                gc.collect()
                built = True
                t_build += time.perf_counter() - tb
        tc = time.perf_counter()
        self._compiled: dict[str, ov.CompiledModel] = {}
        for part in parts:
            cfg = devices.compile_config(self.device, self.precision, part)
            if not self._snippets_workaround:
                cfg.pop("SNIPPETS_MODE", None)
            self._compiled[part] = self.core.compile_model(str(self.model_dir / f"{part}.xml"), self.device, cfg)
        return built, t_build, tc

    def _cached_table(self, weights: Weights) -> np.ndarray | cache.FileRows:
        if not getattr(weights.tensors, "loaded", True) and self._table_path.exists():
            try:
                rows = cache.FileRows(self._table_path)
                if rows.shape == (self.dims.n_vocab, self.dims.n_text_state):
                    return rows
                rows.close()
            except (OSError, ValueError):
                pass
        return weights["decoder.token_embedding.weight"]

    def release_after_first_use(self) -> None:
        """Drop the cache's mapped pages after the first encoder window and the first decoder step (when the
        plugin has repacked every weight), as the self-check does when it runs."""
        self._release_pending = {"encoder", "decoder"}

    def _released(self, part: str) -> None:
        if part in self._release_pending:
            self._release_pending.discard(part)
            self.release_mapped()

    def record_self_check(self, stats: dict[str, float], skipped: list[str], started: float) -> None:
        """Keep what the start-up self-check measured, the devices tried before this one, and the start-up time
        (``started``: a ``time.perf_counter()`` reading taken before building)."""
        self.self_check_stats = stats
        self.skipped = skipped
        self.startup["total_s"] = time.perf_counter() - started

    def detach_weights(self) -> bool:
        """Stop referring to the caller's Weights, so that an engine dropping its Weights frees their memory.
        Compiled models never need them again; the one table still used (embeddings and rescoring: 40 MB for
        tiny.en) is then read row by row from the cache's copy (none of it resident), or else copied."""
        table = self._table
        if isinstance(table, cache.FileRows):
            return True
        self._weights = None
        for attempt in range(2):
            try:
                rows = cache.FileRows(self._table_path)
                check = np.linspace(0, table.shape[0] - 1, 8).astype(np.int64)  # a cheap identity check
                same = rows.shape == table.shape and rows.dtype == table.dtype
                if not same or not np.array_equal(rows[check], table[check]):
                    rows.close()
                    raise ValueError("stale table")
                self._table = rows
                return True
            except (OSError, ValueError) as exc:
                if attempt == 0 and self._table_path.exists():  # damaged or stale: written again, once
                    logger.warning("OpenVINO cache file %s is damaged (%s); rewriting it", self._table_path, exc)
                    try:
                        cache.save_array(self._table_path, np.asarray(table))
                        continue
                    except OSError:
                        pass
                break
        self._table = np.array(table, copy=True)
        return True

    def cross_attention(self, features: np.ndarray, tokens, heads) -> np.ndarray:
        """Word timestamps' cross-attention pass on OpenVINO (see alignment_graph.py): compiled on the first call
        only, through the compile cache (a warm start reads no weights); normal decoding never touches it."""
        if self._aligner is None:

            def weights() -> Weights:  # only called when the graph is not in the cache yet
                if self._weights is not None:
                    return self._weights
                if not self._weights_source:
                    raise NotImplementedError("the OpenVINO backend's weights were detached and have no source file")
                return load_weights(Path(self._weights_source).parent)

            self._aligner = alignment_graph.Aligner(
                self.core,
                "CPU" if self.static else self.device,  # the NPU plugin takes no dynamic shapes
                self.model_dir,
                self.dims,
                self.precision,
                rows=lambda toks: self._table[toks],
                weights=weights,
            )
        return self._aligner.attention(features, tokens, heads)

    def release_mapped(self) -> int:
        """Drop the resident pages of the cache's memory-mapped files (see :mod:`.memory`); bytes advised."""
        return memory.release_mapped(self.root)

    # -- reporting --------------------------------------------------------------------------------
    @property
    def devices(self) -> list[str]:
        seen: list[str] = []
        for compiled in self._compiled.values():
            try:
                execd = compiled.get_property("EXECUTION_DEVICES")
            except RuntimeError:
                execd = [self.device]
            for dev in execd:
                if str(dev) not in seen:
                    seen.append(str(dev))
        return seen

    @property
    def label(self) -> str:
        raised = "".join(f" · {part} f32" for part in self.raised_parts)
        return f"OpenVINO · {'+'.join(self.devices)} · {self.precision}{raised}"

    def close(self) -> None:
        self._dec_reqs.clear()
        self._dec_owner.clear()
        self._aligner = self._weights = None
        self._enc_req = self._cross_req = self._cross_owner = None
        self._compiled.clear()

    # -- encoder ----------------------------------------------------------------------------------
    def encode(self, mel: np.ndarray) -> np.ndarray:
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[0] != self.dims.n_mels:
            raise ValueError(f"expected a log-mel window [{self.dims.n_mels}, frames], got {list(mel.shape)}")
        if self.static and mel.shape[1] != STATIC_FRAMES:
            raise ValueError(f"the static-shape encoder takes exactly {STATIC_FRAMES} frames, got {mel.shape[1]}")
        if mel.shape[1] > STATIC_FRAMES:
            raise ValueError(f"a window holds at most {STATIC_FRAMES} frames, got {mel.shape[1]}")
        self._enc_req.infer({0: mel}, share_inputs=True)
        self._released("encoder")
        return np.array(self._enc_req.get_output_tensor(0).data, dtype=np.float32, copy=True)

    # -- decoder ----------------------------------------------------------------------------------
    def _cross(self, session: _Session) -> None:
        """Compute the session's cross-attention K/V into the shared cross request (once per window).

        One request serves every session (fewer buffers); a session that finds another one's K/V there (it
        was created before a newer session) gets its own recomputed, so sessions never see wrong K/V. Sessions
        over the same features (same array, same sampled values) share them: temperature fallback re-decodes a
        window without recomputing its K/V (49 ms a window for tiny.en on a 2-core AVX2 CPU).
        """
        if self._cross_owner is not None and self._cross_owner() is session:
            return
        if self._cross_owner is None or self._cross_key != session.features_key:
            self._cross_req.infer({0: session.features}, share_inputs=True)
        # else: the same features as the last session's (a fallback attempt at another temperature): K/V kept
        self._cross_key = session.features_key
        self._cross_owner = weakref.ref(session)
        self._dec_owner.clear()  # every decoder request must rebind (same tensors, but be explicit)

    def _decoder_request(self, batch: int) -> ov.InferRequest:
        key = batch if self.static else 0
        req = self._dec_reqs.get(key)
        if req is None:
            if self.static and batch != 1:
                model = self.core.read_model(str(self.model_dir / "decoder.xml"))
                shapes = {}
                for p in model.inputs:
                    name = p.get_any_name()
                    if name == "embeddings" or name.startswith("past_"):
                        shape = list(p.get_partial_shape().to_shape())
                        shape[0] = batch
                        shapes[name] = ov.PartialShape(shape)
                model.reshape(shapes)
                compiled = self.core.compile_model(model, self.device, self._decoder_cfg)
            else:
                compiled = self._compiled["decoder"]
            req = self._dec_reqs[key] = compiled.create_infer_request()
        return req

    def _bind(self, req_key: int, req: ov.InferRequest, session) -> None:
        """Point the decoder request's cross-K/V inputs at the cross request's outputs (no copies)."""
        self._cross(session)
        owner = self._dec_owner.get(req_key)
        if owner is not None and owner() is session:
            return
        for i in range(2 * self.dims.n_text_layer):
            req.set_input_tensor(self._cross_index + i, self._cross_req.get_output_tensor(i))
        self._dec_owner[req_key] = weakref.ref(session)

    @property
    def _cross_index(self) -> int:
        # Input order: embeddings, position, mask, past k/v per layer, then cross kt/v per layer.
        return 3 + 2 * self.dims.n_text_layer

    def decoder(self, features: np.ndarray, batch: int = 1) -> DecoderSession:
        features = np.ascontiguousarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.dims.n_audio_state:
            raise ValueError(f"expected features [frames, {self.dims.n_audio_state}], got {list(features.shape)}")
        if self.static and features.shape[0] != self.dims.n_audio_ctx:
            raise ValueError(f"the static-shape decoder needs {self.dims.n_audio_ctx} feature frames")
        session = _Session(self, features, batch)
        self._cross(session)
        return session


class _Session(DecoderSession):
    """A window's decoding state: the self-attention cache (numpy arrays bound without copies; 64, 128, 256
    then 448 slots, or always 448 on the static variant) and the window's features for the cross-K/V request.
    The static (NPU) variant takes one token per call, so a prompt is fed in a loop.
    """

    def __init__(self, be: OpenVINOBackend, features: np.ndarray, batch: int):
        self.be = be
        self.features = features
        # Identifies the features cheaply (the array itself, its shape, and a strided sample of its values).
        self.features_key = (id(features), features.shape, hash(features.reshape(-1)[::251].tobytes()))
        d = be.dims
        self.n_ctx = d.n_text_ctx
        self.batch = batch
        self.capacity = d.n_text_ctx if be.static else min(CACHE_SIZES[0], d.n_text_ctx)
        shape = (batch, d.n_text_head, self.capacity, N_HEAD_DIM)
        self.cache = [np.zeros(shape, np.float32) for _ in range(2 * d.n_text_layer)]
        self.offset = 0

    def _reserve(self, end: int) -> None:
        """Grow the cache to the next size holding ``end`` positions (dynamic variant only)."""
        if end <= self.capacity:
            return
        size = next((c for c in CACHE_SIZES if c >= end), self.n_ctx)
        size = min(max(size, end), self.n_ctx)
        grown = []
        for c in self.cache:
            g = np.zeros(c.shape[:2] + (size,) + c.shape[3:], np.float32)
            g[:, :, : self.offset] = c[:, :, : self.offset]
            grown.append(g)
        self.cache, self.capacity = grown, size

    @property
    def length(self) -> int:
        return self.offset

    def reorder(self, index: np.ndarray) -> None:
        index = np.asarray(index, dtype=np.int64)
        self.cache = [np.ascontiguousarray(c[index]) for c in self.cache]
        self.batch = len(index)

    def _mask(self, n: int) -> np.ndarray:
        mask = np.full((n, self.capacity + n), graph.NEG, np.float32)
        mask[:, : self.offset] = 0.0
        mask[:, self.capacity :][np.tril_indices(n)] = 0.0
        return mask

    def step(self, tokens: np.ndarray) -> np.ndarray:
        be = self.be
        tokens = np.ascontiguousarray(tokens, dtype=np.int64)
        if tokens.ndim == 1:
            tokens = tokens[None, :]
        if self.offset + tokens.shape[1] > self.n_ctx:
            raise ValueError(f"decoder context overflow ({self.offset + tokens.shape[1]} > {self.n_ctx})")
        if not be.static:
            self._reserve(self.offset + tokens.shape[1])
        req = be._decoder_request(tokens.shape[0])
        be._bind(tokens.shape[0] if be.static else 0, req, self)
        chunks = [tokens[:, j : j + 1] for j in range(tokens.shape[1])] if be.static else [tokens]
        for chunk in chunks:
            n = chunk.shape[1]
            emb = be._table[chunk].astype(np.float32)
            inputs = {0: emb, 1: np.array([self.offset], np.int64), 2: self._mask(n)}
            for i, c in enumerate(self.cache):
                inputs[3 + i] = c
            req.infer(inputs, share_inputs=True)
            for i, c in enumerate(self.cache):
                c[:, :, self.offset : self.offset + n] = req.get_output_tensor(2 + i).data
            self.offset += n
        logits = np.array(req.get_output_tensor(0).data, dtype=np.float32, copy=True)
        be._released("decoder")
        if be.rescore_k:
            hidden = req.get_output_tensor(1).data
            top = np.argpartition(logits, -be.rescore_k, axis=-1)[:, -be.rescore_k :]
            for row in range(logits.shape[0]):
                cand = top[row]
                logits[row, cand] = be._table[cand].astype(np.float32) @ hidden[row]
        return logits
