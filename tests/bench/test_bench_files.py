"""Smoke test of the file benchmark's mechanics (subprocess workers, JSON, table): one run on goforward.wav.

No timing assertions: benchmarks are not tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def shared(monkeypatch, shared_audio: Path) -> Path:
    monkeypatch.setenv("AMANUENSIS_SHARED_AUDIO", str(shared_audio))  # for the bench's worker subprocesses
    return shared_audio


def test_bench_one_run_on_a_short_clip(shared, tmp_path, tmp_path_factory, capsys):
    pytest.importorskip("openvino")
    from amanuensis_desktop.bench import files

    out = tmp_path / "bench.json"
    peer = files.peer_installed()
    # The session-wide OpenVINO cache that tests/test_openvino_backend.py also uses (built once per session).
    cache = tmp_path_factory.getbasetemp() / "openvino-cache"
    cache.mkdir(exist_ok=True)
    args = [
        "--runs",
        "1",
        "--backends",
        "openvino",
        "--files",
        "goforward.wav",
        "--json",
        str(out),
        "--no-first-start",
        "--cache-dir",
        str(cache),
    ]
    if not peer:
        args.append("--no-peer")
    assert files.main(args) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    ov = data["engines"]["openvino"]
    assert "error" not in ov, ov.get("error")
    clip = ov["files"]["goforward.wav"]
    assert len(clip["runs_s"]) == 1 and clip["median_s"] > 0 and clip["rtf"] > 0
    assert clip["wer"] == 0.0, clip["text"]
    assert clip["windows"] == 1 and clip["encode_ms_per_window"] > 0 and clip["decode_ms_per_step"] > 0
    assert ov["peak_rss_mb"] > 50 and ov["devices"] == ["CPU"]
    assert ov["warm_start_s"] > 0
    assert "openvino" in printed and "goforward.wav" in printed
    if peer:
        fw = data["engines"][files.PEER]
        assert "error" not in fw, fw.get("error")
        assert fw["files"]["goforward.wav"]["wer"] == 0.0
        assert set(data["headline"]["openvino"]) == {"goforward.wav"}
        assert "Headline openvino" in printed


def test_long_file_is_at_least_a_minute(shared):
    from amanuensis_desktop.bench.files import bench_files

    ((name, audio, ref),) = bench_files(only=["long"])
    assert name == "long" and audio.size >= 60 * 16000 and len(ref.split()) > 100
