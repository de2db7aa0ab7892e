"""Host side of the NPU encoder: weights packed once, buffers allocated once, Whisper's shapes padded into
the kernels' blocks, one dispatch per whole matrix.

Per 30 s window (tiny: 1500 frames → padded to 1536 rows), the NPU runs

* conv1 and conv2 as GEMMs over host-built im2col matrices, each followed by the bias+GELU row kernel;
* per layer: LayerNorm → fused Q/K/V GEMM → batched (all heads, one dispatch) QKᵀ → row softmax →
  batched P·V → output projection → LayerNorm → fc1 → bias+GELU → fc2.

What stays on the CPU, and why:

* the residual stream and the bias/residual adds (fp32, O(T·d)): keeping the residual in fp32 is what
  keeps 4–32 layers of bf16 GEMMs accurate, and the adds are memory-bound work the host does anyway
  while it unpacks the fp32 GEMM outputs (a dispatch would cost more than the add);
* layout only work: im2col, head split/merge, padding, fp32→bf16 packing (O(T·d), no FLOPs to speak of);
* the final ``ln_post`` (one 1500×384 LayerNorm): its output is the encoder's fp32 result handed to the
  decoder, and a bf16-output NPU kernel would round it for no measurable time gain.

The 1/√64 attention scale is folded into W_q and b_q (a power of two: exact in bf16).
"""

from __future__ import annotations

import numpy as np

from ...whisper.model import N_HEAD_DIM, Weights
from ..numpy_backend import layer_norm
from .bf16 import from_bf16_bits, to_bf16_bits
from .device import Buffer, Device, NpuNumericsError
from .spec import DeviceSpec, EncoderPlan, encoder_plan

F32 = np.float32
U16 = np.uint16


def _pad2(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), F32)
    out[: a.shape[0], : a.shape[1]] = a
    return out


class _Layer:
    """One encoder block's device buffers (filled by :class:`NpuEncoder`)."""

    w_qkv: Buffer
    b_qkv: np.ndarray
    w_out: Buffer
    b_out: np.ndarray
    ln1: Buffer
    ln2: Buffer
    w_fc1: Buffer
    b_fc1: Buffer
    w_fc2: Buffer
    b_fc2: np.ndarray


class NpuEncoder:
    """The encoder of one Whisper model on one :class:`Device`."""

    def __init__(self, weights: Weights, device: Device, spec: DeviceSpec, timeout_s: float = 10.0):
        self.dims = dims = weights.dims
        self.device = device
        self.spec = spec
        self.timeout_s = timeout_s
        d, h = dims.n_audio_state, dims.n_audio_head
        if d % N_HEAD_DIM or d % spec.gemm.k:
            raise ValueError(f"model width {d} is not a multiple of {spec.gemm.k}")
        self.d, self.h = d, h
        self.dn = spec.pad_n(d)
        self.ffn = 4 * d
        self.ffn_p = spec.pad_n(self.ffn)
        self.k1 = spec.pad_k(3 * dims.n_mels)
        self.k2 = spec.pad_k(3 * d)
        w = weights

        def weight(mat: np.ndarray, k_rows: int, n_cols: int) -> Buffer:
            """A constant GEMM B operand ``[K, N]``, bf16, uploaded once."""
            buf = device.buffer((1, k_rows, n_cols), U16)
            buf.array[0] = to_bf16_bits(_pad2(mat, k_rows, n_cols))
            buf.host_wrote()
            return buf

        def vec(v: np.ndarray, n: int) -> Buffer:
            buf = device.buffer((n,), F32)
            buf.array[: v.shape[0]] = v
            buf.host_wrote()
            return buf

        def gamma_beta(prefix: str) -> Buffer:
            buf = device.buffer((2, d), F32)
            buf.array[0] = w.f32(prefix + ".weight")
            buf.array[1] = w.f32(prefix + ".bias")
            buf.host_wrote()
            return buf

        c1w, c2w = w.f32("encoder.conv1.weight"), w.f32("encoder.conv2.weight")
        self.w_conv1 = weight(c1w.reshape(d, -1).T, self.k1, self.dn)
        self.b_conv1 = vec(w.f32("encoder.conv1.bias"), self.dn)
        self.w_conv2 = weight(c2w.reshape(d, -1).T, self.k2, self.dn)
        self.b_conv2 = vec(w.f32("encoder.conv2.bias"), self.dn)
        self.pos = w.f32("encoder.positional_embedding")
        self.ln_post = (w.f32("encoder.ln_post.weight"), w.f32("encoder.ln_post.bias"))
        scale = F32(N_HEAD_DIM**-0.5)
        self.layers: list[_Layer] = []
        for i in range(dims.n_audio_layer):
            p = f"encoder.blocks.{i}"
            L = _Layer()
            wq = w.f32(f"{p}.attn.query.weight") * scale
            wk, wv = w.f32(f"{p}.attn.key.weight"), w.f32(f"{p}.attn.value.weight")
            L.w_qkv = weight(np.concatenate([wq, wk, wv]).T, d, spec.pad_n(3 * d))
            bq = w.f32(f"{p}.attn.query.bias") * scale
            bk = w.f32(f"{p}.attn.key.bias") if f"{p}.attn.key.bias" in w else np.zeros(d, F32)
            L.b_qkv = np.concatenate([bq, bk, w.f32(f"{p}.attn.value.bias")]).astype(F32)
            L.w_out = weight(w.f32(f"{p}.attn.out.weight").T, d, self.dn)
            L.b_out = w.f32(f"{p}.attn.out.bias")
            L.ln1 = gamma_beta(f"{p}.attn_ln")
            L.ln2 = gamma_beta(f"{p}.mlp_ln")
            L.w_fc1 = weight(w.f32(f"{p}.mlp.0.weight").T, d, self.ffn_p)
            L.b_fc1 = vec(w.f32(f"{p}.mlp.0.bias"), self.ffn_p)
            L.w_fc2 = weight(w.f32(f"{p}.mlp.2.weight").T, self.ffn_p, self.dn)
            L.b_fc2 = w.f32(f"{p}.mlp.2.bias")
            self.layers.append(L)
        self._windows: dict[int, tuple[EncoderPlan, dict[str, Buffer]]] = {}
        self._rng = np.random.default_rng(7)

    # ----------------------------------------------------------------------------------------------

    def plan(self, n_frames: int) -> EncoderPlan:
        dm = self.dims
        return encoder_plan(self.spec, dm.n_mels, dm.n_audio_state, dm.n_audio_head, dm.n_audio_layer, n_frames)

    def missing(self, n_frames: int) -> list[str]:
        """Instruction streams this window size needs that the device does not have."""
        return sorted({c.key for c in self.plan(n_frames).calls if not self.device.has(c.kernel, c.key)})

    def _window(self, n_frames: int):
        """Plan and activation buffers for one window size, allocated once and reused."""
        got = self._windows.get(n_frames)
        if got is not None:
            return got
        sp, dev = self.spec, self.device
        fp, tp = sp.pad_t(n_frames), sp.pad_t(n_frames // 2)
        h, d = self.h, self.d
        nv = sp.pad_n(N_HEAD_DIM)
        b = {
            "a_conv1": dev.buffer((1, fp, self.k1), U16),
            "c_conv1": dev.buffer((1, fp, self.dn), F32),
            "g_conv1": dev.buffer((fp, self.dn), U16),
            "a_conv2": dev.buffer((1, tp, self.k2), U16),
            "c_conv2": dev.buffer((1, tp, self.dn), F32),
            "g_conv2": dev.buffer((tp, self.dn), U16),
            "x": dev.buffer((tp, d), F32),  # fp32 residual stream
            "ln": dev.buffer((1, tp, d), U16),  # LayerNorm out = A of QKV / fc1
            "qkv": dev.buffer((1, tp, sp.pad_n(3 * d)), F32),
            "q": dev.buffer((h, tp, N_HEAD_DIM), U16),
            "kt": dev.buffer((h, N_HEAD_DIM, tp), U16),
            "v": dev.buffer((h, tp, nv), U16),
            "s": dev.buffer((h, tp, tp), F32),  # scores; softmax input [h*tp, tp]
            "p": dev.buffer((h, tp, tp), U16),  # probabilities; A of P·V
            "o": dev.buffer((h, tp, nv), F32),
            "merged": dev.buffer((1, tp, d), U16),
            "proj": dev.buffer((1, tp, self.dn), F32),
            "h1": dev.buffer((1, tp, self.ffn_p), F32),
            "g1": dev.buffer((1, tp, self.ffn_p), U16),
        }
        got = (self.plan(n_frames), b)
        self._windows[n_frames] = got
        return got

    def _spot_check(self, call, args: list[Buffer]) -> None:
        """Recompute 4 random output rows of the dispatch that just ran with the emulator and hold them to
        the self-test bounds, so a kernel that starts returning zeros or garbage mid-session is caught in
        the window where it happens (cost: a few thousand MACs per check on the CPU)."""
        from .emulator import bias_gelu_rows, gemm_f32, layernorm_rows, softmax_rows
        from .selftest import compare
        from .spec import gelu_key, gemm_key, layernorm_key, parse_key, softmax_key

        kind, shape = parse_key(call.key)
        rng = self._rng
        if kind == "gemm":
            nb, m, k, n = shape
            bi = int(rng.integers(nb))
            rows = np.sort(rng.choice(m, size=4, replace=False))
            a = args[0].host_view().reshape(nb, m, k)[bi, rows][None]
            w = args[1].array.reshape(nb, k, n)[bi : bi + 1]
            got = args[2].host_view().reshape(nb, m, n)[bi, rows]
            expect = gemm_f32(a, w, self.spec.gemm.k)[0]
            problem = compare("gemm", gemm_key(1, 4, k, n), [a, w], got, expect)
        else:
            r, length = shape[0], shape[1]
            rows = np.sort(rng.choice(r, size=4, replace=False))
            x = args[0].host_view().reshape(r, length)[rows]
            got = args[-1].host_view().reshape(r, length)[rows]
            if kind == "softmax":
                expect, key = softmax_rows(x, shape[2]), softmax_key(4, length, shape[2])
            elif kind == "layernorm":
                gb = args[1].array.reshape(2, length)
                expect, key = layernorm_rows(x, gb[0], gb[1]), layernorm_key(4, length)
            else:
                expect, key = bias_gelu_rows(x, args[1].array.reshape(-1)[:length]), gelu_key(4, length)
            problem = compare(kind, key, [x], got, to_bf16_bits(expect))
        if problem:
            raise NpuNumericsError(f"spot check of {call.what} failed: {problem}")

    def _run(self, call_iter, args: list[Buffer], check: bool = False) -> None:
        call = next(call_iter)
        self.device.run(call.kernel, call.key, args, self.timeout_s)
        if check and self.device.kind != "emulator":
            self._spot_check(call, args)

    def encode(self, mel: np.ndarray) -> np.ndarray:
        mel = np.asarray(mel, F32)
        n_mels, n_frames = mel.shape
        t = n_frames // 2
        plan, b = self._window(n_frames)
        d, h = self.d, self.h
        # Calls are issued in plan order; per-layer calls repeat for every layer.
        front = [c for c in plan.calls if not c.per_layer]
        layer_calls = [c for c in plan.calls if c.per_layer]
        fi = iter(front)

        # conv1: im2col [F, n_mels*3] (c_in major, tap minor, matching weight.reshape(d, -1))
        xp = np.pad(mel, ((0, 0), (1, 1)))
        cols = np.lib.stride_tricks.sliding_window_view(xp, 3, axis=1)  # [c_in, F, 3]
        a1 = b["a_conv1"].array[0]
        a1[:n_frames, : 3 * n_mels] = to_bf16_bits(cols.transpose(1, 0, 2).reshape(n_frames, 3 * n_mels))
        b["a_conv1"].host_wrote()
        self._run(fi, [b["a_conv1"], self.w_conv1, b["c_conv1"]], True)
        self._run(fi, [b["c_conv1"], self.b_conv1, b["g_conv1"]], True)

        # conv2 (stride 2): im2col straight on the bf16 bit patterns (no re-rounding)
        g1 = b["g_conv1"].host_view()[:n_frames, :d]
        gp = np.zeros((d, n_frames + 2), U16)
        gp[:, 1:-1] = g1.T
        cols = np.lib.stride_tricks.sliding_window_view(gp, 3, axis=1)[:, ::2][:, :t]  # [d, T, 3]
        a2 = b["a_conv2"].array[0]
        a2[:t, : 3 * d] = cols.transpose(1, 0, 2).reshape(t, 3 * d)
        b["a_conv2"].host_wrote()
        self._run(fi, [b["a_conv2"], self.w_conv2, b["c_conv2"]], True)
        self._run(fi, [b["c_conv2"], self.b_conv2, b["g_conv2"]], True)

        x = b["x"].array
        x[:t] = from_bf16_bits(b["g_conv2"].host_view()[:t, :d]) + self.pos[:t]
        b["x"].host_wrote()

        # Every kernel shape of a layer is spot-checked once per window, in a layer drawn at random.
        checked = int(self._rng.integers(len(self.layers)))
        for i, L in enumerate(self.layers):
            li = iter(layer_calls)
            chk = i == checked
            self._run(li, [b["x"], L.ln1, b["ln"]], chk)
            self._run(li, [b["ln"], L.w_qkv, b["qkv"]], chk)
            qkv = b["qkv"].host_view()[0, :t, : 3 * d] + L.b_qkv
            q = qkv[:, :d].reshape(t, h, N_HEAD_DIM).transpose(1, 0, 2)
            k = qkv[:, d : 2 * d].reshape(t, h, N_HEAD_DIM).transpose(1, 2, 0)
            v = qkv[:, 2 * d :].reshape(t, h, N_HEAD_DIM).transpose(1, 0, 2)
            b["q"].array[:, :t] = to_bf16_bits(q)
            b["kt"].array[:, :, :t] = to_bf16_bits(k)
            b["v"].array[:, :t, :N_HEAD_DIM] = to_bf16_bits(v)
            for name in ("q", "kt", "v"):
                b[name].host_wrote()
            self._run(li, [b["q"], b["kt"], b["s"]], chk)
            self._run(li, [b["s"], b["p"]], chk)
            self._run(li, [b["p"], b["v"], b["o"]], chk)
            o = b["o"].host_view()[:, :t, :N_HEAD_DIM].transpose(1, 0, 2).reshape(t, d)
            b["merged"].array[0, :t] = to_bf16_bits(o)
            b["merged"].host_wrote()
            self._run(li, [b["merged"], L.w_out, b["proj"]], chk)
            x[:t] += b["proj"].host_view()[0, :t, :d] + L.b_out
            b["x"].host_wrote()
            self._run(li, [b["x"], L.ln2, b["ln"]], chk)
            self._run(li, [b["ln"], L.w_fc1, b["h1"]], chk)
            self._run(li, [b["h1"], L.b_fc1, b["g1"]], chk)
            self._run(li, [b["g1"], L.w_fc2, b["proj"]], chk)
            x[:t] += b["proj"].host_view()[0, :t, :d] + L.b_fc2
            b["x"].host_wrote()

        return layer_norm(x[:t], *self.ln_post).astype(F32, copy=False)

    def close(self) -> None:
        """Release every buffer: the activations of each window size and the uploaded weights."""
        for _plan, bufs in self._windows.values():
            for buf in bufs.values():
                buf.release()
        self._windows.clear()
        consts = [self.w_conv1, self.b_conv1, self.w_conv2, self.b_conv2]
        for L in self.layers:
            consts += [L.w_qkv, L.w_out, L.ln1, L.ln2, L.w_fc1, L.b_fc1, L.w_fc2]
        for buf in consts:
            buf.release()
