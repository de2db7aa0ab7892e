"""NPU detection on recorded sysfs trees (AMD Phoenix, AMD Strix, Intel Meteor Lake, none), the xrt-smi
power parser on recorded output, and probe() never offering the NPU (or the emulator) without hardware."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from amanuensis_desktop.backends.npu import detect as D

DATA = Path(__file__).resolve().parents[1] / "data"
SYSFS = DATA / "sysfs"
SMI = DATA / "xrt_smi"


def tree(name):
    return SYSFS / name / "sys", SYSFS / name / "dev"


def fake_kernels(root: Path, gen: str) -> Path:
    build = root / gen
    kernels = {}
    for k in ("gemm", "softmax", "layernorm", "bias_gelu"):
        (build / k).mkdir(parents=True)
        (build / k / "final.xclbin").write_bytes(b"xclbin2\0")
        kernels[k] = {"xclbin": f"{k}/final.xclbin", "insts": {}}
    (build / "manifest.json").write_text(json.dumps({"format": 1, "device": gen, "kernels": kernels}))
    return root


@pytest.mark.parametrize("name,gen", [("amd_phoenix", "npu1"), ("amd_strix", "npu2")])
def test_amd_trees_are_identified_by_driver_and_pci_id(name, gen, tmp_path):
    devs = D.accel_devices(*tree(name))
    assert len(devs) == 1 and devs[0].driver == "amdxdna" and devs[0].generation == gen and devs[0].node
    # everything present → available
    det = D.detect(
        *tree(name), xrt_root=tmp_path, kernel_dirs=[fake_kernels(tmp_path / "k", gen)], pyxrt_probe=lambda: True
    )
    assert det.available and det.generation == gen, det.reason
    # no pyxrt → unavailable, and the sentence says so
    det = D.detect(*tree(name), xrt_root=tmp_path, kernel_dirs=[], pyxrt_probe=lambda: False)
    assert not det.available and "pyxrt" in det.reason
    # pyxrt but no kernels → unavailable, and the sentence says how to build them
    det = D.detect(*tree(name), xrt_root=tmp_path, kernel_dirs=[tmp_path / "nothing"], pyxrt_probe=lambda: True)
    assert not det.available and "make -C kernels" in det.reason


def test_kernels_of_the_other_generation_do_not_count(tmp_path):
    det = D.detect(
        *tree("amd_phoenix"),
        xrt_root=tmp_path,
        kernel_dirs=[fake_kernels(tmp_path / "k", "npu2")],
        pyxrt_probe=lambda: True,
    )
    assert not det.available and "npu1" in det.reason


def test_intel_npu_is_not_an_amd_npu(tmp_path):
    sys_root, dev_root = tree("intel_meteorlake")
    assert (dev_root / "accel" / "accel0").exists()  # the node alone proves nothing
    det = D.detect(
        sys_root,
        dev_root,
        xrt_root=tmp_path,
        pyxrt_probe=lambda: True,
        kernel_dirs=[fake_kernels(tmp_path / "k", "npu1")],
    )
    assert not det.available
    assert "no AMD XDNA NPU" in det.reason and "intel_vpu" in det.reason


def test_no_npu_at_all(tmp_path):
    det = D.detect(*tree("none"), xrt_root=tmp_path, pyxrt_probe=lambda: True)
    assert not det.available and det.devices == [] and "no NPU" in det.reason


def test_amd_pci_id_with_another_driver_is_refused(tmp_path):
    dev = tmp_path / "sys" / "class" / "accel" / "accel0" / "device"
    dev.mkdir(parents=True)
    (dev / "uevent").write_text("DRIVER=vfio-pci\nPCI_ID=1022:1502\n")
    (tmp_path / "dev" / "accel").mkdir(parents=True)
    (tmp_path / "dev" / "accel" / "accel0").write_text("")
    det = D.detect(tmp_path / "sys", tmp_path / "dev", xrt_root=tmp_path, pyxrt_probe=lambda: True)
    assert not det.available and "vfio-pci" in det.reason


def test_missing_device_node_is_refused(tmp_path):
    sys_root, _ = tree("amd_phoenix")
    det = D.detect(sys_root, tmp_path / "emptydev", xrt_root=tmp_path, pyxrt_probe=lambda: True)
    assert not det.available and "/dev/accel/accel0" in det.reason


def test_xrt_version_from_version_json(tmp_path):
    (tmp_path / "version.json").write_text(json.dumps({"BUILD_VERSION": "2.19.0", "BUILD_BRANCH": "2.19"}))
    assert D.xrt_version(tmp_path) == "2.19.0"
    assert D.xrt_version(tmp_path / "absent") == ""


# --- xrt-smi ------------------------------------------------------------------------------------------


def test_power_mode_parser_on_recorded_output():
    rep = D.parse_xrt_smi((SMI / "phoenix_platform.txt").read_text())
    assert rep.power_mode == "Default" and rep.power_w is None and rep.device_name == "NPU Phoenix"
    assert rep.summary() == "Default"
    rep = D.parse_xrt_smi((SMI / "strix_platform_power.txt").read_text())
    assert rep.power_mode == "Turbo" and rep.power_w == pytest.approx(1.234)
    assert rep.summary() == "Turbo (1.23 W)"
    rep = D.parse_xrt_smi((SMI / "examine_no_platform.txt").read_text())
    assert rep.power_mode is None and rep.xrt_version == "2.19.0" and rep.summary() is None
    assert D.parse_xrt_smi("Power Mode : N/A\n").power_mode is None
    assert D.parse_xrt_smi("Estimated Power : 563 mW\nPower Mode : Default\n").power_w == pytest.approx(0.563)


def test_npu_power_mode_none_without_xrt_smi(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert D.npu_power_mode(xrt_root=tmp_path) is None


def test_npu_power_mode_runs_xrt_smi(monkeypatch, tmp_path):
    exe = tmp_path / "xrt-smi"
    exe.write_text("#!/bin/sh\ncat '%s'\n" % (SMI / "strix_platform_power.txt"))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert D.npu_power_mode(xrt_root=tmp_path / "noxrt") == "Turbo (1.23 W)"


# --- the registry never offers the NPU or the emulator without hardware ----------------------------


def test_probe_unavailable_here_and_never_the_emulator():
    from amanuensis_desktop.backends import npu, probe

    for sysname in ("none", "intel_meteorlake"):
        st = npu.probe(*tree(sysname))
        assert not st.available
    st = probe("npu")  # the real machine: no amdxdna device, or no pyxrt, or no kernels
    if not D.detect().available:
        assert not st.available and st.reason


def test_create_without_hardware_refuses_with_one_sentence():
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.errors import BackendError

    if D.detect().available:
        pytest.skip("a real NPU is present")
    with pytest.raises(BackendError) as err:
        npu.create(weights=None)
    msg = str(err.value)
    assert msg.endswith(".") and "\n" not in msg


def test_kernels_are_searched_in_the_apps_data_folder(tmp_path, monkeypatch):
    """Beside $AMANUENSIS_NPU_KERNELS and the checkout's kernels/build: settings.data_dir()/npu-kernels, so
    $AMANUENSIS_DATA_DIR (and platformdirs) decide, as for the rest of the app's data."""
    monkeypatch.delenv(D.KERNELS_ENV, raising=False)
    monkeypatch.setenv("AMANUENSIS_DATA_DIR", str(tmp_path / "data"))
    dirs = D.kernel_search_dirs()
    assert tmp_path / "data" / "npu-kernels" in dirs
    fake_kernels(tmp_path / "data" / "npu-kernels", "npu2")
    found, why = D.find_kernels("npu2", [d for d in dirs if "kernels/build" not in d.as_posix()])
    assert found == tmp_path / "data" / "npu-kernels" / "npu2" and not why
