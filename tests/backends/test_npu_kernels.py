"""The kernels/ tree: layout, the one-sentence failure of `make -C kernels` without the toolchain, the
C++ constants matching the emulator's, and the bench figures."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"


@pytest.mark.parametrize(
    "folder,design,source",
    [
        ("gemm", "gemm.py", "gemm.cc"),
        ("softmax", "softmax.py", "softmax.cc"),
        ("layernorm", "layernorm.py", "layernorm.cc"),
        ("gelu", "bias_gelu.py", "bias_gelu.cc"),
    ],
)
def test_each_kernel_has_design_source_makefile_readme(folder, design, source):
    d = KERNELS / folder
    for name in (design, source, "Makefile", "README.md"):
        assert (d / name).is_file(), d / name
    ast.parse((d / design).read_text())  # valid Python (it can only run where mlir-aie is installed)
    readme = (d / "README.md").read_text()
    assert "1.4.1" in readme and "aiecc.py" in readme


def test_make_without_toolchain_fails_with_one_sentence():
    from importlib.util import find_spec

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if find_spec("aie") is not None and shutil.which("aiecc.py"):
        pytest.skip("the NPU kernel toolchain is installed here")
    res = subprocess.run(["make", "-C", str(KERNELS)], capture_output=True, text=True, timeout=60)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip() and not re.match(r"make(\[\d+\])?: (Entering|Leaving)", ln)]
    assert len(lines) == 1 and "The NPU kernel toolchain is absent" in lines[0], out


def test_cpp_constants_are_the_emulators():
    from amanuensis_desktop.backends.npu import emulator as E

    header = (KERNELS / "common" / "amn_math.h").read_text()
    consts = {
        m.group(1): np.float32(float(m.group(2)))
        for m in re.finditer(r"constexpr float (C\d|LOG2E) = ([0-9.e+-]+)f;", header)
    }
    for i in range(7):
        assert consts[f"C{i}"] == E._EXP2_C[i], i
    assert consts["LOG2E"] == E.LOG2E
    gelu = (KERNELS / "gelu" / "bias_gelu.cc").read_text()
    for value in (*E._A, E._P, E.SQRT1_2):
        assert any(np.float32(float(v)) == value for v in re.findall(r"(-?\d\.\d+)f", gelu)), value


def test_gemm_design_tiles_match_the_host_spec():
    from amanuensis_desktop.backends.npu.spec import DEVICES

    src = (KERNELS / "gemm" / "gemm.py").read_text()
    for gen, spec in DEVICES.items():
        m = re.search(rf'"{gen}": dict\(m=(\d+), k=(\d+), n=(\d+)', src)
        assert m and tuple(map(int, m.groups())) == (spec.gemm.m, spec.gemm.k, spec.gemm.n), gen


def test_bench_reports_npu_flops_and_predicted_time(tmp_path, monkeypatch):
    from amanuensis_desktop.bench import npu as bench

    monkeypatch.setattr(
        bench,
        "_emulated",
        lambda w: {
            "input": "skipped",
            "emulated_encode_s_on_cpu": 0.0,
            "fp32_numpy_encode_s": 0.0,
            "dispatches": 0,
            "feature_rel_rms_error_vs_fp32": 0.0,
            "feature_max_abs_error_vs_fp32": 0.0,
        },
    )
    out = tmp_path / "npu.json"
    assert bench.run(types.SimpleNamespace(json=str(out), npu_emulated=True)) == 0
    report = json.loads(out.read_text())
    g1, g2 = report["per_generation"]
    assert g1["generation"] == "npu1" and abs(g1["npu_gemm_gflop_per_window"] - 36.94) < 0.01
    assert g1["cpu_gemm_gflop_per_window"] == 0
    assert g1["predicted_gemm_ms_at_peak"] == pytest.approx(g1["npu_gemm_gflop_executed_padded"] / 3.1)
    assert g2["predicted_gemm_ms_at_peak"] == pytest.approx(g2["npu_gemm_gflop_executed_padded"] / 14.7)
