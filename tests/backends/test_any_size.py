"""Every backend runs any Whisper shape, including large-v3's 128 mel bins and its 51866-token vocabulary.

No real 128-mel model ships on PyPI at a test-friendly size, so this builds a small random Whisper with
large-v3's input and vocabulary (128 mels, 1500 audio positions, 51866 tokens) but a narrow width (2 heads of
64, 2 layers) and checks that OpenVINO (f32) and the NPU kernels' emulator agree with the numpy reference. The
log-mel itself is checked against an independent implementation (faster-whisper's feature extractor).
"""

from __future__ import annotations

import numpy as np
import pytest

from amanuensis_desktop.whisper.model import Weights, dims_from_tensors

N_MELS, D, LAYERS, N_VOCAB, N_AUDIO, N_TEXT = 128, 128, 2, 51866, 1500, 448


def _random_whisper(seed: int = 7) -> Weights:
    rng = np.random.default_rng(seed)

    def w(*shape, scale=None):
        scale = scale if scale is not None else 1.0 / np.sqrt(shape[-1])
        return (rng.standard_normal(shape) * scale).astype(np.float16)

    t: dict[str, np.ndarray] = {
        "encoder.conv1.weight": w(D, N_MELS, 3, scale=0.05),
        "encoder.conv1.bias": w(D, scale=0.02),
        "encoder.conv2.weight": w(D, D, 3, scale=0.05),
        "encoder.conv2.bias": w(D, scale=0.02),
        "encoder.positional_embedding": w(N_AUDIO, D, scale=0.1),
        "encoder.ln_post.weight": (1 + w(D, scale=0.1)).astype(np.float16),
        "encoder.ln_post.bias": w(D, scale=0.1),
        "decoder.token_embedding.weight": w(N_VOCAB, D, scale=0.1),
        "decoder.positional_embedding": w(N_TEXT, D, scale=0.1),
        "decoder.ln.weight": (1 + w(D, scale=0.1)).astype(np.float16),
        "decoder.ln.bias": w(D, scale=0.1),
    }
    for side in ("encoder", "decoder"):
        for i in range(LAYERS):
            p = f"{side}.blocks.{i}"
            parts = ["attn"] + (["cross_attn"] if side == "decoder" else [])
            for a in parts:
                for n in ("query", "value", "out"):
                    t[f"{p}.{a}.{n}.weight"], t[f"{p}.{a}.{n}.bias"] = w(D, D), w(D, scale=0.02)
                t[f"{p}.{a}.key.weight"] = w(D, D)
                t[f"{p}.{a}_ln.weight"] = (1 + w(D, scale=0.1)).astype(np.float16)
                t[f"{p}.{a}_ln.bias"] = w(D, scale=0.1)
            t[f"{p}.mlp.0.weight"], t[f"{p}.mlp.0.bias"] = w(4 * D, D), w(4 * D, scale=0.02)
            t[f"{p}.mlp.2.weight"], t[f"{p}.mlp.2.bias"] = w(D, 4 * D), w(D, scale=0.02)
            t[f"{p}.mlp_ln.weight"] = (1 + w(D, scale=0.1)).astype(np.float16)
            t[f"{p}.mlp_ln.bias"] = w(D, scale=0.1)
    return Weights(dims=dims_from_tensors(t), tensors=t, source="random-128-mel")


@pytest.fixture(scope="module")
def weights() -> Weights:
    return _random_whisper()


@pytest.fixture(scope="module")
def mel(weights) -> np.ndarray:
    from amanuensis_desktop.backends.openvino.selfcheck import check_mel

    return check_mel(weights.dims.n_mels, 3000)


@pytest.fixture(scope="module")
def reference(weights, mel):
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend

    nb = NumpyBackend(weights)
    feats = nb.encode(mel)
    sess = nb.decoder(feats)
    tokens = np.array([[50258, 50259, 50360, 50364, 400, 401, 402]], np.int64)  # any ids below n_vocab
    return feats, sess.step(tokens[:, :3]), sess.step(tokens[:, 3:]), tokens


def test_dims_read_from_the_weights(weights):
    d = weights.dims
    assert (d.n_mels, d.n_audio_state, d.n_audio_head, d.n_audio_layer, d.n_vocab) == (128, 128, 2, 2, 51866)
    assert weights.is_multilingual


def test_openvino_runs_128_mel_bins(weights, mel, reference, tmp_path):
    from amanuensis_desktop.backends.openvino.backend import OpenVINOBackend

    feats, logits_a, logits_b, tokens = reference
    be = OpenVINOBackend(weights, "CPU", "f32", tmp_path)
    got = be.encode(mel)
    assert got.shape == feats.shape == (1500, D)
    assert np.abs(got - feats).max() / feats.std() < 1e-3
    sess = be.decoder(feats)
    a, b = sess.step(tokens[:, :3]), sess.step(tokens[:, 3:])
    for ours, ref in ((a, logits_a), (b, logits_b)):
        assert ours.shape == ref.shape == (1, N_VOCAB)
        assert np.abs(ours - ref).max() / ref.std() < 1e-3


def test_npu_emulator_runs_128_mel_bins(weights, mel, reference):
    from amanuensis_desktop.backends.npu.emulator import EmulatorDevice
    from amanuensis_desktop.backends.npu.runtime import NpuEncoder
    from amanuensis_desktop.backends.npu.spec import DEVICES

    feats = reference[0]
    got = NpuEncoder(weights, EmulatorDevice("npu1"), DEVICES["npu1"]).encode(mel)
    assert got.shape == feats.shape
    rel = np.sqrt(np.mean((got - feats) ** 2) / np.mean(feats**2))
    assert rel < 0.02, rel  # bf16 kernels: the same bound as tiny.en's encoder


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_matches_an_independent_implementation(shared_audio, n_mels):
    """faster-whisper's numpy feature extractor (its own filterbank and STFT) gives the same log-mel."""
    fw = pytest.importorskip("faster_whisper.feature_extractor")
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.whisper.audio import N_SAMPLES, log_mel_spectrogram, mel_filters

    audio = load_audio(shared_audio / "jfk.wav")
    fe = fw.FeatureExtractor(feature_size=n_mels)
    assert np.abs(fe.mel_filters - mel_filters(n_mels)).max() < 1e-6
    ref = fe(audio, padding=N_SAMPLES)
    ours = log_mel_spectrogram(audio, n_mels, padding=N_SAMPLES)
    assert ours.shape[0] == n_mels
    assert np.abs(ref[:, : ours.shape[1]] - ours).max() < 1e-4
