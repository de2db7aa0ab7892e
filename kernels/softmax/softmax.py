"""Row softmax: fp32 scores [R, L] → bf16 probabilities [R, L], over the first ``valid`` columns (the rest
written as 0, so padded keys get no attention). One row per core at a time; rows dealt to every core.
``valid`` and the per-core row count are runtime parameters; the xclbin depends only on L.

    python3 softmax.py --dev npu1 -R 9216 -L 1536 --valid 1500 > aie_softmax_9216x1536_v1500.mlir
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
    ap = base_args("Amanuensis row softmax (fp32 in, bf16 out)")
    ap.add_argument("-R", type=int, required=True)
    ap.add_argument("-L", type=int, required=True)
    ap.add_argument("--valid", type=int, required=True)
    a = ap.parse_args()
    x = np.ndarray[(a.L,), np.dtype[np.float32]]
    y = np.ndarray[(a.L,), np.dtype[bfloat16]]
    fn = Kernel(f"amn_softmax_row_{a.L}", "softmax.o", [x, y, np.int32])
    print(row_program(a.dev, "softmax", a.R, a.L, fn, 0, (a.valid,)))


if __name__ == "__main__":
    main()
