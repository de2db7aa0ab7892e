"""A warm start: the compiled OpenVINO backend from its cache, with the self-check's stored verdict and without
reading the numpy weights; and what makes it check (and read) again. Real OpenVINO on the CPU, real weights."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from amanuensis_desktop.backends.openvino import create, verdict
from amanuensis_desktop.errors import BackendError
from amanuensis_desktop.whisper import lazy_weights
from amanuensis_desktop.whisper.model import default_model_path

pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory):
    """A private copy of the embedded model folder (its file identity can then be changed)."""
    folder = tmp_path_factory.mktemp("model") / "tiny"
    shutil.copytree(default_model_path(), folder)
    return folder


def test_weights_are_read_once_then_opened_lazily_until_touched(model_copy, tmp_path, reads):
    first = lazy_weights.open_weights(model_copy, tmp_path)
    assert reads == [str(model_copy)] and isinstance(first.tensors, dict)
    second = lazy_weights.open_weights(model_copy, tmp_path)
    assert reads == [str(model_copy)]  # not read again
    assert second.dims == first.dims and second.source == first.source
    assert lazy_weights.fingerprint(second) == lazy_weights.fingerprint(first)
    assert isinstance(second.tensors, lazy_weights.LazyTensors) and not second.tensors.loaded
    name = "decoder.token_embedding.weight"
    assert np.array_equal(second[name], first[name])  # touching reads the file, once
    assert reads == [str(model_copy)] * 2 and second.tensors.loaded
    assert sorted(second.tensors) == sorted(first.tensors)


def test_a_changed_model_file_is_read_again(model_copy, tmp_path, reads):
    lazy_weights.open_weights(model_copy, tmp_path)
    path = lazy_weights.model_file(model_copy)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = lazy_weights.open_weights(model_copy, tmp_path)
    assert len(reads) == 2 and not isinstance(again.tensors, lazy_weights.LazyTensors)


def test_warm_start_skips_the_self_check_and_reads_no_weights_only_after_a_real_pass(
    model_copy, tmp_path, reads, monkeypatch
):
    from amanuensis_desktop.backends.openvino import selfcheck

    monkeypatch.delenv("AMANUENSIS_RECHECK", raising=False)
    checks: list[int] = []
    real_check = selfcheck.self_check

    def counting_check(be, weights):
        checks.append(1)
        return real_check(be, weights)

    monkeypatch.setattr(selfcheck, "self_check", counting_check)
    weights = lazy_weights.open_weights(model_copy, tmp_path)  # read and recorded
    cold = create(weights, device="CPU", cache_dir=tmp_path)
    assert checks == [1] and not cold.startup["verdict_cached"]
    stored = list((tmp_path / "openvino" / "verdicts").glob("*.json"))
    assert len(stored) == 1

    lazy = lazy_weights.open_weights(model_copy, tmp_path)
    warm = create(lazy, device="CPU", cache_dir=tmp_path)
    assert checks == [1] and warm.startup["verdict_cached"]
    assert not lazy.tensors.loaded and len(reads) == 1  # no numpy weights read on the warm path
    assert warm.self_check_stats == cold.self_check_stats
    mel = selfcheck.check_mel(lazy.dims.n_mels, 3000)
    assert np.allclose(warm.encode(mel), cold.encode(mel), atol=1e-3)
    assert not lazy.tensors.loaded

    # Anything in the key changes (here: the device's name as OpenVINO reports it): the check runs again.
    monkeypatch.setattr(verdict, "_device_name", lambda be: "another CPU")
    again = create(lazy_weights.open_weights(model_copy, tmp_path), device="CPU", cache_dir=tmp_path)
    assert checks == [1, 1] and not again.startup["verdict_cached"]
    # ... and AMANUENSIS_RECHECK=1 forces it.
    monkeypatch.setenv("AMANUENSIS_RECHECK", "1")
    create(lazy_weights.open_weights(model_copy, tmp_path), device="CPU", cache_dir=tmp_path)
    assert checks == [1, 1, 1]


def test_a_failed_self_check_stores_no_verdict(model_copy, tmp_path, monkeypatch):
    from amanuensis_desktop.backends.openvino import selfcheck

    def failing(be, weights):
        raise BackendError("OpenVINO on CPU (int8) failed its self-check: a test says so.")

    monkeypatch.setattr(selfcheck, "self_check", failing)
    with pytest.raises(BackendError):
        create(lazy_weights.open_weights(model_copy, tmp_path), device="CPU", cache_dir=tmp_path)
    assert not list((tmp_path / "openvino").glob("verdicts/*.json"))


def test_parts_the_check_raised_to_f32_are_raised_again_on_a_warm_start(model_copy, tmp_path, monkeypatch):
    """The check that stored the verdict had to compute the encoder in f32 (simulated: raised unconditionally,
    as on an AVX-512 BF16 CPU with Whisper base); the warm start compiles it in f32 again, without a check."""
    from amanuensis_desktop.backends.openvino import precision, selfcheck

    monkeypatch.delenv("AMANUENSIS_RECHECK", raising=False)

    def raising_check(backend, weights, check):
        precision.raise_to_f32(backend, "encoder")
        return check(backend, weights)

    with monkeypatch.context() as m:
        m.setattr(precision, "checked", raising_check)
        cold = create(lazy_weights.open_weights(model_copy, tmp_path), device="CPU", cache_dir=tmp_path)
    assert cold.raised_parts == ("encoder",)
    m2 = pytest.MonkeyPatch()
    m2.setattr(selfcheck, "self_check", lambda be, w: pytest.fail("the stored verdict should have been used"))
    try:
        warm = create(lazy_weights.open_weights(model_copy, tmp_path), device="CPU", cache_dir=tmp_path)
    finally:
        m2.undo()
    assert warm.startup["verdict_cached"] and warm.raised_parts == ("encoder",)
    assert precision.inference_precision(warm._compiled["encoder"]) == "f32"
