"""The engine: weights + tokenizer + one backend, and the transcription entry point everything uses."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .backends import Selection, select
from .backends.names import BackendName
from .models.store import resolve_model
from .whisper import footprint
from .whisper.alignment import Heads, alignment_heads
from .whisper.decoding import WindowDecoder
from .whisper.inference import Backend
from .whisper.lazy_weights import open_weights
from .whisper.model import Weights, resolve_model_path
from .whisper.tokenizer import Tokenizer, load_suppress_config
from .whisper.transcribe import Segment, TranscribeOptions, Transcript, transcribe


class Engine:
    def __init__(
        self,
        weights: Weights,
        backend: Backend,
        tokenizer: Tokenizer | None = None,
        model_folder: str | os.PathLike | None = None,
        selection: Selection | None = None,
    ):
        self.weights = weights
        self.dims = weights.dims
        self.backend = backend
        self.selection = selection
        folder = Path(model_folder) if model_folder is not None else resolve_model_path(None)
        self.model_folder = folder
        self.tokenizer = tokenizer or Tokenizer(folder / "tokenizer.json", n_vocab=weights.dims.n_vocab)
        suppress, begin = load_suppress_config(folder)
        tok = self.tokenizer
        if suppress is None:
            suppress = [
                *tok.non_speech_tokens,
                tok.translate,
                tok.transcribe,
                tok.sot,
                tok.sot_prev,
                tok.sot_lm,
                tok.no_speech,
            ]
        if begin is None:
            begin = [*tok.encode(" "), tok.eot]
        self.suppress_ids = tuple(int(t) for t in suppress)
        self.begin_suppress_ids = tuple(int(t) for t in begin)

    @classmethod
    def load(
        cls, backend: str = BackendName.AUTO, model: str | os.PathLike | None = None, **backend_options: Any
    ) -> Engine:
        folder = resolve_model(model)  # a catalog name, a downloaded OWNER/REPO or a folder; never the network
        notify = backend_options.pop("notify", None)  # called with a sentence worth telling before a long load
        footprint.tell(footprint.memory_note(folder, backend), notify)
        weights = open_weights(folder)  # a warm compiled backend never reads the tensors
        footprint.tell(footprint.first_load_note(folder, backend, weights), notify)
        # The tokenizer (~0.1 s of JSON and BPE tables) loads on a thread while the backend compiles.
        with ThreadPoolExecutor(1, thread_name_prefix="tokenizer") as pool:
            tokenizer = pool.submit(Tokenizer, folder / "tokenizer.json", n_vocab=weights.dims.n_vocab)
            selection = select(backend, weights, **backend_options)
            chosen = selection.backend
            if chosen.detach_weights():  # a compiled backend holds its own copy: free the numpy one
                weights = Weights(weights.dims, {}, weights.source)
            return cls(weights, chosen, tokenizer.result(), model_folder=folder, selection=selection)

    @cached_property
    def alignment_heads(self) -> Heads:
        """The decoder's (layer, head) pairs whose cross-attention times words (see whisper/alignment.py)."""
        return alignment_heads(self.model_folder, self.dims)

    def window_decoder(self) -> WindowDecoder:
        return WindowDecoder(
            self.backend, self.tokenizer, self.dims.n_text_ctx, self.suppress_ids, self.begin_suppress_ids
        )

    def transcribe(
        self,
        audio: np.ndarray,
        options: TranscribeOptions | None = None,
        *,
        progress: Callable[[float, float], None] | None = None,
        cancel: threading.Event | None = None,
        on_segment: Callable[[Segment], None] | None = None,
        **overrides: Any,
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 audio. Keyword overrides set :class:`TranscribeOptions` fields."""
        opts = options or TranscribeOptions()
        if overrides:
            if "temperature" in overrides and isinstance(overrides["temperature"], (int, float)):
                overrides["temperature"] = (float(overrides["temperature"]),)
            opts = replace(opts, **overrides)
        return transcribe(self, audio, opts, progress=progress, cancel=cancel, on_segment=on_segment)

    def close(self) -> None:
        self.backend.close()
