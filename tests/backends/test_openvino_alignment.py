"""Word timestamps on OpenVINO: the alignment graph against the numpy reference on jfk (attention weights and the
word times they give), built lazily, and served from the cache on a warm start without reading the weights.
Real OpenVINO on the CPU, real weights, real speech.

Tolerances (measured on this machine, asserted with margin): the graph computes in f32 from the checkpoint's own
f16 weights, so its attention weights differ from the reference's by float rounding only (max |diff| measured
in the report of the branch; asserted < 1e-3 on weights in [0, 1]); word starts and ends within 20 ms median
(measured 0 ms: the same DTW path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amanuensis_desktop.backends.numpy_backend import NumpyBackend
from amanuensis_desktop.whisper.alignment import alignment_heads
from amanuensis_desktop.whisper.audio import N_FRAMES, log_mel_spectrogram, pad_or_trim
from amanuensis_desktop.whisper.inference import Backend
from amanuensis_desktop.whisper.model import Weights, default_model_path, load_weights
from amanuensis_desktop.whisper.tokenizer import Tokenizer

pytest.importorskip("openvino")
from amanuensis_desktop.backends.openvino import alignment_graph, create  # noqa: E402

HEADS_ALL_LAYERS = ((0, 5), (1, 0), (3, 4), (2, 5))  # out of order, layer 0 included: every slot of the contract


@pytest.fixture(scope="module")
def weights() -> Weights:
    return load_weights(None)


@pytest.fixture(scope="module")
def reference(weights) -> NumpyBackend:
    return NumpyBackend(Weights(weights.dims, weights.tensors, weights.source))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ov-align-cache")


@pytest.fixture(scope="module")
def backend(weights, cache_dir):
    be = create(weights, device="CPU", cache_dir=cache_dir)
    yield be
    be.close()


@pytest.fixture(scope="module")
def jfk(shared_audio) -> np.ndarray:
    from amanuensis_desktop.audio.files import load_audio

    return load_audio(shared_audio / "jfk.wav")


@pytest.fixture(scope="module")
def tokenizer(weights) -> Tokenizer:
    return Tokenizer(default_model_path() / "tokenizer.json", n_vocab=weights.dims.n_vocab)


def _sequence(tok: Tokenizer, text: str) -> list[int]:
    return [*tok.sot_sequence, tok.no_timestamps, *tok.encode(text), tok.eot]


def test_attention_weights_match_the_reference(backend, reference, jfk, tokenizer):
    assert backend._aligner is None  # nothing built or compiled until word timestamps are asked for
    mel = pad_or_trim(log_mel_spectrogram(jfk, backend.dims.n_mels), N_FRAMES)
    features = reference.encode(mel)
    tokens = _sequence(tokenizer, " And so my fellow Americans, ask not what your country can do for you.")
    heads = alignment_heads(default_model_path(), backend.dims)
    for asked in (heads, HEADS_ALL_LAYERS):
        got = backend.cross_attention(features, tokens, asked)
        want = reference.cross_attention(features, tokens, asked)
        assert got.dtype == np.float32 and got.shape == want.shape == (len(asked), len(tokens), features.shape[0])
        diff = float(np.abs(got - want).max())
        print(f"heads {asked}: max |attention diff| {diff:.2e}, max weight {want.max():.3f}")
        assert diff < 1e-3
        assert np.allclose(got.sum(axis=-1), 1.0, atol=1e-4)  # softmax'd over the frames
    # A shorter window (the dynamic encoder takes fewer frames) and another token count: same graph, new shapes.
    short = features[:700]
    few = tokens[:6]
    assert (
        np.abs(backend.cross_attention(short, few, heads) - reference.cross_attention(short, few, heads)).max() < 1e-3
    )


class _NumpyAligned(Backend):
    """The OpenVINO backend's decoding with the numpy reference's alignment pass: the same tokens and features,
    so the word times differ only by the attention weights."""

    name = "openvino+numpy-alignment"

    def __init__(self, decoding: Backend, aligner: Backend):
        self.decoding, self.aligner = decoding, aligner

    def encode(self, mel):
        return self.decoding.encode(mel)

    def decoder(self, features, batch=1):
        return self.decoding.decoder(features, batch)

    @property
    def label(self) -> str:
        return self.decoding.label

    def cross_attention(self, features, tokens, heads):
        return self.aligner.cross_attention(features, tokens, heads)


def test_word_times_match_the_reference(backend, reference, weights, jfk, tokenizer):
    from amanuensis_desktop.engine import Engine

    ours = Engine(weights, backend, tokenizer).transcribe(jfk, word_timestamps=True)
    theirs = Engine(weights, _NumpyAligned(backend, reference), tokenizer).transcribe(jfk, word_timestamps=True)
    a = [w for s in ours.segments for w in s.words]
    b = [w for s in theirs.segments for w in s.words]
    assert [w.word for w in a] == [w.word for w in b] and len(a) >= 20
    starts = np.abs([x.start - y.start for x, y in zip(a, b)])
    ends = np.abs([x.end - y.end for x, y in zip(a, b)])
    print(
        f"{len(a)} words: start diff median {np.median(starts):.3f} max {starts.max():.3f} s; "
        f"end diff median {np.median(ends):.3f} max {ends.max():.3f} s"
    )
    assert np.median(starts) <= 0.02 and np.median(ends) <= 0.02
    assert starts.max() <= 0.1 and ends.max() <= 0.1


def test_warm_start_serves_the_graph_from_the_cache_without_reading_weights(
    tmp_path, monkeypatch, jfk, tokenizer, reads
):
    from amanuensis_desktop.whisper import lazy_weights

    monkeypatch.delenv("AMANUENSIS_RECHECK", raising=False)
    folder = default_model_path()
    cold_weights = lazy_weights.open_weights(folder, tmp_path)  # read now, and recorded
    cold = create(cold_weights, device="CPU", cache_dir=tmp_path)
    mel = pad_or_trim(log_mel_spectrogram(jfk, cold.dims.n_mels), N_FRAMES)
    features = cold.encode(mel)
    tokens = _sequence(tokenizer, " ask not what your country can do for you")
    heads = alignment_heads(folder, cold.dims)
    first = cold.cross_attention(features, tokens, heads)
    assert cold._aligner is not None and cold._aligner.built
    assert any(p.name.startswith("alignment-") for p in cold.model_dir.glob("*.xml"))
    cold.close()

    reads.clear()
    warm_weights = lazy_weights.open_weights(folder, tmp_path)
    warm = create(warm_weights, device="CPU", cache_dir=tmp_path)
    assert warm.detach_weights()
    again = warm.cross_attention(features, tokens, heads)
    assert reads == [] and not getattr(warm_weights.tensors, "loaded", True)  # no weights read at all
    assert warm._aligner is not None and not warm._aligner.built
    assert np.array_equal(first, again)
    warm.close()


def test_a_damaged_cached_graph_is_rebuilt(backend, weights, tmp_path, jfk, tokenizer):
    heads = ((1, 0), (2, 5))
    aligner = alignment_graph.Aligner(
        backend.core,
        "CPU",
        tmp_path,
        backend.dims,
        backend.precision,
        lambda t: weights["decoder.token_embedding.weight"][t],
        lambda: weights,
    )
    path = tmp_path / alignment_graph.ir_name(heads)
    path.write_text("<not an IR")
    path.with_suffix(".bin").write_bytes(b"\0" * 10)
    features = np.zeros((300, backend.dims.n_audio_state), np.float32)
    out = aligner.attention(features, _sequence(tokenizer, " hello"), heads)
    assert out.shape[0] == 2 and aligner.built and path.stat().st_size > 100
