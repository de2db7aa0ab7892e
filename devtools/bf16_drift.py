"""How far a bf16 OpenVINO CPU plugin would put a model's encoder from the numpy reference (a numpy emulation).

``python -m devtools.bf16_drift [MODEL_FOLDER ...]`` (default: the embedded tiny.en, then Whisper base when its
wheels are installed) prints the drift in standard deviations of the reference output, the measure the
OpenVINO self-check uses (its limit: 1.0). Measured: tiny.en 0.35, base 4.9 (5.3 on a real AVX-512 BF16 CPU).
See amanuensis_desktop/backends/openvino/precision.py. Slow (the numpy encoder twice per model).
"""

from __future__ import annotations

import sys


def emulated_bf16_drift(weights, mel) -> float:
    """The encoder's drift from the numpy reference, in standard deviations, when every activation, product
    input and residual add is rounded to bf16 as a bf16 CPU plugin does (a numpy emulation; for diagnosis)."""
    import numpy as np

    from amanuensis_desktop.backends.npu.bf16 import round_bf16 as bf
    from amanuensis_desktop.backends.numpy_backend import (
        NumpyBackend,
        _heads,
        _merge,
        conv1d,
        gelu,
        layer_norm,
        softmax,
    )
    from amanuensis_desktop.whisper.model import N_HEAD_DIM

    nb = NumpyBackend(weights)
    h, scale = nb.dims.n_audio_head, np.float32(N_HEAD_DIM**-0.5)

    def run(q):
        x = q(gelu(conv1d(q(mel), *nb.conv1)))
        x = q(gelu(conv1d(np.ascontiguousarray(x.T), *nb.conv2, stride=2)))
        x = x + nb.enc_pos[: x.shape[0]]
        for b in nb.enc_blocks:
            y = q(layer_norm(x, *b.attn_ln))
            qq, k, v = _heads(q(b.q(y)) * scale, h), _heads(q(b.k(y)), h), _heads(q(b.v(y)), h)
            att = q(softmax(q(qq @ k.swapaxes(-1, -2))))
            x = q(x + q(b.o(q(_merge(att @ v)))))
            x = q(x + q(b.mlp(x)))
        return layer_norm(x, *nb.ln_post)

    ref = run(lambda a: a)
    return float(np.abs(run(bf) - ref).max() / ref.std())


def main(argv: list[str]) -> int:
    from amanuensis_desktop.backends.openvino.selfcheck import check_mel
    from amanuensis_desktop.whisper.model import load_weights

    from .base_model import base_model_dir

    folders: list[str | None] = list(argv) or [None, *([str(base_model_dir())] if base_model_dir() else [])]
    for folder in folders:
        weights = load_weights(folder)
        drift = emulated_bf16_drift(weights, check_mel(weights.dims.n_mels, 3000))
        print(f"{folder or 'tiny.en (embedded)'}: {drift:.2f} standard deviations")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
