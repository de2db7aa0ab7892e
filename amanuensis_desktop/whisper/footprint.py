"""What loading a model will cost: memory (against what is available now) and, the first time, time.

Estimates from the size of the weights file, calibrated on this project's machines (peak resident memory
while transcribing jfk.wav; fp16 CTranslate2 files: tiny.en 75 MB, base 145 MB):

* numpy: 553 / 920 MB peak → about 300 MB + 4.5 x the file (float32 copies, transposed projections);
* OpenVINO, warm cache: 358 / 595 MB → about 150 MB + 3.5 x the file; a first load also builds the numpy
  reference for the self-check: + 2 x the file;
* NPU: OpenVINO's decoder plus the encoder's bf16 weights: OpenVINO + 1 x the file.

A first OpenVINO/NPU load builds the graphs, compiles them and runs the self-check against the numpy
reference (tiny.en ~10 s, base ~20-35 s here, roughly in proportion to the file); later loads use the cache.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MB = 1 << 20
FIRST_LOAD_S_PER_MB = 0.15  # measured: base (145 MB) 20-35 s on 2 busy cores
FIRST_LOAD_NOTE_S = 15.0  # say nothing about shorter first loads


@dataclass(frozen=True)
class Footprint:
    file_bytes: int
    need_bytes: int
    available_bytes: int | None

    @property
    def fits(self) -> bool:
        return self.available_bytes is None or self.need_bytes <= self.available_bytes


def weights_file(folder: str | os.PathLike) -> Path | None:
    folder = Path(folder)
    for name in ("model.bin", "model.safetensors"):
        if (folder / name).is_file():
            return folder / name
    return None


def available_memory() -> int | None:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return None
    return int(psutil.virtual_memory().available)


def estimate(
    folder: str | os.PathLike, backend: str, *, first_load: bool = True, available: int | None = None
) -> Footprint:
    """Peak memory ``backend`` ("cpu", "openvino", "npu", "auto") will need to run the model in ``folder``."""
    path = weights_file(folder)
    size = path.stat().st_size if path is not None else 0
    numpy_need = 300 * MB + 4.5 * size
    openvino_need = 150 * MB + 3.5 * size + (2.0 * size if first_load else 0.0)
    need = {"cpu": numpy_need, "openvino": openvino_need, "npu": openvino_need + size}.get(backend, openvino_need)
    if backend == "auto":
        need = max(openvino_need, min(numpy_need, openvino_need + size))
    return Footprint(size, int(need), available if available is not None else available_memory())


def memory_note(
    folder: str | os.PathLike, backend: str, *, first_load: bool = True, available: int | None = None
) -> str | None:
    """One sentence when the model will probably not fit in the memory available now, else None."""
    fp = estimate(folder, backend, first_load=first_load, available=available)
    if fp.fits:
        return None
    return (
        f"This model needs about {fp.need_bytes / 2**30:.1f} GB of memory but only "
        f"{(fp.available_bytes or 0) / 2**30:.1f} GB is available; it may fail to load or make the system swap."
    )


def first_load_seconds(folder: str | os.PathLike) -> float:
    path = weights_file(folder)
    return (path.stat().st_size / MB if path is not None else 0.0) * FIRST_LOAD_S_PER_MB


def first_load_note(folder: str | os.PathLike, backend: str, weights=None) -> str | None:
    """One sentence when this is the model's first OpenVINO/NPU load here and it will take a while."""
    if backend == "cpu":
        return None
    seconds = first_load_seconds(folder)
    if seconds < FIRST_LOAD_NOTE_S:
        return None
    if weights is not None and _openvino_cached(weights):
        return None
    minutes = seconds / 60
    when = f"about {seconds:.0f} s" if minutes < 2 else f"about {minutes:.0f} minutes"
    return (
        f"The first load of this model compiles it for OpenVINO and checks it against the numpy reference "
        f"({when}); later loads use the cache."
    )


def _openvino_cached(weights) -> bool:
    """True when the OpenVINO cache already holds this model's self-check reference (it was loaded before)."""
    try:
        from ..backends.openvino import cache
        from ..backends.openvino.selfcheck import CHECK_FRAMES, CHECK_STEPS
    except ImportError:
        return False
    root = cache.cache_root()
    return (root / "selfcheck" / f"{cache.fingerprint(weights)}-{CHECK_FRAMES}-{CHECK_STEPS}.npz").is_file()


def tell(note: str | None, notify=None) -> None:
    """Log ``note`` (when there is one) and hand it to ``notify`` (the CLI prints it, the window shows it)."""
    if not note:
        return
    if notify is None:
        logger.warning("%s", note)
    else:  # the caller shows it: a log record at INFO, not a second warning line
        logger.info("%s", note)
        notify(note)
