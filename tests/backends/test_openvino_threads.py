"""CPU thread settings of the compiled parts (docs/decisions/busy_core.md): threads not pinned to cores."""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest

from amanuensis_desktop.backends.openvino import devices

PARTS = ("encoder", "cross", "decoder")


@pytest.mark.parametrize("precision", ["int8", "f16", "f32"])
def test_cpu_parts_are_compiled_with_unpinned_threads(precision):
    for part in PARTS:
        assert devices.compile_config("CPU", precision, part)["ENABLE_CPU_PINNING"] == "NO"
    for device in ("GPU", "GPU.1", "NPU"):
        assert "ENABLE_CPU_PINNING" not in devices.compile_config(device, precision, "decoder")


def test_openvino_applies_the_cpu_properties():
    # A real compile of a one-operation model with every part's properties: OpenVINO accepts them, reports the
    # threads unpinned and uses as many threads as with the plugin's defaults.
    x = ov.opset13.parameter([1, 8], ov.Type.f32)
    model = ov.Model([ov.opset13.relu(x)], [x])
    core = ov.Core()
    default = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    assert default.get_property("ENABLE_CPU_PINNING") is True  # the plugin's default, which compile_config overrides
    for part in PARTS:
        compiled = core.compile_model(model, "CPU", devices.compile_config("CPU", "int8", part))
        assert compiled.get_property("ENABLE_CPU_PINNING") is False
        assert compiled.get_property("INFERENCE_NUM_THREADS") == default.get_property("INFERENCE_NUM_THREADS")
        out = compiled(np.array([[-1.0, 2.0] * 4], np.float32))[0]
        assert out.tolist() == [[0.0, 2.0] * 4]
