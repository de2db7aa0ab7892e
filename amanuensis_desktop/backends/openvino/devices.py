"""Which OpenVINO device runs the model, and how each device is compiled for.

``AUTO`` prefers the NPU, then a GPU, then the CPU, among the devices OpenVINO lists. Intel's NPU plugin needs
static shapes, so it gets the static-shape model variant; CPU and GPU get dynamic shapes.

:func:`present` lists the devices without loading plugins for hardware that cannot be there: asking OpenVINO
for its device list (``Core.available_devices``) loads the GPU and NPU plugins (and their driver libraries),
~36 MB of resident memory for the life of the process (measured), even on a machine with neither. On Linux,
the GPU plugin is asked only when an Intel render node exists and the NPU plugin only when an accel node
driven by ``intel_vpu`` does — neither plugin can open a device without them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ...errors import BackendError
from ..names import Precision

DEVICE_CHOICES = ("AUTO", "CPU", "GPU", "NPU")
AUTO_ORDER = ("NPU", "GPU", "CPU")


def _family(device: str) -> str:
    return device.split(".", 1)[0].upper()


INTEL_PCI_VENDOR = "0x8086"


def _intel_gpu_possible(dev_root: Path, sys_root: Path) -> bool:
    """An Intel render node (``/dev/dri/renderD*`` whose PCI vendor is Intel, or whose vendor is unreadable)."""
    for node in sorted(dev_root.glob("dri/renderD*")):
        try:
            vendor = (sys_root / "class" / "drm" / node.name / "device" / "vendor").read_text().strip().lower()
        except OSError:
            return True  # cannot tell: let OpenVINO decide
        if vendor == INTEL_PCI_VENDOR:
            return True
    return False


def _intel_npu_possible(dev_root: Path, sys_root: Path) -> bool:
    """An accel node (``/dev/accel/accel*``) driven by ``intel_vpu`` (or whose driver is unreadable)."""
    for node in sorted(dev_root.glob("accel/accel*")):
        try:
            driver = os.path.basename(os.readlink(sys_root / "class" / "accel" / node.name / "device" / "driver"))
        except OSError:
            return True
        if driver == "intel_vpu":
            return True
    return False


def present(
    core, *, dev_root: str | os.PathLike = "/dev", sys_root: str | os.PathLike = "/sys", platform: str | None = None
) -> list[str]:
    """The devices OpenVINO would list (same names and order as ``core.available_devices``), loading the GPU
    and NPU plugins only where their hardware can exist (Linux; elsewhere OpenVINO's own full list)."""
    if (platform or sys.platform) != "linux":
        return [str(d) for d in core.available_devices]
    dev, sysfs = Path(dev_root), Path(sys_root)
    names = ["CPU"]
    if _intel_gpu_possible(dev, sysfs):
        names.append("GPU")
    if _intel_npu_possible(dev, sysfs):
        names.append("NPU")
    found: list[str] = []
    for name in names:
        try:
            ids = [str(i) for i in core.get_property(name, "AVAILABLE_DEVICES")]
        except RuntimeError:  # plugin missing or no usable device
            continue
        # OpenVINO's own naming: the bare family for one device, "GPU.0", "GPU.1"... for several.
        if len(ids) > 1:
            found += [f"{name}.{i}" for i in ids if i]
        elif ids:
            found.append(name)
    return found


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
    if precision == Precision.F32:
        cfg["INFERENCE_PRECISION_HINT"] = "f32"
    if _family(device) == "CPU":
        # Threads free to move (the plugin pins one per core by default). Pinned, the thread that shares its core
        # with another busy process stalls every parallel operation's barrier: with a busy loop on CPU 0 the 183 s
        # clip took 4.7x its quiet time (decoder step 11 -> 79 ms); unpinned 1.4x (11 -> 15 ms), and no slower on
        # a quiet machine (docs/decisions/busy_core.md).
        cfg["ENABLE_CPU_PINNING"] = "NO"
    if _family(device) == "CPU" and part in ("cross", "decoder"):
        # int8 weights are decompressed instead of quantising activations on the fly: the same speed for the
        # one-token decoder step here (2.0 ms either way), closer to the float reference.
        cfg["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = "0"
    if _family(device) == "CPU" and part == "decoder":
        # OpenVINO 2026.4.1's CPU plugin corrupts a decoder reading a growing KV cache once it holds 16
        # entries (garbage in f32, NaN in bf16) unless snippets are off.
        cfg["SNIPPETS_MODE"] = "DISABLE"
    return cfg
