"""The inference interface the decoder (:mod:`.decoding`) calls; every backend (numpy, OpenVINO, NPU) implements it.

* ``backend.encode(mel)`` takes a log-mel window ``float32 [n_mels, n_frames]`` (``n_frames`` is 3000 for a
  padded 30 s window; backends may accept fewer) and returns audio features ``float32 [n_frames // 2,
  n_audio_state]`` as a numpy array, so an encoder from one backend can feed a decoder from another.
* ``backend.decoder(features, batch)`` starts a :class:`DecoderSession` for one window. The session owns the
  KV cache: the self-attention cache grows with every step; cross-attention K/V are computed once here.
* ``session.step(tokens)`` feeds ``int64 [batch, n_new]`` tokens (the whole prompt at first, then one token per
  step) and returns ``float32 [batch, n_vocab]`` logits for the last position only.
* ``session.reorder(index)`` permutes/duplicates the batch rows of the cache (beam search).

A backend reports what really computed: ``label`` and ``devices`` come from what ran, never from what was
requested. Everything a caller may read is declared here, with a default for backends that have nothing to say.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

import numpy as np

__all__ = ["Backend", "DecoderSession"]

_EMPTY: Mapping[str, float] = MappingProxyType({})


class DecoderSession(ABC):
    """Decoding state of one audio window (KV cache included)."""

    @abstractmethod
    def step(self, tokens: np.ndarray) -> np.ndarray:
        """Feed ``tokens`` (int64 ``[batch, n]``); return logits ``float32 [batch, n_vocab]`` of the last one."""

    @abstractmethod
    def reorder(self, index: np.ndarray) -> None:
        """Keep batch rows ``index`` (an int array of length ``batch``) of the cache, in that order."""

    @property
    @abstractmethod
    def length(self) -> int:
        """How many token positions the cache holds."""


class Backend(ABC):
    #: short id used on the command line: "cpu", "openvino", "npu"
    name: ClassVar[str] = ""
    #: the weights' precision where the backend chooses one ("int8", "f16", "f32"); None for the numpy reference
    precision: str | None = None
    #: start-up costs in seconds (and whether graphs had to be built), where the backend measures them
    startup: Mapping[str, float] = _EMPTY
    #: agreement with the numpy reference measured by the start-up self-check, where there is one
    self_check_stats: Mapping[str, float] = _EMPTY
    #: devices tried first and, one sentence each, why they were not used
    skipped: Sequence[str] = ()

    @abstractmethod
    def encode(self, mel: np.ndarray) -> np.ndarray:
        """``float32 [n_mels, n_frames]`` → ``float32 [n_frames // 2, n_audio_state]``."""

    @abstractmethod
    def decoder(self, features: np.ndarray, batch: int = 1) -> DecoderSession:
        """A fresh decoding session over ``features`` for ``batch`` parallel hypotheses."""

    @property
    @abstractmethod
    def label(self) -> str:
        """What computed, for people: "CPU · numpy", "OpenVINO · CPU", "NPU · XDNA kernels + OpenVINO · CPU"."""

    @property
    def devices(self) -> list[str]:
        """The devices that really executed (e.g. OpenVINO's EXECUTION_DEVICES)."""
        return ["CPU"]

    def cross_attention(
        self, features: np.ndarray, tokens: Sequence[int], heads: Sequence[tuple[int, int]]
    ) -> np.ndarray:
        """One teacher-forced decoder pass over ``tokens`` (the start sequence and the final text tokens) on
        ``features``; returns the softmax'd cross-attention weights of the ``(layer, head)`` pairs ``heads`` as
        ``float32 [len(heads), len(tokens), n_frames]`` (word timestamps read them). Run once per window after
        decoding, never during it."""
        raise NotImplementedError(f"the {self.name or type(self).__name__} backend cannot give word timestamps")

    def detach_weights(self) -> bool:
        """Stop referring to the caller's weights where the backend holds its own copy (a compiled backend);
        True when the caller may then drop them. The default computes from them, so it keeps them."""
        return False

    def close(self) -> None:
        """Release device resources. The default holds none."""
