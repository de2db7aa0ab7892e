"""Registry entry for the OpenVINO backend ("openvino").

``probe()`` is cheap (import, device list, version). ``create()`` picks the device (AUTO: NPU, then GPU, then
CPU), builds the graphs from the in-memory weights (or loads them from the cache), compiles them (OpenVINO's
blob cache makes the second start fast) and runs the self-check (:mod:`.selfcheck`) against the numpy reference.

Precisions (:class:`~amanuensis_desktop.backends.names.Precision`): ``int8`` (default) stores the tied output
projection as int8 and rescores the best candidates exactly; ``f16`` keeps every weight as stored; ``f32`` also
computes in f32 and matches the numpy reference to ~1e-4. Why int8 is the default, with the measurements:
docs/decisions/engine.md.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from ...errors import BackendError
from ...whisper.model import Weights
from ..base import BackendStatus
from ..names import DEFAULT_PRECISION, PRECISIONS, BackendName

__all__ = ["probe", "create", "DEFAULT_PRECISION"]

RECHECK_ENV = "AMANUENSIS_RECHECK"  # "1": run the self-check even when a passing verdict is stored


def _import_openvino():
    """``import openvino`` without its model-conversion tool: the package imports ``openvino.tools.ovc`` (and with
    it telemetry, urllib, http, email: ~60 % of the import time) only for ``convert_model``, which we never use.
    A ``None`` entry in ``sys.modules`` makes that one optional import fail fast, as the package allows; the entry
    is removed afterwards, so an explicit ``import openvino.tools.ovc`` still works."""
    if "openvino" in sys.modules:
        import openvino as ov

        return ov
    blocked = "openvino.tools.ovc"
    already = blocked in sys.modules
    if not already:
        sys.modules[blocked] = None  # type: ignore[assignment]
    try:
        import openvino as ov
    finally:
        if not already and sys.modules.get(blocked, 0) is None:
            del sys.modules[blocked]
    return ov


def probe() -> BackendStatus:
    ov = _import_openvino()

    from .devices import candidates, present

    version = ov.get_version().split("-")[0]
    found = tuple(present(ov.Core()))
    name = BackendName.OPENVINO
    if not found:
        return BackendStatus(name, False, "OpenVINO lists no device", label="OpenVINO", version=version)

    try:
        auto = candidates("AUTO", found)[0]
    except BackendError as exc:
        return BackendStatus(name, False, str(exc).rstrip("."), label="OpenVINO", version=version, devices=found)
    return BackendStatus(name, True, f"installed; AUTO uses {auto}", label="OpenVINO", version=version, devices=found)


def create(
    weights: Weights,
    device: str = "AUTO",
    precision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    *,
    available: list[str] | None = None,
    **_ignored: Any,
):
    """Build, compile and self-check the backend; raise :class:`BackendError` (one sentence) when it cannot run.

    The self-check is skipped when a passing verdict for exactly this backend is stored (:mod:`.verdict`); the
    parts it raised to f32 are raised again."""
    ov = _import_openvino()

    from . import cache, devices, memory, verdict
    from . import precision as compute_precision
    from .backend import OpenVINOBackend
    from .selfcheck import self_check

    memory.bound_malloc_cache()

    chosen = (precision or DEFAULT_PRECISION).lower()
    if chosen not in PRECISIONS:
        raise BackendError(f"Unknown OpenVINO precision '{chosen}'; choose one of {', '.join(PRECISIONS)}.")
    core = ov.Core()
    found = devices.present(core) if available is None else list(available)
    order = devices.candidates(device or "AUTO", found)
    root = cache.cache_root(cache_dir)
    failures: list[str] = []
    for dev in order:
        t0 = time.perf_counter()
        try:
            backend = OpenVINOBackend(weights, dev, chosen, root, core)
            tc = time.perf_counter()
            stored = None if os.environ.get(RECHECK_ENV) == "1" else verdict.load(backend)
            backend.startup["verdict_cached"] = stored is not None
            if stored is None:
                # a part failing in bf16 (Whisper base's encoder on AVX-512 BF16 CPUs) is recompiled in f32
                stats = compute_precision.checked(backend, weights, self_check)
                verdict.save(backend, stats)
                backend.release_mapped()  # every weight is repacked by now: the cached blobs' pages can go
            else:
                stats, raised = stored
                for part in raised:  # as the check that stored the verdict did
                    compute_precision.raise_to_f32(backend, part)
                backend.release_after_first_use()  # the repacking happens on the first real window instead
            backend.startup["selfcheck_s"] = time.perf_counter() - tc
            backend.record_self_check(stats, failures, started=t0)
            return backend
        except BackendError as exc:
            failures.append(str(exc).rstrip("."))
        except (RuntimeError, OSError) as exc:  # OpenVINO reports compile/infer failures as RuntimeError
            first = (str(exc).strip().splitlines() or ["unknown error"])[0]
            failures.append(f"OpenVINO could not run on {dev}: {first[:160]}")
    raise BackendError("; ".join(failures) + ".")
