"""Which OpenVINO device runs the model, and how each device is compiled for.

``AUTO`` prefers the NPU, then a GPU, then the CPU, among the devices OpenVINO lists. Intel's NPU plugin needs
static shapes, so it gets the static-shape model variant; CPU and GPU get dynamic shapes.
"""

from __future__ import annotations

from ...errors import BackendError

DEVICE_CHOICES = ("AUTO", "CPU", "GPU", "NPU")
AUTO_ORDER = ("NPU", "GPU", "CPU")


def _family(device: str) -> str:
    return device.split(".", 1)[0].upper()


def candidates(requested: str, available: list[str] | tuple[str, ...]) -> list[str]:
    """Devices to try, best first: every available device for AUTO, else the one asked for.

    ``requested`` is AUTO, a family (CPU, GPU, NPU) or an exact name OpenVINO lists ("GPU.1").
    Raises :class:`BackendError` when nothing suitable is available.
    """
    req = (requested or "AUTO").strip().upper()
    avail = [str(d) for d in available]
    shown = ", ".join(avail) or "none"
    if req == "AUTO":
        order = [d for fam in AUTO_ORDER for d in avail if _family(d) == fam]
        if not order:
            raise BackendError(f"OpenVINO lists no CPU, GPU or NPU device here (it lists: {shown}).")
        return order
    exact = [d for d in avail if d.upper() == req]
    if exact:
        return exact[:1]
    if "." not in req:
        family = [d for d in avail if _family(d) == req]
        if family:
            return family[:1]
    raise BackendError(f"OpenVINO device '{requested}' is not available here (available: {shown}).")


def is_static(device: str) -> bool:
    """True for devices that need the static-shape variant (Intel NPU)."""
    return _family(device) == "NPU"


def compile_config(device: str, precision: str, part: str) -> dict[str, str]:
    """OpenVINO properties for compiling ``part`` (encoder, cross, decoder) on ``device``."""
    cfg: dict[str, str] = {"PERFORMANCE_HINT": "LATENCY"}
    if precision == "f32":
        cfg["INFERENCE_PRECISION_HINT"] = "f32"
    if _family(device) == "CPU" and part in ("cross", "decoder"):
        # int8 weights are decompressed instead of quantising activations on the fly: the same speed for the
        # one-token decoder step here (2.0 ms either way), closer to the float reference.
        cfg["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = "0"
    if _family(device) == "CPU" and part == "decoder":
        # OpenVINO 2026.4.1's CPU plugin corrupts a decoder reading a growing KV cache once it holds 16
        # entries (garbage in f32, NaN in bf16) unless snippets are off.
        cfg["SNIPPETS_MODE"] = "DISABLE"
    return cfg
