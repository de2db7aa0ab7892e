"""The OpenVINO backend, run for real on the CPU, against the numpy reference.

Tolerances (measured on this machine's kind, asserted here):

* ``f32`` (f32 weights, f32 inference precision): features within 1e-3 absolute (measured 1.5e-4 on values
  up to ~15); logits of the first 24 decoding steps within 2e-3 absolute (measured 6.5e-5).
* ``int8`` (default: bf16 compute, f16 encoder/decoder blocks, int8 output projection with the top
  candidates rescored exactly): logits within 1.5 standard deviations of the reference logits (measured 0.8),
  the same greedy token on at least 90 % of the steps (measured 100 %), and the top candidates' logits within
  0.3 absolute (they are recomputed in float32 from the checkpoint's table).

Every decoder test runs past 16 cached positions, where OpenVINO 2026.4.1's CPU plugin bug appears.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amanuensis_desktop.backends.numpy_backend import NumpyBackend
from amanuensis_desktop.backends.openvino import cache as ovcache
from amanuensis_desktop.backends.openvino import create, devices, probe
from amanuensis_desktop.backends.openvino import selfcheck as ovcheck
from amanuensis_desktop.bench.corpus import shared_audio_dir
from amanuensis_desktop.errors import BackendError
from amanuensis_desktop.whisper.audio import N_FRAMES
from amanuensis_desktop.whisper.model import Weights, default_model_path, load_weights
from amanuensis_desktop.whisper.tokenizer import Tokenizer

ov = pytest.importorskip("openvino")
ovb = pytest.importorskip("amanuensis_desktop.backends.openvino.backend")  # imports openvino itself

SHARED_AUDIO = shared_audio_dir()  # the same lookup as the shared_audio fixture (which skips when absent)


@pytest.fixture(scope="module")
def weights() -> Weights:
    return load_weights(None)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    # Session-wide (tests/test_bench_files.py uses it too): graphs and the self-check reference built once.
    path = tmp_path_factory.getbasetemp() / "openvino-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module")
def reference(weights) -> NumpyBackend:
    # A private Weights so the reference's float32 copies do not stay on the shared one.
    return NumpyBackend(Weights(weights.dims, weights.tensors, weights.source))


@pytest.fixture(scope="module")
def ov_int8(weights, cache_dir):
    return create(weights, device="CPU", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def ov_f32(weights, cache_dir):
    return create(weights, device="CPU", precision="f32", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def mel(weights) -> np.ndarray:
    if (SHARED_AUDIO / "jfk.wav").is_file():
        from amanuensis_desktop.audio.files import load_audio
        from amanuensis_desktop.whisper.audio import log_mel_spectrogram, pad_or_trim

        return pad_or_trim(log_mel_spectrogram(load_audio(SHARED_AUDIO / "jfk.wav"), weights.dims.n_mels), N_FRAMES)
    return ovcheck.check_mel(weights.dims.n_mels, N_FRAMES)  # a synthetic voiced sound when ../shared is absent


def _teacher_forced(backend, features, tokens, batch_rows: int = 1) -> np.ndarray:
    """Logits for: the prompt (several tokens at once), then one token per step."""
    sess = backend.decoder(features, batch=batch_rows)
    out = [sess.step(np.array([tokens[:3]] * batch_rows, np.int64))]
    for t in tokens[3:]:
        out.append(sess.step(np.array([[t]] * batch_rows, np.int64)))
    assert sess.length == len(tokens)
    return np.stack(out)  # [steps, batch, vocab]


@pytest.fixture(scope="module")
def greedy_tokens(reference, mel, weights):
    """A realistic token sequence: the numpy reference's own greedy choices, 24 positions (past 16)."""
    feats = reference.encode(mel)
    sess = reference.decoder(feats)
    tok = Tokenizer(default_model_path() / "tokenizer.json", n_vocab=weights.dims.n_vocab)
    tokens = [tok.sot, tok.no_timestamps]
    logits = sess.step(np.array([tokens], np.int64))[0]
    while len(tokens) < 24:
        tokens.append(int(np.argmax(logits)))
        logits = sess.step(np.array([[tokens[-1]]], np.int64))[0]
    return feats, tokens


# -- registry entry -----------------------------------------------------------------------------------


def test_probe_is_cheap_and_reports_version_and_devices():
    status = probe()
    assert status.available
    assert status.name == "openvino"
    assert status.version and status.version.split(".")[0].isdigit()
    assert status.version == ov.get_version().split("-")[0]
    assert tuple(status.devices) == tuple(devices.present(ov.Core()))
    assert "CPU" in status.devices


def test_device_list_matches_openvino_without_loading_absent_plugins():
    """The cheap listing names what OpenVINO's own full listing names, on this machine."""
    assert devices.present(ov.Core()) == [str(d) for d in ov.Core().available_devices]


class _FakeCore:
    def __init__(self, ids: dict):
        self.ids, self.asked = ids, []

    def get_property(self, device, name):
        assert name == "AVAILABLE_DEVICES"
        self.asked.append(device)
        if device not in self.ids:
            raise RuntimeError(f"no {device}")
        return self.ids[device]

    @property
    def available_devices(self):
        raise AssertionError("the full listing loads every plugin")


def _fake_node(root: Path, dev: str, sysdir: Path, link_to: str | None = None, vendor: str | None = None):
    (root / "dev" / dev).parent.mkdir(parents=True, exist_ok=True)
    (root / "dev" / dev).touch()
    sysdir.mkdir(parents=True, exist_ok=True)
    if vendor is not None:
        (sysdir / "vendor").write_text(vendor + "\n")
    if link_to is not None:
        target = root / "drivers" / link_to
        target.mkdir(parents=True, exist_ok=True)
        (sysdir / "driver").symlink_to(target)


def test_gpu_and_npu_plugins_are_asked_only_when_their_hardware_can_exist(tmp_path):
    opts = {"dev_root": tmp_path / "dev", "sys_root": tmp_path / "sys", "platform": "linux"}
    core = _FakeCore({"CPU": [""], "GPU": ["0", "1"], "NPU": [""]})
    assert devices.present(core, **opts) == ["CPU"] and core.asked == ["CPU"]
    # an AMD render node and an AMD (amdxdna) accel node: still only the CPU plugin
    _fake_node(tmp_path, "dri/renderD128", tmp_path / "sys/class/drm/renderD128/device", vendor="0x1002")
    _fake_node(tmp_path, "accel/accel0", tmp_path / "sys/class/accel/accel0/device", link_to="amdxdna")
    core = _FakeCore({"CPU": [""], "GPU": ["0", "1"], "NPU": [""]})
    assert devices.present(core, **opts) == ["CPU"] and core.asked == ["CPU"]
    # an Intel GPU and an intel_vpu NPU: both asked, OpenVINO's naming (GPU.0/GPU.1 for several, NPU for one)
    _fake_node(tmp_path, "dri/renderD129", tmp_path / "sys/class/drm/renderD129/device", vendor="0x8086")
    _fake_node(tmp_path, "accel/accel1", tmp_path / "sys/class/accel/accel1/device", link_to="intel_vpu")
    core = _FakeCore({"CPU": [""], "GPU": ["0", "1"], "NPU": [""]})
    assert devices.present(core, **opts) == ["CPU", "GPU.0", "GPU.1", "NPU"]
    # the plugin may still find nothing usable: no entry, no error
    core = _FakeCore({"CPU": [""], "GPU": []})
    assert devices.present(core, **opts) == ["CPU"]
    assert devices.candidates("AUTO", devices.present(_FakeCore({"CPU": [""], "NPU": [""]}), **opts)) == ["NPU", "CPU"]


def test_device_listing_elsewhere_is_openvinos_own():
    class Core:
        available_devices = ["CPU", "GPU"]

    assert devices.present(Core(), platform="win32") == ["CPU", "GPU"]


def test_backend_reports_the_device_that_executed(ov_int8):
    assert ov_int8.devices == ["CPU"]
    assert ov_int8.label.startswith("OpenVINO · CPU")
    assert ov_int8.precision == "int8"


# -- device choice (fake device lists: there is no GPU or NPU here) ------------------------------------


@pytest.mark.parametrize(
    "requested, available, expected",
    [
        ("AUTO", ["CPU", "GPU.0", "NPU"], ["NPU", "GPU.0", "CPU"]),
        ("auto", ["CPU", "GPU"], ["GPU", "CPU"]),
        ("AUTO", ["CPU"], ["CPU"]),
        ("AUTO", ["GNA", "CPU", "GPU.0", "GPU.1"], ["GPU.0", "GPU.1", "CPU"]),
        ("GPU", ["CPU", "GPU.1"], ["GPU.1"]),
        ("GPU.1", ["CPU", "GPU.0", "GPU.1"], ["GPU.1"]),
        ("cpu", ["CPU", "NPU"], ["CPU"]),
        ("NPU", ["CPU", "NPU"], ["NPU"]),
    ],
)
def test_device_candidates(requested, available, expected):
    assert devices.candidates(requested, available) == expected


@pytest.mark.parametrize(
    "requested, available", [("NPU", ["CPU"]), ("GPU", ["CPU", "NPU"]), ("AUTO", []), ("GPU.2", ["GPU.0"])]
)
def test_unavailable_device_is_one_clear_sentence(requested, available):
    with pytest.raises(BackendError) as err:
        devices.candidates(requested, available)
    msg = str(err.value)
    assert msg.endswith(".") and msg.count(". ") == 0 and "\n" not in msg


def test_static_shapes_only_for_the_npu_and_cpu_decoder_workaround():
    assert devices.is_static("NPU") and devices.is_static("NPU.3")
    assert not devices.is_static("CPU") and not devices.is_static("GPU.0")
    assert devices.compile_config("CPU", "int8", "decoder")["SNIPPETS_MODE"] == "DISABLE"
    assert "SNIPPETS_MODE" not in devices.compile_config("GPU", "int8", "decoder")
    assert devices.compile_config("CPU", "f32", "encoder")["INFERENCE_PRECISION_HINT"] == "f32"


def test_auto_falls_back_to_the_cpu_when_the_npu_cannot_run(weights, cache_dir):
    # OpenVINO is told (falsely) that an NPU exists: compiling for it fails here, AUTO moves on to the CPU and
    # the backend reports the CPU, the device that really executes.
    be = create(weights, device="AUTO", available=["NPU", "CPU"], cache_dir=cache_dir)
    assert be.devices == ["CPU"]
    assert be.device == "CPU"


def test_explicit_missing_device_refuses(weights, cache_dir):
    with pytest.raises(BackendError, match="not available"):
        create(weights, device="NPU", cache_dir=cache_dir)


def test_unknown_precision_refuses(weights, cache_dir):
    with pytest.raises(BackendError, match="precision"):
        create(weights, device="CPU", precision="int4", cache_dir=cache_dir)


# -- numerics against the numpy reference ----------------------------------------------------------------


def test_f32_features_and_logits_match_numpy(ov_f32, reference, mel, greedy_tokens):
    feats_ref, tokens = greedy_tokens
    feats = ov_f32.encode(mel)
    assert feats.shape == feats_ref.shape and feats.dtype == np.float32
    assert np.abs(feats - feats_ref).max() < 1e-3
    ours = _teacher_forced(ov_f32, feats_ref, tokens)
    ref = _teacher_forced(reference, feats_ref, tokens)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 2e-3


def test_int8_logits_close_to_numpy_past_16_positions(ov_int8, reference, greedy_tokens):
    feats_ref, tokens = greedy_tokens
    ours = _teacher_forced(ov_int8, feats_ref, tokens)[:, 0]
    ref = _teacher_forced(reference, feats_ref, tokens)[:, 0]
    stats = ovcheck.compare_logits(ours, ref)
    assert stats["finite"] == 1.0
    assert stats["max_rel"] < 1.5
    assert stats["top1"] >= 0.9
    for step in range(len(ref)):  # the rescored best candidates are close to exact
        best = np.argsort(ref[step])[-3:]
        assert np.abs(ours[step, best] - ref[step, best]).max() < 0.3


def test_int8_features_close_to_numpy(ov_int8, reference, mel, greedy_tokens):
    feats_ref, _ = greedy_tokens
    feats = ov_int8.encode(mel)
    assert np.abs(feats - feats_ref).max() / feats_ref.std() < 1.0


def test_batch_and_reorder_match_numpy(ov_f32, reference, greedy_tokens):
    feats, tokens = greedy_tokens
    ours, ref = ov_f32.decoder(feats, batch=2), reference.decoder(feats, batch=2)
    prompt = np.array([tokens[:3], tokens[:3]], np.int64)
    for s in (ours, ref):
        s.step(prompt)
    rows = 2
    for k in range(len(tokens[3:21])):
        step = np.array([[tokens[3 + (k + 5 * r) % 18]] for r in range(rows)], np.int64)  # the rows diverge
        a, b = ours.step(step), ref.step(step)
        assert a.shape == (rows, b.shape[1])
        assert np.abs(a - b).max() < 2e-3
        if k == 8:
            for s in (ours, ref):
                s.reorder(np.array([1, 1, 0]))  # beam-style: duplicate and grow the batch
            rows = 3
    assert ours.length == ref.length


def test_static_variant_matches_numpy_on_cpu(weights, cache_dir, reference, greedy_tokens, mel):
    """The NPU's static-shape variant (one token per call, fixed cache, fixed 3000 frames), run on the CPU."""
    be = ovb.OpenVINOBackend(weights, "CPU", "f32", ovcache.cache_root(cache_dir), static=True)
    assert be.static
    feats_ref, tokens = greedy_tokens
    assert np.abs(be.encode(mel) - feats_ref).max() < 1e-3
    ours = _teacher_forced(be, feats_ref, tokens)
    ref = _teacher_forced(reference, feats_ref, tokens)
    assert np.abs(ours - ref).max() < 2e-3
    # Beam search on a static device: the batch grows by reshaping the decoder to a new fixed batch size.
    a, b = be.decoder(feats_ref), reference.decoder(feats_ref)
    for s in (a, b):
        s.step(np.array([tokens[:3]], np.int64))
        s.reorder(np.array([0, 0]))
    two = np.array([[tokens[3]], [tokens[4]]], np.int64)
    assert np.abs(a.step(two) - b.step(two)).max() < 2e-3
    with pytest.raises(ValueError):
        be.encode(mel[:, :2000])


def test_sessions_do_not_share_cross_attention(ov_f32, reference, greedy_tokens, mel):
    """A session created before a newer one keeps decoding against its own window's features."""
    feats, tokens = greedy_tokens
    other = np.ascontiguousarray(feats[::-1])
    first = ov_f32.decoder(feats)
    second = ov_f32.decoder(other)
    second.step(np.array([tokens[:3]], np.int64))
    got = first.step(np.array([tokens[:3]], np.int64))
    want = reference.decoder(feats).step(np.array([tokens[:3]], np.int64))
    assert np.abs(got - want).max() < 2e-3


def test_sessions_over_the_same_features_reuse_cross_attention(ov_f32, reference, greedy_tokens):
    """Temperature fallback decodes a window again: its cross K/V are not recomputed, and stay right."""
    feats, tokens = greedy_tokens
    feats = np.ascontiguousarray(feats, dtype=np.float32)
    want = reference.decoder(feats).step(np.array([tokens[:3]], np.int64))
    ov_f32.decoder(feats).step(np.array([tokens[:3]], np.int64))
    calls = []
    real = ov_f32._cross_req

    class Counting:  # the real request, counting its inferences
        def __getattr__(self, name):
            return getattr(real, name)

        def infer(self, *args, **kwargs):
            calls.append(1)
            return real.infer(*args, **kwargs)

    ov_f32._cross_req = Counting()
    try:
        got = ov_f32.decoder(feats).step(np.array([tokens[:3]], np.int64))
        assert not calls
        assert np.abs(got - want).max() < 2e-3
        changed = feats.copy()
        changed[0, 0] += 1.0  # another array (other features) is computed afresh
        ov_f32.decoder(changed).step(np.array([tokens[:3]], np.int64))
        assert len(calls) == 1
    finally:
        ov_f32._cross_req = real


def test_variable_length_window(ov_f32, reference, mel):
    """The dynamic encoder also takes an unpadded window (engine hook for skipping padding)."""
    short = np.ascontiguousarray(mel[:, :1100])
    got, want = ov_f32.encode(short), reference.encode(short)
    assert got.shape == (550, 384)
    assert np.abs(got - want).max() < 1e-3


# -- caching and the self-check ---------------------------------------------------------------------------


def test_second_start_uses_the_cache(weights, tmp_path, monkeypatch, ov_int8, cache_dir):
    import shutil

    monkeypatch.setenv("AMANUENSIS_CACHE_DIR", str(tmp_path))
    # Reuse the numpy reference output of the self-check (seconds of numpy); models are built afresh.
    shutil.copytree(Path(cache_dir) / "openvino" / "selfcheck", tmp_path / "openvino" / "selfcheck")
    first = create(weights, device="CPU")
    assert first.startup["built"]
    assert (tmp_path / "openvino" / "models").is_dir() and any((tmp_path / "openvino" / "compiled").iterdir())
    second = create(weights, device="CPU")
    assert not second.startup["built"]
    assert second.startup["total_s"] < first.startup["total_s"]


def test_detached_backend_reads_the_table_from_the_cache_and_keeps_its_transcript(
    weights, cache_dir, reference, greedy_tokens
):
    be = create(weights, device="CPU", cache_dir=cache_dir)
    feats, tokens = greedy_tokens
    before = _teacher_forced(be, feats, tokens)
    table = weights["decoder.token_embedding.weight"]
    be.detach_weights()
    assert isinstance(be._table, ovcache.FileRows)
    rows = np.array([[0, 5, table.shape[0] - 1]])
    assert np.array_equal(be._table[rows], table[rows]) and be._table[rows].shape == (1, 3, table.shape[1])
    assert np.array_equal(be._table[np.array([7, -1])], table[[7, -1]])
    assert np.array_equal(np.asarray(be._table), table)
    assert np.array_equal(_teacher_forced(be, feats, tokens), before)


def test_release_mapped_drops_only_read_only_shared_mappings_of_the_folder(tmp_path):
    import mmap

    from amanuensis_desktop.backends.openvino import memory

    path = tmp_path / "blob"
    data = np.arange(4 << 20, dtype=np.uint8)  # 4 MiB
    data.tofile(path)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = np.frombuffer(mm, np.uint8)
    assert int(view.sum(dtype=np.int64)) == int(data.sum(dtype=np.int64))  # all resident now
    assert memory.release_mapped(tmp_path / "elsewhere") == 0
    assert memory.release_mapped(tmp_path) >= data.size
    assert np.array_equal(view, data)  # pages come back from the file
    del view
    mm.close()


def test_self_check_refuses_a_backend_that_disagrees(weights, cache_dir):
    """A backend computing the wrong thing (here: token embeddings from the wrong rows) is refused."""
    be = ovb.OpenVINOBackend(weights, "CPU", "int8", ovcache.cache_root(cache_dir))
    assert ovcheck.self_check(be, weights)["top1"] >= 0.9
    be._table = np.ascontiguousarray(np.asarray(be._table)[::-1])
    with pytest.raises(BackendError) as err:
        ovcheck.self_check(be, weights)
    msg = str(err.value)
    assert "self-check" in msg and "\n" not in msg and msg.endswith(".")


# -- transcripts on the shared clips ---------------------------------------------------------------------


def test_transcripts_match_the_float32_reference_on_every_shared_clip(weights, ov_int8, ov_f32, shared_audio):
    """Default (int8) transcripts against f32 ones (whose logits equal numpy's within 2e-3: the numpy backend
    itself takes minutes on these clips): pooled WER within 0.5 point."""
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.engine import Engine
    from amanuensis_desktop.whisper.wer import wer

    clips = sorted(
        p for p in shared_audio.iterdir() if p.suffix in (".wav", ".flac", ".mp3") and p.name != "multilingual.mp3"
    )  # 60 s, half German: covered by the bench's long file
    ours, refs = Engine(weights, ov_int8), Engine(weights, ov_f32)
    hyp, ref = [], []
    for clip in clips:
        audio = load_audio(clip)
        hyp.append(ours.transcribe(audio).text)
        ref.append(refs.transcribe(audio).text)
    assert all(ref), "the reference produced an empty transcript"
    assert wer(ref, hyp) <= 0.005, list(zip(ref, hyp))
