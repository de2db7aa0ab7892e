"""Whole-array bf16 GEMM with fp32 accumulation and fp32 output: C[b] = A[b] @ B[b] for b in batch.

Layout (row-major): A bf16 [B, M, K], B bf16 [B, K, N], C fp32 [B, M, N]; M, K, N are multiples of the
blocks m*rows, k, n*cols (the host pads). Every compute core (rows x cols: npu1 4x4, npu2 4x8) owns an
m x n fp32 output tile at a time and walks K in k-deep steps, accumulating in order (kernels/README.md,
"numerics"). A row-blocks are broadcast along a row of cores, B column-tiles along a column; C tiles of a
column are joined in its memory tile.

The core program does not depend on the shape: the number of output tiles and of K-steps per tile are
runtime parameters written by the instruction stream, so one final.xclbin (one hardware context) serves
every Whisper shape and each shape is just an insts.bin. Usage:

    python3 gemm.py --dev npu1 -B 6 -M 1536 -K 64 -N 1536 > aie_gemm_b6_1536x64x1536.mlir
"""

from __future__ import annotations

import os
import sys

import numpy as np
from ml_dtypes import bfloat16

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from iron_common import (  # noqa: E402
    ARRAY, MAX_ITER, Kernel, ObjectFifo, Program, Runtime, SequentialPlacer, Tile, Worker, barriers, base_args,
    device, range_, read_rtps, rtp_buffers, shim_tap, write_rtps_and_release,
)

# Per-core tile and the MAC unit's micro-tile (r x s x t) for bf16.
TILE = {"npu1": dict(m=64, k=64, n=32, r=4, s=8, t=4), "npu2": dict(m=64, k=64, n=16, r=8, s=8, t=8)}
FIFO_DEPTH = 2


def design(dev: str, batch: int, M: int, K: int, N: int):
    rows, cols = ARRAY[dev]
    p = TILE[dev]
    m, k, n, r, s, t = p["m"], p["k"], p["n"], p["r"], p["s"], p["t"]
    if M % (m * rows) or K % k or N % (n * cols):
        raise SystemExit(f"shape {M}x{K}x{N} is not padded to the blocks {m * rows}x{k}x{n * cols}")
    row_blocks = M // (m * rows)
    col_tiles_per_core = N // (n * cols)
    tiles_per_core = batch * row_blocks * col_tiles_per_core

    A_ty = np.ndarray[(batch * M * K,), np.dtype[bfloat16]]
    B_ty = np.ndarray[(batch * K * N,), np.dtype[bfloat16]]
    C_ty = np.ndarray[(batch * M * N,), np.dtype[np.float32]]
    a_tile = np.ndarray[(m, k), np.dtype[bfloat16]]
    b_tile = np.ndarray[(k, n), np.dtype[bfloat16]]
    c_tile = np.ndarray[(m, n), np.dtype[np.float32]]
    c_join = np.ndarray[(rows * m * n,), np.dtype[np.float32]]

    obj = "gemm.o"
    zero = Kernel("amn_zero_f32", obj, [c_tile])
    mac = Kernel("amn_matmul_bf16_f32", obj, [a_tile, b_tile, c_tile])

    # A: one shim->memtile fifo per core row; the memtile re-lays each m x k tile into r x s micro-tiles
    # (the MAC's operand layout) and broadcasts it to every core of that row.
    a_dims = [(m // r, r * k), (k // s, s), (r, k), (s, 1)]
    b_dims = [(k // s, s * n), (n // t, t), (s, n), (t, 1)]
    c_dims = [(m // r, r * n), (r, t), (n // t, r * t), (t, 1)]
    A_l3, A_l1 = [], []
    for i in range(rows):
        f = ObjectFifo(a_tile, name=f"A_L3L2_{i}", depth=FIFO_DEPTH)
        A_l3.append(f)
        A_l1.append(f.cons().forward(obj_type=a_tile, name=f"A_L2L1_{i}", dims_to_stream=a_dims,
                                     placement=Tile(2 * i if cols == 8 else i, 1)))
    B_l3, B_l1, C_l3, C_l1 = [], [], [], [[None] * cols for _ in range(rows)]
    for c in range(cols):
        f = ObjectFifo(b_tile, name=f"B_L3L2_{c}", depth=FIFO_DEPTH)
        B_l3.append(f)
        B_l1.append(f.cons().forward(obj_type=b_tile, name=f"B_L2L1_{c}", dims_to_stream=b_dims,
                                     placement=Tile(c, 1)))
        out = ObjectFifo(c_join, name=f"C_L2L3_{c}", depth=FIFO_DEPTH, dims_to_stream=c_dims)
        C_l3.append(out)
        parts = out.prod().join([m * n * i for i in range(rows)], obj_types=[c_tile] * rows,
                                names=[f"C_L1L2_{c}_{i}" for i in range(rows)], depths=[FIFO_DEPTH] * rows,
                                placement=Tile(c, 1))
        for i in range(rows):
            C_l1[i][c] = parts[i]

    rtps = rtp_buffers(rows, cols, 2, "gemm")
    bars = barriers(rows, cols)

    def core(a_in, b_in, c_out, zero_fn, mac_fn, rtp, barrier):
        n_tiles, k_steps = read_rtps(rtp, barrier, 2)  # waits, reads, hands the barrier back
        for _ in range_(n_tiles):
            acc = c_out.acquire(1)
            zero_fn(acc)
            for _ in range_(k_steps):  # K-blocks in increasing order: the accumulation order the emulator models
                a = a_in.acquire(1)
                b = b_in.acquire(1)
                mac_fn(a, b, acc)
                a_in.release(1)
                b_in.release(1)
            c_out.release(1)

    workers = [Worker(core, [A_l1[i].cons(), B_l1[c].cons(), C_l1[i][c].prod(), zero, mac, rtps[i][c], bars[i][c]],
                      placement=Tile(c, 2 + i))
               for i in range(rows) for c in range(cols)]

    # Shim access patterns over the batch-stacked matrices A [(B*M), K], B [(B*K), N], C [(B*M), N], written
    # out (not through TensorTiler2D: its step_tiler merges the K/k column-major tile group of B into one
    # K-row wrap, which breaks the 1023 d1 limit for every K >= 1024, i.e. most Whisper shapes).
    P = col_tiles_per_core  # output tiles of one core per row block; the outermost BD dimension
    if P > MAX_ITER:
        raise SystemExit(f"N={N} needs {P} column tiles per core; at most {MAX_ITER} fit one shim BD")

    def a_tap(strip):  # core row's m x K strip, re-sent once per output tile (stride-0 repeat)
        return shim_tap((batch * M, K), strip * m * K, [P, K // k, m, k], [0, k, K, 1], 2)

    def b_tap(bi, c):  # for each of the core column's P tiles: the K/k k x n tiles down K
        return shim_tap((batch * K, N), bi * K * N + c * n, [P, K // k, k, n], [n * cols, k * N, N, 1], 2)

    def c_tap(g, c):  # the column's P joined (rows*m) x n blocks of one row block
        return shim_tap((batch * M, N), g * rows * m * N + c * n, [1, P, rows * m, n], [0, n * cols, N, 1], 4)

    rt = Runtime()
    with rt.sequence(A_ty, B_ty, C_ty) as (A, B, C):
        write_rtps_and_release(rt, rtps, lambda _i: (tiles_per_core, K // k))
        for i in range(rows):
            for c in range(cols):
                rt.set_barrier(bars[i][c], 1)
        rt.start(*workers)
        for bi in range(batch):
            for rb in range(row_blocks):
                g = bi * row_blocks + rb
                tg = rt.task_group()  # one row block at a time keeps the shim BD count bounded
                for c in range(cols):
                    if c < rows:
                        rt.fill(A_l3[c].prod(), A, tap=a_tap(g * rows + c), task_group=tg,
                                placement=Tile(2 * c if cols == 8 else c, 0))
                    rt.fill(B_l3[c].prod(), B, tap=b_tap(bi, c), task_group=tg, placement=Tile(c, 0))
                    rt.drain(C_l3[c].cons(), C, tap=c_tap(g, c), wait=True, task_group=tg,
                             placement=Tile(c, 0))
                rt.finish_task_group(tg)
    return Program(device(dev), rt).resolve_program(SequentialPlacer())


def main() -> None:
    ap = base_args("Amanuensis whole-array bf16 GEMM (fp32 accumulate, fp32 out)")
    ap.add_argument("-B", type=int, default=1)
    ap.add_argument("-M", type=int, required=True)
    ap.add_argument("-K", type=int, required=True)
    ap.add_argument("-N", type=int, required=True)
    a = ap.parse_args()
    print(design(a.dev, a.B, a.M, a.K, a.N))


if __name__ == "__main__":
    main()
