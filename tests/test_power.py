"""The power indicator reads recorded sysfs trees: real figures where exposed, "n/a" with a reason elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from amanuensis_desktop.power import PowerMeter, read_power

DATA = Path(__file__).parent / "data" / "power"


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def meter(root, clock=None, npu=None):
    return PowerMeter(root, clock=clock or Clock(), npu_mode=lambda: npu)


def test_battery_power_now():
    r = meter(DATA / "battery_power_now").read()
    assert r.watts == pytest.approx(7.4)
    assert r.source == "battery" and r.on_ac is False
    assert r.summary() == "7.4 W · battery"
    assert "system draw from the battery" in r.details()


def test_battery_current_times_voltage_ignores_device_batteries():
    r = meter(DATA / "battery_current_voltage").read()
    assert r.watts == pytest.approx(0.85 * 12.0)  # the mouse's battery (scope Device) is not counted
    assert r.on_ac is False


def test_ac_only_rapl_rate_from_two_readings(tmp_path):
    root = tmp_path / "sys_root"
    shutil.copytree(DATA / "ac_only_rapl", root)
    clock = Clock()
    m = meter(root, clock, npu="balanced")
    first = m.read()
    assert first.watts is None and "two readings" in first.reason
    assert first.on_ac is True and first.summary() == "n/a · AC · NPU balanced"
    counter = root / "sys/class/powercap/intel-rapl:0/energy_uj"
    counter.write_text(str(1_000_000_000 + 12_500_000) + "\n")  # 12.5 J
    clock.t += 2.5
    second = m.read()
    assert second.watts == pytest.approx(5.0)
    assert second.source == "rapl package" and "not the whole system" in second.details()
    assert second.summary() == "5.0 W · AC · NPU balanced"
    # the counter wraps at max_energy_range_uj
    counter.write_text("500000\n")
    clock.t += 1.0
    wrapped = m.read()
    expected = (262143328850 - 1_012_500_000 + 500_000) / 1e6
    assert wrapped.watts == pytest.approx(expected)


def test_rapl_not_readable_says_why(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file; the permission case cannot be recorded")
    root = tmp_path / "sys_root"
    shutil.copytree(DATA / "ac_only_rapl", root)
    (root / "sys/class/powercap/intel-rapl:0/energy_uj").chmod(0)
    r = meter(root).read()
    assert r.watts is None and "root only" in r.reason


def test_rapl_unreadable_counter_treated_as_missing(tmp_path):
    root = tmp_path / "sys_root"
    shutil.copytree(DATA / "ac_only_rapl", root)
    (root / "sys/class/powercap/intel-rapl:0/energy_uj").unlink()  # what an unreadable counter looks like
    r = meter(root).read()
    assert r.watts is None and "RAPL" in r.reason and r.on_ac is True


def test_charging_battery_is_not_system_draw(tmp_path):
    root = tmp_path / "sys_root"
    shutil.copytree(DATA / "battery_power_now", root)
    supply = root / "sys/class/power_supply"
    (supply / "BAT0/status").write_text("Charging\n")
    (supply / "AC/online").write_text("1\n")
    r = meter(root).read()
    assert r.watts is None and "charging" in r.reason
    assert r.on_ac is True and r.summary().startswith("n/a · AC")


def test_nothing_readable():
    r = meter(DATA / "none").read()
    assert r.watts is None and r.on_ac is None
    assert r.summary() == "n/a · supply unknown"
    assert "no battery" in r.reason and "no RAPL" in r.reason
    assert "n/a" in r.details()


def test_missing_root_and_real_machine_never_raise(tmp_path):
    assert read_power(tmp_path / "does-not-exist").watts is None
    r = read_power("/")  # whatever this machine exposes; must not raise or invent
    assert r.watts is None or r.watts >= 0
    assert r.watts is not None or r.reason


def test_npu_mode_is_asked_at_most_every_interval():
    calls = []
    clock = Clock()

    def mode():
        calls.append(clock.t)
        return "performance"

    m = PowerMeter(DATA / "none", clock=clock, npu_mode=mode, npu_interval=30.0)
    assert m.read().npu_mode == "performance"
    clock.t += 10
    m.read()
    assert len(calls) == 1
    clock.t += 25
    assert m.read().summary() == "n/a · supply unknown · NPU performance"
    assert len(calls) == 2


def test_no_xrt_smi_means_no_npu_mode():
    from amanuensis_desktop.backends.npu.detect import find_xrt_smi
    from amanuensis_desktop.power import _default_npu_mode

    if find_xrt_smi() is not None:
        pytest.skip("this machine has xrt-smi, so it may report a power mode")
    assert _default_npu_mode() is None
    assert PowerMeter(DATA / "none").read().details().endswith("NPU power mode: n/a (xrt-smi not found or no NPU)")
