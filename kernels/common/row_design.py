"""The data movement shared by the row kernels (softmax, LayerNorm, bias+GELU).

Rows of a row-major fp32 matrix [R, L] are dealt to every compute core (npu1 4x4 = 16, npu2 4x8 = 32):
column c of the array receives the contiguous rows [c*R/cols, (c+1)*R/cols) through its memory tile,
which splits each 4-row object into one row per core of the column; results (bf16 [R, L]) come back the
same way, joined per column. A row is processed whole inside one core, so reductions never cross cores.
Each core's row count (and any kernel parameter) is a runtime parameter: one xclbin per row length L
serves every row count R. Optional constant side inputs (LayerNorm's gamma/beta, GELU's bias) are
broadcast from the memory tile to the cores of a column.
"""

from __future__ import annotations

import numpy as np
from ml_dtypes import bfloat16

from iron_common import (
    ARRAY, MAX_ITER, MAX_QUEUED, ObjectFifo, Program, Runtime, SequentialPlacer, Tile, Worker, barriers, device,
    range_, read_rtps, rtp_buffers, shim_tap, write_rtps_and_release,
)


def row_program(dev: str, name: str, R: int, L: int, kernel, side_len: int, extra_rtp, side_repeat: bool = False,
                seg: int | None = None):
    """``kernel(x_row, [side], y_row, rtp)``-style worker over R rows of length L (or of ``seg``-long
    segments when ``seg`` is set: then a row is L/seg segments and the side input is streamed per segment)."""
    rows, cols = ARRAY[dev]
    cores = rows * cols
    if R % (cores * 1) or (R // cols) % rows:
        raise SystemExit(f"{name}: {R} rows do not divide into {cols} columns of {rows} cores")
    unit = seg or L
    x_obj = np.ndarray[(rows * unit,), np.dtype[np.float32]]
    y_obj = np.ndarray[(rows * unit,), np.dtype[bfloat16]]
    x_core = np.ndarray[(unit,), np.dtype[np.float32]]
    y_core = np.ndarray[(unit,), np.dtype[bfloat16]]
    side_core = np.ndarray[(side_len if not seg else seg,), np.dtype[np.float32]] if side_len else None

    X_l3, X_l1, Y_l3, Y_l1, S_l3, S_l1 = [], [], [], [], [], []
    for c in range(cols):
        fx = ObjectFifo(x_obj, name=f"{name}_X_{c}", depth=2)
        X_l3.append(fx)
        X_l1.append(fx.cons().split([unit * i for i in range(rows)], obj_types=[x_core] * rows,
                                    names=[f"{name}_X_{c}_{i}" for i in range(rows)], placement=Tile(c, 1)))
        fy = ObjectFifo(y_obj, name=f"{name}_Y_{c}", depth=2)
        Y_l3.append(fy)
        Y_l1.append(fy.prod().join([unit * i for i in range(rows)], obj_types=[y_core] * rows,
                                   names=[f"{name}_Y_{c}_{i}" for i in range(rows)], placement=Tile(c, 1)))
        if side_core is not None:
            fs = ObjectFifo(side_core, name=f"{name}_S_{c}", depth=2 if seg else 1)
            S_l3.append(fs)
            S_l1.append(fs.cons().forward(obj_type=side_core, name=f"{name}_S_{c}_l1", placement=Tile(c, 1)))

    rtps = rtp_buffers(rows, cols, 4, name)
    bars = barriers(rows, cols)
    per_core = R // cores
    segs = L // unit

    if side_core is None:
        def core(x_in, y_out, fn, rtp, barrier):
            n, p1 = read_rtps(rtp, barrier, 2)  # waits, reads, hands the barrier back
            for _ in range_(n):
                x = x_in.acquire(1)
                y = y_out.acquire(1)
                fn(x, y, p1)
                x_in.release(1)
                y_out.release(1)
    elif seg:
        def core(x_in, s_in, y_out, fn, rtp, barrier):
            (n,) = read_rtps(rtp, barrier, 1)
            for _ in range_(n):
                x = x_in.acquire(1)
                s = s_in.acquire(1)
                y = y_out.acquire(1)
                fn(x, s, y)
                x_in.release(1)
                s_in.release(1)
                y_out.release(1)
    else:
        def core(x_in, s_in, y_out, fn, rtp, barrier):
            (n,) = read_rtps(rtp, barrier, 1)
            s = s_in.acquire(1)  # constant for the whole dispatch
            for _ in range_(n):
                x = x_in.acquire(1)
                y = y_out.acquire(1)
                fn(x, s, y)
                x_in.release(1)
                y_out.release(1)
            s_in.release(1)

    workers = []
    for i in range(rows):
        for c in range(cols):
            args = [X_l1[c][i].cons()]
            if side_core is not None:
                args.append(S_l1[c].cons())
            args += [Y_l1[c][i].prod(), kernel, rtps[i][c], bars[i][c]]
            workers.append(Worker(core, args, placement=Tile(c, 2 + i)))

    X_ty = np.ndarray[(R * L,), np.dtype[np.float32]]
    Y_ty = np.ndarray[(R * L,), np.dtype[bfloat16]]
    chunk = (R // cols) * L
    types = [X_ty] + ([np.ndarray[(side_len,), np.dtype[np.float32]]] if side_core is not None else []) + [Y_ty]
    rt = Runtime()
    with rt.sequence(*types) as bufs:
        X, Y = bufs[0], bufs[-1]
        units = per_core * segs  # objects each core processes
        write_rtps_and_release(rt, rtps, lambda _i: (units, *extra_rtp))
        for i in range(rows):
            for c in range(cols):
                rt.set_barrier(bars[i][c], 1)
        rt.start(*workers)
        groups = R // cols // rows  # 4-row groups per column
        if seg:
            # objects ordered (row group, segment, core, element): one object = one segment of 4 rows. The
            # row-group count is the outermost BD dimension (at most 64), so a column's rows go in chunks;
            # the bias (side) stream is the whole vector once per row a core processes, also in chunks.
            chunks = [(g0, min(MAX_ITER, groups - g0)) for g0 in range(0, groups, MAX_ITER)]
            side_chunks = [min(MAX_ITER, per_core - r0) for r0 in range(0, per_core, MAX_ITER)]
            if max(len(chunks), len(side_chunks)) > MAX_QUEUED:
                raise SystemExit(f"{name}: {R} rows need more than {MAX_QUEUED} queued transfers per shim channel")

            def taps(c, elem):
                return [shim_tap((R, L), c * chunk + g0 * rows * L, [n_g, segs, rows, seg], [rows * L, seg, L, 1],
                                 elem) for g0, n_g in chunks]
        else:
            side_chunks = [1]

            def taps(c, elem):  # the column's contiguous rows, one linear transfer
                return [shim_tap((R, L), c * chunk, [1, 1, 1, chunk], [0, 0, 0, 1], elem)]

        tg = rt.task_group()
        for c in range(cols):
            for tap in taps(c, 4):
                rt.fill(X_l3[c].prod(), X, tap=tap, task_group=tg, placement=Tile(c, 0))
            if side_core is not None:
                S = bufs[1]
                for reps in side_chunks:
                    stap = shim_tap((1, side_len), 0, [reps, 1, 1, side_len], [0, 0, 0, 1], 4)
                    rt.fill(S_l3[c].prod(), S, tap=stap, task_group=tg, placement=Tile(c, 0))
            for tap in taps(c, 2):
                rt.drain(Y_l3[c].cons(), Y, tap=tap, wait=True, task_group=tg, placement=Tile(c, 0))
        rt.finish_task_group(tg)
    return Program(device(dev), rt).resolve_program(SequentialPlacer())
