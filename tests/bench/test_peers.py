"""The peer bench without its heavy environment: our weights written as whisper.cpp and Hugging Face files round-trip,
the figures (paired ratios, tables) are right, and ``bench --peers`` without ``make bench-peers`` says so in one
sentence. Nothing here installs or imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from amanuensis_desktop.bench import peers_env
from amanuensis_desktop.bench.peers_report import paired_ratio, ratios, report
from amanuensis_desktop.whisper.audio import mel_filters
from amanuensis_desktop.whisper.model import default_model_path, load_weights, read_safetensors
from devtools.peers_ggml import read_ggml, vocab_bytes, write_ggml
from devtools.peers_setup import write_hf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny():
    return load_weights(default_model_path())


def test_ggml_round_trip(tiny, tmp_path):
    path = write_ggml(tiny, default_model_path() / "tokenizer.json", tmp_path / "ggml-model.bin")
    hparams, filters, tokens, tensors = read_ggml(path)
    d = tiny.dims
    assert hparams == (d.n_vocab, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1)
    np.testing.assert_array_equal(filters, mel_filters(80).astype(np.float32))
    assert len(tokens) == 50256  # the English vocabulary below <|endoftext|>
    assert tokens[464] == b"The" and tokens[262] == b" the"
    assert set(tensors) == set(tiny.tensors)
    for name, arr in tiny.tensors.items():
        got = tensors[name]
        if name.endswith(("conv1.bias", "conv2.bias")):
            assert got.shape == (arr.shape[0], 1)
            got = got[:, 0]
        assert got.shape == arr.shape, name
        np.testing.assert_array_equal(got.astype(np.float32), arr.astype(np.float32), err_msg=name)
    kinds = {n: t.dtype for n, t in tensors.items()}
    assert kinds["encoder.blocks.0.attn.query.weight"] == np.float16
    assert kinds["encoder.positional_embedding"] == np.float32 and kinds["decoder.ln.bias"] == np.float32


def test_vocab_bytes_undo_the_byte_level_alphabet():
    tokens = vocab_bytes(default_model_path() / "tokenizer.json")
    assert tokens[220] == b" " and tokens[198] == b"\n"
    assert all(isinstance(t, bytes) and t for t in tokens)
    assert len(set(tokens)) == len(tokens)


def test_hf_checkpoint_round_trip(tiny, tmp_path):
    write_hf(default_model_path(), tmp_path / "hf")
    back = read_safetensors(tmp_path / "hf" / "model.safetensors")
    assert back.dims == tiny.dims
    assert set(back.tensors) == set(tiny.tensors)
    for name, arr in tiny.tensors.items():
        assert back.tensors[name].dtype == np.float32
        np.testing.assert_array_equal(back.tensors[name], arr.astype(np.float32), err_msg=name)
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["model_type"] == "whisper" and config["vocab_size"] == 51864
    assert (tmp_path / "hf" / "tokenizer.json").read_bytes() == (default_model_path() / "tokenizer.json").read_bytes()


def test_bench_peers_without_the_environment_says_so(tmp_path):
    env = {**os.environ, "AMANUENSIS_PEERS_DIR": str(tmp_path / "none"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop", "bench", "--peers", "tiny.en"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert "make bench-peers" in err and len(err.splitlines()) == 1, err
    assert "Traceback" not in err


def test_missing_names_the_models_without_folders(tmp_path):
    python = peers_env.venv_python(tmp_path)
    python.parent.mkdir(parents=True)
    python.write_text("")
    assert "tiny.en" in (peers_env.missing(["tiny.en"], tmp_path) or "")
    peers_env.manifest_path("tiny.en", tmp_path).parent.mkdir(parents=True)
    peers_env.manifest_path("tiny.en", tmp_path).write_text(json.dumps({"ct2": "x", "hf": "", "ov": "", "ggml": ""}))
    assert peers_env.missing(["tiny.en"], tmp_path) is None
    assert "base" in (peers_env.missing(["tiny.en", "base"], tmp_path) or "")


def test_paired_ratio_is_per_round():
    # ours 1, 2, 3 against 2, 2, 1: per-round 0.5, 1.0, 3.0 -> median 1.0 (the ratio of medians would be 1.0 too,
    # but 1, 1, 9 against 2, 2, 2 tells them apart: paired 0.5, ratio of medians 0.5; pairs 0.5, 0.5, 4.5)
    assert paired_ratio([1.0, 2.0, 3.0], [2.0, 2.0, 1.0]) == 1.0
    assert paired_ratio([1.0, 1.0, 9.0], [2.0, 2.0, 2.0]) == 0.5
    assert paired_ratio([1.0, None], [2.0, 4.0]) == 0.5
    assert paired_ratio([], []) is None


def _fake_result() -> dict:
    def engine(label: str, scale: float) -> dict:
        return {
            "label": label,
            "whole": {"jfk": [1.0 * scale] * 3, "long": [6.0 * scale] * 3},
            "inproc": {"jfk": [0.2 * scale] * 3, "long": [4.0 * scale] * 3},
            "rss_mb": [300.0, 310.0, 320.0],
            "wer": {"jfk": 0.0, "long": 0.05},
        }

    engines = {
        "ours": engine("OpenVINO CPU", 1.0),
        "ours-default": engine("OpenVINO CPU", 1.2),
        "genai": engine("OpenVINO GenAI", 0.5),
        "faster-whisper": engine("faster-whisper", 2.0),
        "whisper.cpp": {"label": "whisper.cpp", "error": "no ggml"},
    }
    return {
        "model": "tiny.en",
        "rounds": 3,
        "hog": True,
        "durations": {"jfk": 11.0, "long": 181.0},
        "load": {"before": "1.00", "after": "1.20"},
        "engines": engines,
    }


def test_report_tables():
    res = _fake_result()
    r = ratios(res)
    assert r["ours"]["genai"]["long inproc"] == pytest.approx(2.0)
    assert r["ours"]["faster-whisper"]["jfk whole"] == pytest.approx(0.5)
    assert r["ours-default"]["genai"]["jfk whole"] == pytest.approx(2.4)
    assert "whisper.cpp" not in r["ours"]
    text = report(res)
    assert "one core busy" in text and "medians of 3" in text
    assert "| amanuensis, same decoding / OpenVINO GenAI | 2.00 | 2.00 | 2.00 | 2.00 |" in text
    assert "310 MB" in text and "5.0 %" in text and "error: no ggml" in text


def test_merge_appends_pieces_in_order():
    from amanuensis_desktop.bench.peers import merge

    a, b = _fake_result(), _fake_result()
    for e in b["engines"].values():
        if not e.get("error"):
            e["inproc"]["long"] = [x * 2 for x in e["inproc"]["long"]]
            e["wer"] = {"long": 0.25}
    b["load"]["after"] = "3.00"
    m = merge([a, b])
    assert m["rounds"] == 6 and m["load"] == {"before": "1.00", "after": "3.00"}
    assert m["engines"]["ours"]["inproc"]["long"] == [4.0] * 3 + [8.0] * 3
    assert m["engines"]["ours"]["wer"] == {"jfk": 0.0, "long": 0.25}
    assert m["engines"]["whisper.cpp"]["error"] == "no ggml"
    assert a["engines"]["ours"]["inproc"]["long"] == [4.0] * 3  # the pieces are left alone
