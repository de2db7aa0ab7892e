"""A damaged OpenVINO cache is ignored and rebuilt, with one log line, and the backend still transcribes: an
unreadable IR (garbage xml, truncated blobs, a damaged self-check reference) and an IR whose weights have
flipped bits (it loads, but fails the self-check against the numpy reference)."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import pytest

pytest.importorskip("openvino")

from amanuensis_desktop.backends import openvino as ovreg  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402

from .conftest import LONG  # noqa: E402

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def _jfk_wer(backend, weights, shared_audio) -> float:
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.engine import Engine

    return wer(JFK, Engine(weights, backend).transcribe(load_audio(shared_audio / "jfk.wav")).text)


def _flip(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(path.read_bytes())
    for _ in range(n):
        data[rng.randrange(len(data))] ^= 0xFF
    path.write_bytes(bytes(data))


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and ("damaged" in r.getMessage() or "failed the self-check" in r.getMessage())
    ]


def test_damaged_cache_is_rebuilt_with_one_line(cache_copy, weights, caplog, shared_audio):
    root = cache_copy / "openvino"
    (entry,) = (root / "models").iterdir()
    # unreadable: garbage xml, truncated compiled blobs
    (entry / "encoder.xml").write_bytes(os.urandom(2000))
    for blob in (root / "compiled").iterdir():
        blob.write_bytes(blob.read_bytes()[: blob.stat().st_size // 3])
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        be = ovreg.create(weights, "CPU", cache_dir=cache_copy)
    assert be.startup["built"]  # rebuilt from the weights
    lines = _warnings(caplog)
    assert len(lines) == 1 and str(entry) in lines[0], lines
    assert _jfk_wer(be, weights, shared_audio) < 0.15
    be.close()


@pytest.mark.skipif(not LONG, reason="two OpenVINO builds (~40 s): AMANUENSIS_LONG=1")
def test_flipped_bits_in_cached_weights_fail_the_check_and_are_rebuilt(
    cache_copy, weights, caplog, shared_audio, monkeypatch
):
    import shutil

    monkeypatch.setenv("AMANUENSIS_RECHECK", "1")  # a stored passing verdict skips the self-check otherwise

    root = cache_copy / "openvino"
    (entry,) = (root / "models").iterdir()
    data = bytearray((entry / "cross.bin").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 65536] = b"\x7b" * 65536  # a run of huge f16 values mid-weights
    (entry / "cross.bin").write_bytes(bytes(data))
    shutil.rmtree(root / "compiled")  # (a compiled blob, while valid, is used instead of the IR)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        be = ovreg.create(weights, "CPU", cache_dir=cache_copy)
    lines = _warnings(caplog)
    assert len(lines) == 1 and "failed the self-check" in lines[0], lines
    assert be.startup["built"]
    assert _jfk_wer(be, weights, shared_audio) < 0.15
    be.close()


def test_damaged_self_check_reference_is_recomputed(tmp_path, caplog):
    import numpy as np

    from amanuensis_desktop.backends.openvino import cache

    path = tmp_path / "ref.npz"
    cache.save_reference(path, {"mel": np.arange(100000, dtype=np.float32)})
    _flip(path, 50, 3)
    with caplog.at_level(logging.WARNING):
        assert cache.load_reference(path) is None
    assert len(_warnings(caplog)) == 1
    path.write_bytes(b"")
    assert cache.load_reference(path) is None
