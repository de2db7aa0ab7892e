"""System power readings for the status bar: what the OS really exposes, never an invented number.

Sources, in order of preference:

* a discharging battery's ``power_now`` (µW), or ``current_now`` (µA) x ``voltage_now`` (µV): while the
  machine runs on battery this *is* the system draw;
* RAPL ``energy_uj`` counters under ``/sys/class/powercap`` (the ``psys`` platform domain when present,
  otherwise the sum of the CPU packages): a rate from two readings, so the first reading only primes it;
* nothing: ``watts`` is ``None`` and ``reason`` says why (no battery, battery charging, RAPL root-only...).

AC or battery comes from ``/sys/class/power_supply/*/online`` (Mains/USB) and the battery ``status``. The NPU
power mode comes from ``amanuensis_desktop.backends.npu.detect.npu_power_mode()`` (xrt-smi), when installed.

No Qt here. ``root`` lets tests point the reader at a recorded sysfs tree.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PowerReading", "PowerMeter", "read_power"]

logger = logging.getLogger(__name__)


@dataclass
class PowerReading:
    watts: float | None  # system (or CPU package) draw; None when nothing is readable
    source: str  # "battery", "rapl psys", "rapl package", "" when none
    on_ac: bool | None  # True = mains, False = battery, None = unknown
    npu_mode: str | None  # NPU power mode from xrt-smi, None when no NPU tool
    reason: str  # why watts is None ("" otherwise)

    @property
    def power_text(self) -> str:
        if self.watts is None:
            return "n/a"
        return f"{self.watts:.1f} W"

    @property
    def supply_text(self) -> str:
        return {True: "AC", False: "battery", None: "supply unknown"}[self.on_ac]

    def summary(self) -> str:
        """One short line for the status bar, e.g. "7.4 W · battery · NPU balanced"."""
        parts = [self.power_text, self.supply_text]
        if self.npu_mode:
            parts.append(f"NPU {self.npu_mode}")
        return " · ".join(parts)

    def details(self) -> str:
        """The tooltip: where each figure comes from, or why it is missing."""
        if self.watts is None:
            lines = [f"Power: n/a — {self.reason}"]
        else:
            what = {
                "battery": "system draw from the battery",
                "rapl psys": "platform power from RAPL (psys)",
                "rapl package": "CPU package power from RAPL (not the whole system)",
            }.get(self.source, self.source)
            lines = [f"Power: {self.watts:.2f} W — {what}"]
        lines.append(f"Supply: {self.supply_text}")
        lines.append(
            f"NPU power mode: {self.npu_mode}" if self.npu_mode else "NPU power mode: n/a (xrt-smi not found or no NPU)"
        )
        return "\n".join(lines)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _default_npu_mode() -> str | None:
    from .backends.npu.detect import npu_power_mode

    try:
        return npu_power_mode()
    except Exception:  # xrt-smi output we cannot parse: the status bar shows n/a rather than failing
        logger.debug("reading the NPU power mode failed", exc_info=True)
        return None


class PowerMeter:
    """Reads the power figures under ``root``; keeps the previous RAPL reading to turn energy into a rate."""

    def __init__(
        self,
        root: str | Path = "/",
        *,
        clock: Callable[[], float] = time.monotonic,
        npu_mode: Callable[[], str | None] | None = _default_npu_mode,
        npu_interval: float = 30.0,
    ):
        self.root = Path(root)
        self.clock = clock
        self.npu_mode = npu_mode
        self.npu_interval = npu_interval  # xrt-smi is a subprocess: ask it at most this often
        self._npu_cache: tuple[float, str | None] | None = None
        self._rapl_prev: tuple[float, dict[str, int]] | None = None

    def _npu(self) -> str | None:
        if self.npu_mode is None:
            return None
        now = self.clock()
        if self._npu_cache is None or now - self._npu_cache[0] >= self.npu_interval:
            self._npu_cache = (now, self.npu_mode())
        return self._npu_cache[1]

    # -- power supplies -------------------------------------------------------------------------------------
    def _supplies(self) -> list[Path]:
        base = self.root / "sys" / "class" / "power_supply"
        try:
            return sorted(p for p in base.iterdir() if p.is_dir())
        except OSError:
            return []

    def _battery(self, supplies: list[Path]) -> tuple[float | None, bool | None, str]:
        """(discharge watts, on_battery, reason) over all batteries."""
        batteries = [
            p for p in supplies if (_read(p / "type") or "").lower() == "battery" and _read(p / "scope") != "Device"
        ]  # skip mice/keyboards with batteries
        if not batteries:
            return None, None, "no battery"
        total, any_discharging, readable = 0.0, False, False
        statuses = []
        for bat in batteries:
            status = _read(bat / "status") or "Unknown"
            statuses.append(status.lower())
            watts = None
            power_now = _read_int(bat / "power_now")
            if power_now is not None:
                watts = abs(power_now) / 1e6
            else:
                cur, volt = _read_int(bat / "current_now"), _read_int(bat / "voltage_now")
                if cur is not None and volt is not None:
                    watts = abs(cur) * volt / 1e12
            if watts is not None:
                readable = True
            if status.lower() == "discharging":
                any_discharging = True
                if watts is not None:
                    total += watts
        on_battery = True if any_discharging else (False if statuses else None)
        if any_discharging and readable:
            return total, True, ""
        if any_discharging:
            return None, True, "the battery reports neither power_now nor current_now/voltage_now"
        state = statuses[0] if statuses else "unknown"
        return None, on_battery, f"the battery is {state}, so its reading is not the system draw"

    def _mains_online(self, supplies: list[Path]) -> bool | None:
        seen = False
        for p in supplies:
            kind = (_read(p / "type") or "").lower()
            if kind in ("mains", "usb", "usb_c", "usb_pd", "wireless"):
                online = _read_int(p / "online")
                if online is None:
                    continue
                seen = True
                if online:
                    return True
        return False if seen else None

    # -- RAPL -----------------------------------------------------------------------------------------------
    def _rapl_domains(self) -> tuple[dict[str, int], str, str]:
        """Readable top-level energy counters (name -> µJ), their kind, and why none when empty."""
        base = self.root / "sys" / "class" / "powercap"
        try:
            zones = sorted(p for p in base.iterdir() if p.name.count(":") == 1)
        except OSError:
            return {}, "", "no RAPL energy counters"
        if not zones:
            return {}, "", "no RAPL energy counters"
        names = {z: (_read(z / "name") or z.name) for z in zones}
        psys = [z for z in zones if names[z] == "psys"]
        chosen, kind = (psys, "rapl psys") if psys else ([z for z in zones if names[z] != "psys"], "rapl package")
        values, unreadable = {}, False
        for z in chosen:
            v = _read_int(z / "energy_uj")
            if v is None:
                unreadable = True
                continue
            values[str(z)] = v
        if not values:
            why = "RAPL energy counters are not readable (root only)" if unreadable else "no RAPL energy counters"
            return {}, "", why
        return values, kind, ""

    def _rapl_watts(self) -> tuple[float | None, str, str]:
        values, kind, why = self._rapl_domains()
        if not values:
            self._rapl_prev = None
            return None, "", why
        now = self.clock()
        prev, self._rapl_prev = self._rapl_prev, (now, values)
        if prev is None or set(prev[1]) != set(values):
            return None, kind, "measuring (RAPL needs two readings)"
        dt = now - prev[0]
        if dt <= 0:
            return None, kind, "measuring (RAPL needs two readings)"
        joules = 0.0
        for key, value in values.items():
            delta = value - prev[1][key]
            if delta < 0:  # the counter wrapped
                wrap = _read_int(Path(key) / "max_energy_range_uj")
                if not wrap:
                    return None, kind, "the RAPL counter wrapped; measuring again"
                delta += wrap
            joules += delta / 1e6
        return joules / dt, kind, ""

    # -- everything -----------------------------------------------------------------------------------------
    def read(self) -> PowerReading:
        supplies = self._supplies()
        bat_watts, on_battery, bat_reason = self._battery(supplies)
        mains = self._mains_online(supplies)
        if mains is not None:
            on_ac: bool | None = mains
        elif on_battery is not None:
            on_ac = not on_battery
        else:
            on_ac = None
        npu = self._npu()
        rapl_watts, rapl_kind, rapl_reason = self._rapl_watts()  # always sampled, to keep the rate primed
        if bat_watts is not None:
            return PowerReading(bat_watts, "battery", on_ac, npu, "")
        if rapl_watts is not None:
            return PowerReading(rapl_watts, rapl_kind, on_ac, npu, "")
        reasons = [r for r in (bat_reason, rapl_reason) if r]
        return PowerReading(None, "", on_ac, npu, "; ".join(reasons) or "no readable power sensor")


def read_power(root: str | Path = "/") -> PowerReading:
    """One reading (RAPL needs two, so a one-off reading reports only battery power)."""
    return PowerMeter(root).read()
