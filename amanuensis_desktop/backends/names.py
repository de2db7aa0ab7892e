"""The names a user types for backends and precisions: one home for each set."""

from __future__ import annotations

from enum import StrEnum


class BackendName(StrEnum):
    """``--backend`` values. The order of the concrete ones is the preference order of "auto"."""

    AUTO = "auto"
    NPU = "npu"
    OPENVINO = "openvino"
    CPU = "cpu"


#: the concrete backends, fastest honest first (what "auto" tries)
PREFERENCE: tuple[BackendName, ...] = (BackendName.NPU, BackendName.OPENVINO, BackendName.CPU)
#: what the NPU backend's decoder (and a failed encoder) runs on: "auto" without the NPU
FALLBACK_ORDER: tuple[BackendName, ...] = (BackendName.OPENVINO, BackendName.CPU)


class Precision(StrEnum):
    """Weight formats of the OpenVINO graphs (``--precision``)."""

    INT8 = "int8"
    F16 = "f16"
    F32 = "f32"


DEFAULT_PRECISION = Precision.INT8
PRECISIONS: tuple[str, ...] = tuple(p.value for p in Precision)
