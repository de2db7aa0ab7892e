"""The self-check's verdict, kept so that a warm start need not run the check (nor read the numpy weights).

The honesty rule stays: a backend counts only when its output matched the numpy reference. A verdict is stored
only after a real self-check passed in this process, on this machine, and its key holds everything that could
change the outcome: the compiled graphs' key (weights fingerprint, graph version, OpenVINO version, precision,
K/V type, variant), OpenVINO's full build string, the device and its full name as OpenVINO reports it, the
compile properties of every part, the self-check's input and thresholds, the host, and the source code of the
backend's own modules. Any change there is a different key: the check runs again. A failing check stores
nothing (and a stale passing verdict is never consulted, since its key no longer matches).

Files: ``<openvino cache>/verdicts/<key>.json`` with the measured agreement and what was checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backend import OpenVINOBackend

logger = logging.getLogger(__name__)

VERDICT_VERSION = 1
# The modules whose code decides what the backend computes: a change to any of them invalidates every verdict.
_SOURCES = ("backend.py", "graph.py", "devices.py", "selfcheck.py", "cache.py", "precision.py")


def _source_digest() -> str:
    h = hashlib.sha1()
    here = Path(__file__).parent
    for name in _SOURCES:
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(f"missing {name}".encode())
    return h.hexdigest()


def _device_name(be: OpenVINOBackend) -> str:
    try:
        return str(be.core.get_property(be.device, "FULL_DEVICE_NAME"))
    except RuntimeError:
        return be.device


def key(be: OpenVINOBackend) -> str:
    import openvino as ov

    from . import devices, selfcheck

    configs = {part: devices.compile_config(be.device, be.precision, part) for part in ("encoder", "cross", "decoder")}
    parts = {
        "version": VERDICT_VERSION,
        "model": be.model_dir.name,
        "fingerprint": be.fingerprint,
        "openvino": ov.get_version(),
        "device": be.device,
        "device_name": _device_name(be),
        "static": be.static,
        "configs": configs,
        "check": [
            selfcheck.CHECK_STEPS,
            selfcheck.CHECK_FRAMES,
            selfcheck.CHECK_MAX_REL,
            selfcheck.CHECK_TOP1,
            selfcheck.CHECK_FEATURES_REL,
        ],
        "host": [platform.node(), platform.machine()],
        "sources": _source_digest(),
    }
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _path(be: OpenVINOBackend) -> Path:
    return be.root / "verdicts" / f"{key(be)}.json"


def load(be: OpenVINOBackend) -> tuple[dict[str, float], tuple[str, ...]] | None:
    """(stats, parts raised to f32) of a passing self-check stored under this backend's key, or None (then run
    the check)."""
    try:
        with open(_path(be)) as f:
            data = json.load(f)
        if data.get("passed") is not True:
            return None
        stats = {str(k): float(v) for k, v in data["stats"].items()}
        return stats, tuple(str(p) for p in data.get("raised_parts", ()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(be: OpenVINOBackend, stats: dict[str, float]) -> None:
    """Store a passing verdict (call only after :func:`~.selfcheck.self_check` returned)."""
    path = _path(be)
    record = {
        "passed": True,
        "stats": stats,
        "device": be.device,
        "device_name": _device_name(be),
        "precision": be.precision,
        "raised_parts": list(getattr(be, "raised_parts", ())),  # parts the check had to compute in f32
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(record, f)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:  # an unwritable cache only costs the check again next time
        logger.debug("could not store the self-check verdict: %s", exc)
