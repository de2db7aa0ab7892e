"""Weights whose tensors are read from the model file on first use: a warm start needs none of them.

A compiled backend loaded from its cache needs only the model's dims and content fingerprint (the key of its
cached graphs and of its self-check verdict). Both are recorded after the first full read of a model file, in
``<cache dir>/weights/<identity>.json``, where the identity is the file's path, size, modification time, inode
and device: any change to the file changes the identity, and the next start reads the file again. Whatever
does touch the tensors (a graph build, the numpy reference, the numpy backend) reads the file then, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .model import ModelDims, Weights, load_weights

logger = logging.getLogger(__name__)

RECORD_VERSION = 1  # bump when the record's fields or the fingerprint's recipe change


def fingerprint(weights: Weights) -> str:
    """A content fingerprint of the weights: dims, every name/shape/dtype and a strided sample of the values.

    Sampling every 61st value keeps this at about a millisecond (hashing all 75 MB takes ~80 ms); any real
    change of checkpoint changes the sampled values too. Lazy weights answer from their record, unread.
    """
    known = getattr(weights.tensors, "fingerprint", None)
    if known:
        return str(known)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(weights.dims).encode())
    for name in sorted(weights.tensors):
        arr = np.asarray(weights.tensors[name])
        h.update(f"{name}:{arr.shape}:{arr.dtype.str};".encode())
        h.update(np.ascontiguousarray(arr.reshape(-1)[::61]).tobytes())
    return h.hexdigest()


class LazyTensors(dict):
    """A ``dict`` of tensors filled from ``loader`` the first time anything reads it (thread-safe)."""

    def __init__(self, loader: Callable[[], dict[str, np.ndarray]], fingerprint: str):
        super().__init__()
        self.fingerprint = fingerprint
        self._loader: Callable[[], dict[str, np.ndarray]] | None = loader
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loader is None

    def _load(self) -> None:
        if self._loader is None:
            return
        with self._lock:
            if self._loader is not None:
                logger.debug("reading the model's tensors on first use")
                super().update(self._loader())
                self._loader = None

    def __getitem__(self, key: str) -> np.ndarray:
        self._load()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()

    def get(self, key: str, default: Any = None) -> Any:
        self._load()
        return super().get(key, default)

    def keys(self):
        self._load()
        return super().keys()

    def values(self):
        self._load()
        return super().values()

    def items(self):
        self._load()
        return super().items()


def model_file(folder: Path) -> Path:
    """The weights file of a checked model folder (model.bin, else model.safetensors)."""
    return folder / "model.bin" if (folder / "model.bin").exists() else folder / "model.safetensors"


def identity(path: Path) -> str:
    """The model file's identity: its resolved path, size, modification time, inode and device."""
    st = os.stat(path)
    parts = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, RECORD_VERSION)
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:24]


def record_path(path: Path, cache_dir: Path | None = None) -> Path:
    from ..settings import cache_dir as user_cache_dir

    return (cache_dir or user_cache_dir()) / "weights" / f"{identity(path)}.json"


def _write_record(where: Path, weights: Weights, fp: str) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=where.stem + ".", suffix=".tmp", dir=where.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"dims": asdict(weights.dims), "fingerprint": fp, "source": weights.source}, f)
        os.replace(tmp, where)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def open_weights(folder: Path, cache_dir: Path | None = None) -> Weights:
    """The model folder's weights: lazy (dims and fingerprint from the record) when a record of this very file
    exists, else read now (and recorded for the next start)."""
    path = model_file(folder)
    try:
        where = record_path(path, cache_dir)
        with open(where) as f:
            rec = json.load(f)
        dims = ModelDims(**rec["dims"])
        fp = str(rec["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        weights = load_weights(folder)
        try:
            _write_record(record_path(path, cache_dir), weights, fingerprint(weights))
        except OSError:
            pass  # an unwritable cache only costs time on the next start
        return weights

    def read() -> dict[str, np.ndarray]:
        full = load_weights(folder)
        if full.dims != dims:  # the record is keyed by the file's identity: this means a corrupt record
            raise ValueError(f"{path} does not match its cached description; delete {where}")
        return full.tensors

    return Weights(dims=dims, tensors=LazyTensors(read, fp), source=str(path))
