"""Finding an AMD XDNA NPU in a way that cannot be fooled.

``/dev/accel/accel*`` exists for Intel NPUs too (driver ``intel_vpu``), so a device node proves nothing.
An NPU counts only when sysfs says its driver is ``amdxdna`` *and* its PCI id is a known XDNA part:

* ``1022:1502`` — Phoenix / Hawk Point, XDNA1 ("npu1");
* ``1022:17f0`` — Strix / Strix Halo / Krackan, XDNA2 ("npu2").

Then pyxrt must import, and kernels built for that generation must be present. The sysfs root, the /dev
root and the XRT root are parameters so the tests can run on recorded trees.

``npu_power_mode()`` asks ``xrt-smi examine -r platform`` for the power mode (and the estimated power where
the XRT version reports it) for the window's power indicator; it returns None when xrt-smi is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

XDNA_PCI_IDS = {
    "1022:1502": ("npu1", "Phoenix / Hawk Point (XDNA1)"),
    "1022:17f0": ("npu2", "Strix / Krackan (XDNA2)"),
}
AMD_DRIVER = "amdxdna"
DEFAULT_XRT_ROOT = Path("/opt/xilinx/xrt")
KERNELS_ENV = "AMANUENSIS_NPU_KERNELS"


@dataclass
class AccelDevice:
    name: str  # accel0
    driver: str  # amdxdna, intel_vpu, "" when unbound
    pci_id: str  # "1022:1502" (lower case), "" when unknown
    slot: str  # PCI slot name, e.g. 0000:c5:00.1
    node: bool  # /dev/accel/<name> exists

    @property
    def generation(self) -> str | None:
        if self.driver != AMD_DRIVER:
            return None
        hit = XDNA_PCI_IDS.get(self.pci_id)
        return hit[0] if hit else None

    def describe(self) -> str:
        known = XDNA_PCI_IDS.get(self.pci_id)
        what = known[1] if known else f"PCI {self.pci_id or 'unknown'}"
        return f"{self.name}: {what}, driver {self.driver or 'none'}"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def _uevent(path: Path) -> dict[str, str]:
    out = {}
    for line in _read(path).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def accel_devices(sysfs_root: str | os.PathLike = "/sys", dev_root: str | os.PathLike = "/dev") -> list[AccelDevice]:
    """Every ``/sys/class/accel/accel*`` device with its driver and PCI id."""
    base = Path(sysfs_root) / "class" / "accel"
    found = []
    try:
        entries = sorted(p for p in base.iterdir() if p.name.startswith("accel"))
    except OSError:
        return []
    for entry in entries:
        dev = entry / "device"
        ue = _uevent(dev / "uevent")
        driver = ue.get("DRIVER", "")
        if not driver and (dev / "driver").is_symlink():
            driver = os.path.basename(os.readlink(dev / "driver"))
        pci_id = ue.get("PCI_ID", "").lower()
        if not pci_id:
            vendor, device = _read(dev / "vendor"), _read(dev / "device")
            if vendor and device:
                pci_id = f"{vendor.lower().removeprefix('0x')}:{device.lower().removeprefix('0x')}"
        found.append(
            AccelDevice(
                entry.name,
                driver,
                pci_id,
                ue.get("PCI_SLOT_NAME", ""),
                (Path(dev_root) / "accel" / entry.name).exists(),
            )
        )
    return found


def import_pyxrt(xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT):
    """pyxrt, or None. XRT's setup.sh puts ``<xrt>/python`` on PYTHONPATH; do the same when it exists."""
    try:
        import pyxrt

        return pyxrt
    except ImportError:
        pass
    pydir = Path(xrt_root) / "python"
    if pydir.is_dir() and str(pydir) not in sys.path:
        sys.path.append(str(pydir))
        try:
            import pyxrt

            return pyxrt
        except ImportError:
            return None
    return None


def xrt_version(xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT) -> str:
    """XRT's BUILD_VERSION from ``<xrt>/version.json`` ("" when absent)."""
    try:
        data = json.loads((Path(xrt_root) / "version.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("BUILD_VERSION") or data.get("version") or "")


def kernel_search_dirs() -> list[Path]:
    """Where built kernels are looked for, first hit wins: ``$AMANUENSIS_NPU_KERNELS``, the checkout's
    ``kernels/build``, the app's data folder (``settings.data_dir()``: ``$AMANUENSIS_DATA_DIR``, else the
    platform's user data folder) ``/npu-kernels``, and ``/usr/share/amanuensis/npu-kernels``."""
    from ...settings import data_dir

    dirs = []
    env = os.environ.get(KERNELS_ENV)
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parents[3] / "kernels" / "build")
    dirs.append(data_dir() / "npu-kernels")
    dirs.append(Path("/usr/share/amanuensis/npu-kernels"))
    return dirs


def find_kernels(generation: str, dirs: list[Path] | None = None) -> tuple[Path | None, str]:
    """The first ``<dir>/<generation>`` holding a manifest whose xclbins exist; else (None, why)."""
    why = f"no built kernels for {generation} (run: make -C kernels)"
    for root in dirs if dirs is not None else kernel_search_dirs():
        cand = Path(root) / generation
        mf = cand / "manifest.json"
        if not mf.is_file():
            continue
        try:
            manifest = json.loads(mf.read_text())
            missing = [k for k, e in manifest["kernels"].items() if not (cand / e["xclbin"]).is_file()]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = f"kernel manifest {mf} is unreadable ({exc})"
            continue
        if missing:
            why = f"kernel build in {cand} lacks the xclbin of {', '.join(sorted(missing))}"
            continue
        return cand, ""
    return None, why


@dataclass
class Detection:
    devices: list[AccelDevice] = field(default_factory=list)
    npu: AccelDevice | None = None
    pyxrt: bool = False
    xrt_version: str = ""
    kernels: Path | None = None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.npu is not None and self.pyxrt and self.kernels is not None

    @property
    def generation(self) -> str | None:
        return self.npu.generation if self.npu else None


def detect(
    sysfs_root: str | os.PathLike = "/sys",
    dev_root: str | os.PathLike = "/dev",
    xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT,
    kernel_dirs: list[Path] | None = None,
    pyxrt_probe=None,
) -> Detection:
    """All the evidence, in order; ``reason`` is one sentence saying what is missing (or what was found)."""
    det = Detection(devices=accel_devices(sysfs_root, dev_root))
    amd = [d for d in det.devices if d.generation]
    if not amd:
        others = [d for d in det.devices]
        if others:
            det.reason = "no AMD XDNA NPU (found " + "; ".join(d.describe() for d in others) + ")"
        else:
            det.reason = "no NPU (no /sys/class/accel device)"
        return det
    with_node = [d for d in amd if d.node]
    if not with_node:
        det.reason = f"AMD NPU {amd[0].describe()} has no /dev/accel/{amd[0].name} node"
        return det
    det.npu = with_node[0]
    det.pyxrt = bool((pyxrt_probe or (lambda: import_pyxrt(xrt_root)))())
    det.xrt_version = xrt_version(xrt_root)
    if not det.pyxrt:
        det.reason = (
            f"AMD NPU found ({det.npu.describe()}) but pyxrt is not importable; install XRT with its Python bindings"
        )
        return det
    det.kernels, why = find_kernels(det.npu.generation or "", kernel_dirs)
    if det.kernels is None:
        det.reason = f"AMD NPU found ({det.npu.describe()}) but {why}"
        return det
    det.reason = f"{det.npu.describe()}, XRT {det.xrt_version or 'version unknown'}, kernels in {det.kernels}"
    return det


# --------------------------------------------------------------------------------------------------
# xrt-smi: power mode and power
# --------------------------------------------------------------------------------------------------

_MODE = re.compile(r"^\s*Power Mode\s*:\s*(.*?)\s*$", re.M)
_POWER = re.compile(r"^\s*(?:Estimated\s+)?Power\s*:\s*([0-9]*\.?[0-9]+)\s*(m?W)(?:atts?)?\s*$", re.M | re.I)
_VERSION = re.compile(r"^\s*Version\s*:\s*(\d+\.\d+[\w.]*)\s*$", re.M)
_NAME = re.compile(r"^\s*Name\s*:\s*(.*?)\s*$", re.M)


@dataclass
class XrtSmiReport:
    power_mode: str | None = None
    power_w: float | None = None
    xrt_version: str | None = None
    device_name: str | None = None

    def summary(self) -> str | None:
        if not self.power_mode:
            return None
        if self.power_w is None:
            return self.power_mode
        return f"{self.power_mode} ({self.power_w:.2f} W)"


def parse_xrt_smi(text: str) -> XrtSmiReport:
    """Parse ``xrt-smi examine [-r platform|all]`` text output (XRT 2.17 … 2.21 layouts)."""
    rep = XrtSmiReport()
    m = _MODE.search(text)
    if m and m.group(1) and m.group(1).upper() != "N/A":
        rep.power_mode = m.group(1)
    p = _POWER.search(text)
    if p:
        value = float(p.group(1))
        rep.power_w = value / 1000 if p.group(2).lower() == "mw" else value
    v = _VERSION.search(text)
    if v:
        rep.xrt_version = v.group(1)
    n = _NAME.search(text)
    if n:
        rep.device_name = n.group(1)
    return rep


def find_xrt_smi(xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT) -> str | None:
    exe = shutil.which("xrt-smi")
    if exe:
        return exe
    cand = Path(xrt_root) / "bin" / "xrt-smi"
    return str(cand) if cand.is_file() and os.access(cand, os.X_OK) else None


def xrt_smi_report(xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT, timeout_s: float = 5.0) -> XrtSmiReport | None:
    exe = find_xrt_smi(xrt_root)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "examine", "-r", "platform"], capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.SubprocessError):
        return XrtSmiReport()
    return parse_xrt_smi(out.stdout + "\n" + out.stderr)


def npu_power_mode(xrt_root: str | os.PathLike = DEFAULT_XRT_ROOT) -> str | None:
    """ "Default", "Turbo (1.23 W)" …; None when xrt-smi is absent or reports no power mode."""
    rep = xrt_smi_report(xrt_root)
    return rep.summary() if rep is not None else None
