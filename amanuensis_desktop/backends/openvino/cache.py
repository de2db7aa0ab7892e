"""Where built and compiled models live between runs.

Layout under ``$AMANUENSIS_CACHE_DIR`` (default: platformdirs' user cache dir for "amanuensis") + ``/openvino``:

* ``models/<key>/*.xml|bin`` — the graphs built from the weights (OpenVINO IR), keyed by the weights'
  fingerprint, the weight format, the graph version and the OpenVINO version;
* ``compiled/`` — OpenVINO's own compiled-blob cache (``CACHE_DIR``), so a warm start skips compilation;
* ``selfcheck/<fingerprint>-<frames>.npz`` — the numpy reference output of the self-check input, computed once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

ENV_CACHE_DIR = "AMANUENSIS_CACHE_DIR"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    if cache_dir:
        base = Path(cache_dir).expanduser()
    elif os.environ.get(ENV_CACHE_DIR):
        base = Path(os.environ[ENV_CACHE_DIR]).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("amanuensis"))
    return base / "openvino"


def fingerprint(weights) -> str:
    """A content fingerprint of the weights: dims, every name/shape/dtype and a strided sample of the values.

    Sampling every 61st value keeps this at about a millisecond (hashing all 75 MB takes ~80 ms); any real
    change of checkpoint changes the sampled values too.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(weights.dims).encode())
    for name in sorted(weights.tensors):
        arr = np.asarray(weights.tensors[name])
        h.update(f"{name}:{arr.shape}:{arr.dtype.str};".encode())
        h.update(np.ascontiguousarray(arr.reshape(-1)[::61]).tobytes())
    return h.hexdigest()


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


def load_reference(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None


def save_reference(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
