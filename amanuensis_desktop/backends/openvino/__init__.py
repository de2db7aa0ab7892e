"""Registry entry for the OpenVINO backend ("openvino").

``probe()`` is cheap (import, device list, version). ``create()`` picks the device (AUTO: NPU, then GPU, then
CPU), builds the graphs from the in-memory weights (or loads them from the cache), compiles them (OpenVINO's
blob cache makes the second start fast) and runs the self-check against the numpy reference.

Precision (``precision=``), all computed in the device's default inference precision except ``f32``:

* ``int8`` (default): the tied output projection (51864 x 384, 20 M of the decoder's 29 M weights and the
  bulk of a decoding step's memory traffic) as per-output-channel symmetric int8, with the 16 best candidates
  of every step rescored exactly in float32 from the checkpoint's fp16 table; encoder and decoder blocks keep
  the checkpoint's f16 weights; compute in bf16 on CPUs with AVX-512 BF16/AMX (OpenVINO's CPU default there),
  else f32. Why: on the shared clips its transcripts equal the float32 reference's, while an f16 projection
  and in-graph embedding lookup cost ~200 MB more resident memory and a slower step (measured), and int8 in
  the encoder or decoder blocks changed words on a shared clip.
* ``f16``: every weight as stored (fp16, lossless for tiny.en), same compute precision; more memory.
* ``f32``: f32 weights and ``INFERENCE_PRECISION_HINT=f32``: matches the numpy reference to ~1e-4, slowest.

IR files are saved with ``compress_to_fp16=False`` (``save_model`` would otherwise turn f32 constants into
f16 behind our back), so each constant keeps the precision chosen here.
"""

from __future__ import annotations

import os
import time

from ...errors import BackendError
from ..base import BackendStatus

__all__ = ["probe", "create", "DEFAULT_PRECISION"]

DEFAULT_PRECISION = "int8"


def probe() -> BackendStatus:
    import openvino as ov

    from .devices import candidates, present

    version = ov.get_version().split("-")[0]
    found = tuple(present(ov.Core()))
    if not found:
        return BackendStatus("openvino", False, "OpenVINO lists no device", label="OpenVINO", version=version)

    try:
        auto = candidates("AUTO", found)[0]
    except BackendError as exc:
        return BackendStatus("openvino", False, str(exc).rstrip("."), label="OpenVINO", version=version,
                             devices=found)
    return BackendStatus("openvino", True, f"installed; AUTO uses {auto}", label="OpenVINO", version=version,
                         devices=found)


def create(weights, device: str = "AUTO", precision: str | None = None, cache_dir: str | os.PathLike | None = None,
           *, available: list[str] | None = None, **_ignored):
    """Build, compile and self-check the backend; raise :class:`BackendError` (one sentence) when it cannot run."""
    import openvino as ov

    from . import cache, devices, memory, precision as compute_precision
    from .backend import PRECISIONS, OpenVINOBackend, self_check

    memory.bound_malloc_cache()

    precision = (precision or DEFAULT_PRECISION).lower()
    if precision not in PRECISIONS:
        raise BackendError(f"Unknown OpenVINO precision '{precision}'; choose one of {', '.join(PRECISIONS)}.")
    core = ov.Core()
    found = devices.present(core) if available is None else list(available)
    order = devices.candidates(device or "AUTO", found)
    root = cache.cache_root(cache_dir)
    failures = []
    for dev in order:
        t0 = time.perf_counter()
        try:
            backend = OpenVINOBackend(weights, dev, precision, root, core)
            tc = time.perf_counter()
            # a part failing in bf16 (Whisper base's encoder on AVX-512 BF16 CPUs) is recompiled in f32
            backend.self_check_stats = compute_precision.checked(backend, weights, self_check)
            backend.release_mapped()  # every weight is repacked by now: the cached blobs' pages can go
            backend.startup["selfcheck_s"] = time.perf_counter() - tc
            backend.startup["total_s"] = time.perf_counter() - t0
            backend.skipped = failures  # devices AUTO tried first, and why they were not used
            return backend
        except BackendError as exc:
            failures.append(str(exc).rstrip("."))
        except (RuntimeError, OSError) as exc:  # OpenVINO reports compile/infer failures as RuntimeError
            first = (str(exc).strip().splitlines() or ["unknown error"])[0]
            failures.append(f"OpenVINO could not run on {dev}: {first[:160]}")
    raise BackendError("; ".join(failures) + ".")
