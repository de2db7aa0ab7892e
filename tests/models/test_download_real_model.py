"""End to end with real weights: the embedded tiny.en folder (~78 MB) served by the fake Hub under its real
repository name and pinned commit, downloaded (verified against the catalog's pinned sha256, resumed after a
dropped connection), then loaded and run on jfk.wav with the network gone."""

from __future__ import annotations

import pytest

from amanuensis_desktop.models import download_model, lookup, resolve_model
from amanuensis_desktop.models.hub import RetryPolicy
from amanuensis_desktop.whisper.model import resolve_model_path
from amanuensis_desktop.whisper.wer import wer
from devtools.fakehub import FakeHub

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@pytest.mark.slow
def test_real_tiny_en_downloads_and_transcribes_offline(shared_audio, models_root, monkeypatch, network_gone):
    entry = lookup("tiny.en")
    with FakeHub({entry.repo: (resolve_model_path(None), entry.revision)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.faults.redirect = True
        hub.faults.drop_after = {"model.bin": 30_000_000}
        result = download_model(entry.repo, policy=RetryPolicy(base_delay=0.01))
        assert [g.range for g in hub.file_gets("model.bin") if g.status != 302] == [None, "bytes=30000000-"]
    assert result.commit == entry.revision and result.total > 78_000_000
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.engine import Engine

    audio = load_audio(shared_audio / "jfk.wav")
    with network_gone() as attempts:
        folder = resolve_model(entry.repo)
        assert folder == result.folder
        engine = Engine.load("cpu", model=folder)
        text = engine.transcribe(audio).text
    assert attempts == []
    assert wer(JFK, text) < 0.1, text


def test_a_safetensors_repository_downloads_and_loads(tmp_path, models_root, monkeypatch, network_gone):
    """The other format: a transformers checkpoint (model.safetensors + config.json + tokenizer.json)."""
    from amanuensis_desktop.whisper.model import load_weights, write_safetensors

    embedded = resolve_model_path(None)
    weights = load_weights(embedded)
    repo_folder = tmp_path / "hf"
    write_safetensors(weights, repo_folder, tokenizer_json=embedded / "tokenizer.json")
    (repo_folder / "pytorch_model.bin").write_bytes(b"\0" * 1000)  # another format of the same weights: skipped
    with FakeHub({"acme/whisper-tiny.en-hf": repo_folder}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = download_model("acme/whisper-tiny.en-hf", policy=RetryPolicy(base_delay=0.01))
    assert sorted(p.name for p in result.folder.iterdir() if not p.name.startswith(".")) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]
    with network_gone() as attempts:
        loaded = load_weights(resolve_model("acme/whisper-tiny.en-hf"))
    assert attempts == [] and loaded.dims == weights.dims
