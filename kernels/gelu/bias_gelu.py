"""Bias + exact (erf) GELU: fp32 x [R, D], fp32 bias [D] → bf16 gelu(x + bias) [R, D].
Element-wise, so rows are cut into 128-element segments; the bias is streamed segment by segment
alongside (repeated for every row), and one xclbin serves every D and R (both runtime/instruction-stream
properties). Used after conv1, conv2 and every fc1.

    python3 bias_gelu.py --dev npu1 -R 1536 -D 1536 > aie_bias_gelu_1536x1536.mlir
"""

from __future__ import annotations

import os
import sys

import numpy as np
from ml_dtypes import bfloat16

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from iron_common import Kernel, base_args  # noqa: E402
from row_design import row_program  # noqa: E402

SEG = 128


def main() -> None:
    ap = base_args("Amanuensis bias + GELU (fp32 in, bf16 out)")
    ap.add_argument("-R", type=int, required=True)
    ap.add_argument("-D", type=int, required=True)
    a = ap.parse_args()
    if a.D % SEG:
        raise SystemExit(f"D={a.D} is not a multiple of the {SEG}-element segment")
    x = np.ndarray[(SEG,), np.dtype[np.float32]]
    b = np.ndarray[(SEG,), np.dtype[np.float32]]
    y = np.ndarray[(SEG,), np.dtype[bfloat16]]
    fn = Kernel("amn_bias_gelu_seg", "bias_gelu.o", [x, b, y])
    print(row_program(a.dev, "bias_gelu", a.R, a.D, fn, a.D, (), seg=SEG))


if __name__ == "__main__":
    main()
