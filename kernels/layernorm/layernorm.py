"""LayerNorm over rows: fp32 x [R, D], fp32 gamma/beta [2, D] → bf16 [R, D] (eps 1e-5, Whisper's).
gamma/beta are broadcast once per dispatch to the cores of each column; rows dealt to every core.
The xclbin depends on D (the model width); the row count is a runtime parameter.

    python3 layernorm.py --dev npu1 -R 1536 -D 384 > aie_layernorm_1536x384.mlir
"""

from __future__ import annotations

import os
import sys

import numpy as np
from ml_dtypes import bfloat16

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from iron_common import Kernel, base_args  # noqa: E402
from row_design import row_program  # noqa: E402


def main() -> None:
    ap = base_args("Amanuensis LayerNorm (fp32 in, bf16 out)")
    ap.add_argument("-R", type=int, required=True)
    ap.add_argument("-D", type=int, required=True)
    a = ap.parse_args()
    x = np.ndarray[(a.D,), np.dtype[np.float32]]
    gb = np.ndarray[(2 * a.D,), np.dtype[np.float32]]
    y = np.ndarray[(a.D,), np.dtype[bfloat16]]
    fn = Kernel(f"amn_layernorm_row_{a.D}", "layernorm.o", [x, gb, y])
    print(row_program(a.dev, "layernorm", a.R, a.D, fn, 2 * a.D, ()))


if __name__ == "__main__":
    main()
