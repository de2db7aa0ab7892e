"""Compute precision per compiled part, raised to f32 where the device's default precision is not accurate enough.

Why: on CPUs with AVX-512 BF16 or AMX, OpenVINO's CPU plugin computes in bf16 by default (8 significant bits).
That is fine for Whisper tiny.en (encoder 0.16 standard deviations off the numpy reference), but Whisper base
grows one residual-stream channel to about ±500 from its fourth encoder block on (tiny.en: one block, and only
at its last), where a bf16 step is 2-4: rounded activations, products and residual adds put base's encoder
output 5.3 standard deviations off the reference (measured on such a CPU; 3.9-4.9 with a numpy emulation of the
rounding, ``python -m devtools.bf16_drift``). The graphs themselves are exact for every size (f32: 2e-4).

So the self-check decides: a part (encoder, or cross K/V + decoder) that fails it while compiled below f32 is
compiled again with ``INFERENCE_PRECISION_HINT=f32`` and checked again. Where the default is already f32
(CPUs without bf16) nothing changes. The label then says ``encoder f32``.
"""

from __future__ import annotations

import logging

import openvino as ov

from ...errors import BackendError

logger = logging.getLogger(__name__)

PARTS = {"encoder": ("encoder",), "decoder": ("cross", "decoder")}


class SelfCheckFailed(BackendError):
    """The self-check refused one part: ``part`` is ``"encoder"`` or ``"decoder"``."""

    def __init__(self, message: str, part: str):
        super().__init__(message)
        self.part = part


def inference_precision(compiled: ov.CompiledModel) -> str:
    """The element type a compiled model computes in ("f32", "bf16", "f16"; "" when the device does not say)."""
    try:
        value = compiled.get_property("INFERENCE_PRECISION_HINT")
    except RuntimeError:
        return ""
    text = str(value).lower()
    for name, spellings in (("bf16", ("bf16", "bfloat16")), ("f16", ("f16", "float16")), ("f32", ("f32", "float32"))):
        if any(s in text for s in spellings):
            return name
    return text


def can_raise(backend, part: str) -> bool:
    """True when ``part`` of ``backend`` computes below f32, so compiling it in f32 may fix a failed check."""
    return any(inference_precision(backend._compiled[p]) not in ("f32", "") for p in PARTS[part])


def raise_to_f32(backend, part: str) -> None:
    """Compile ``part`` of ``backend`` again with f32 compute and drop the requests bound to the old one."""
    for p in PARTS[part]:
        cfg = dict(backend._decoder_cfg) if p == "decoder" else _config(backend, p)
        cfg["INFERENCE_PRECISION_HINT"] = "f32"
        backend._compiled[p] = backend.core.compile_model(str(backend.model_dir / f"{p}.xml"), backend.device, cfg)
        if p == "decoder":
            backend._decoder_cfg = cfg
    if part == "encoder":
        backend._enc_req = backend._compiled["encoder"].create_infer_request()
    else:
        backend._cross_req = backend._compiled["cross"].create_infer_request()
        backend._cross_owner = None
        backend._dec_reqs.clear()
        backend._dec_owner.clear()
    backend.raised_parts = tuple(sorted({*backend.raised_parts, part}))


def _config(backend, part: str) -> dict[str, str]:
    from .devices import compile_config

    return compile_config(backend.device, backend.precision, part)


def checked(backend, weights, self_check) -> dict[str, float]:
    """Run ``self_check(backend, weights)``; for each part it refuses while computing below f32, recompile that
    part in f32 and check again. Raises the check's :class:`BackendError` when f32 does not help either."""
    for _ in range(len(PARTS) + 1):
        try:
            return self_check(backend, weights)
        except SelfCheckFailed as exc:
            if not can_raise(backend, exc.part):
                raise
            logger.warning(
                "%s Compiling the %s in f32 instead of %s.",
                exc,
                exc.part,
                inference_precision(backend._compiled[PARTS[exc.part][0]]),
            )
            raise_to_f32(backend, exc.part)
    raise BackendError(f"OpenVINO on {backend.device} failed its self-check in every precision.")
