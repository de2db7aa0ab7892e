"""Where built and compiled models live between runs.

Layout under ``$AMANUENSIS_CACHE_DIR`` (default: platformdirs' user cache dir for "amanuensis") + ``/openvino``:

* ``models/<key>/*.xml|bin`` — the graphs built from the weights (OpenVINO IR), keyed by the weights'
  fingerprint, the weight format, the graph version and the OpenVINO version; ``table.npy`` beside them, the
  token-embedding table that the backend memory-maps after ``detach_weights()``;
* ``compiled/`` — OpenVINO's own compiled-blob cache (``CACHE_DIR``), so a warm start skips compilation;
* ``selfcheck/<fingerprint>-<frames>.npz`` — the numpy reference output of the self-check input, computed once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    from ...settings import cache_dir as user_cache_dir

    base = Path(cache_dir).expanduser() if cache_dir else user_cache_dir()
    return base / "openvino"


def compiled_dir(root: Path) -> Path:
    """OpenVINO's compiled-blob cache (its CACHE_DIR) under ``root``: Whisper's parts and the speech detector."""
    return root / "compiled"


def fingerprint(weights) -> str:
    """The weights' content fingerprint (see :func:`~amanuensis_desktop.whisper.lazy_weights.fingerprint`)."""
    from ...whisper.lazy_weights import fingerprint as weights_fingerprint

    return weights_fingerprint(weights)


def model_key(fp: str, *parts: str) -> str:
    return hashlib.sha1("|".join((fp, *parts)).encode()).hexdigest()[:20]


def save_ir(model, path: Path) -> None:
    """Write an IR atomically (xml + bin), keeping every constant's own precision (no f16 compression)."""
    import openvino as ov

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.xml", dir=path.parent)
    os.close(fd)
    tmp_xml = Path(tmp)
    tmp_bin = tmp_xml.with_suffix(".bin")
    try:
        ov.save_model(model, str(tmp_xml), compress_to_fp16=False)
        os.replace(tmp_bin, path.with_suffix(".bin"))
        os.replace(tmp_xml, path)
    finally:
        for p in (tmp_xml, tmp_bin):
            if p.exists():
                p.unlink()


def save_array(path: Path, array: np.ndarray) -> None:
    """Write one array as ``.npy`` atomically (loaded later with ``mmap_mode="r"``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.npy", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(array))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FileRows:
    """Rows of a 2-D C-order ``.npy`` read from the file on demand (``rows[index]`` like an array's), so
    none of it is resident: a decoding step reads ~17 rows of 768 bytes (tens of microseconds). A memory map
    would do the same in principle, but the kernel maps whole page-cache folios (up to MBs) per touched row:
    33 of the table's 40 MB became resident after 64 scattered reads (measured)."""

    def __init__(self, path: Path):
        import threading

        self.path = Path(path)
        self._f = open(self.path, "rb")
        try:
            version = np.lib.format.read_magic(self._f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(self._f)
        except Exception:
            self._f.close()
            raise
        if fortran or len(shape) != 2 or dtype.hasobject:
            self._f.close()
            raise ValueError(f"{path} is not a 2-D C-order array")
        self.shape, self.dtype = tuple(shape), dtype
        self.ndim = 2
        self._offset = self._f.tell()
        self._row = int(shape[1]) * dtype.itemsize
        if os.fstat(self._f.fileno()).st_size != self._offset + self._row * int(shape[0]):
            self._f.close()
            raise ValueError(f"{path} is truncated")
        self._lock = threading.Lock()

    def _read(self, row: int) -> bytes:
        pos = self._offset + row * self._row
        if hasattr(os, "pread"):
            data = os.pread(self._f.fileno(), self._row, pos)
        else:
            with self._lock:
                self._f.seek(pos)
                data = self._f.read(self._row)
        if len(data) != self._row:  # the file was cut short while in use (it is read row by row)
            from ...errors import ModelError

            raise ModelError(
                f"The model cache file {self.path} was changed while in use; restart the app to rebuild it."
            )
        return data

    def __getitem__(self, index) -> np.ndarray:
        idx = np.asarray(index, dtype=np.int64)
        flat = idx.reshape(-1)
        if flat.size and (flat.min() < -self.shape[0] or flat.max() >= self.shape[0]):
            raise IndexError("row index out of range")
        flat = np.where(flat < 0, flat + self.shape[0], flat)
        out = np.empty((flat.size, self.shape[1]), self.dtype)
        for i, r in enumerate(flat.tolist()):
            out[i] = np.frombuffer(self._read(r), self.dtype)
        return out.reshape(idx.shape + (self.shape[1],))

    def __array__(self, dtype=None, copy=None):
        arr = np.fromfile(
            self.path, dtype=self.dtype, count=self.shape[0] * self.shape[1], offset=self._offset
        ).reshape(self.shape)
        return arr if dtype is None else arr.astype(dtype)

    def close(self) -> None:
        self._f.close()


def load_reference(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged reference (zip CRC, pickle, truncation...) is recomputed
        import logging

        logging.getLogger(__name__).warning("self-check reference %s is damaged (%s); recomputing it", path, exc)
        return None


def save_reference(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub matches ** against allow_pickle
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def discard_entry(model_dir: Path) -> None:
    """Remove one cached model entry (a damaged one); the next start builds it again."""
    import shutil

    shutil.rmtree(model_dir, ignore_errors=True)
