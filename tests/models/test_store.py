"""The catalog, the spec resolver (disk only) and removal."""

from __future__ import annotations

import pytest

from amanuensis_desktop.errors import ModelError
from amanuensis_desktop.models import CATALOG, DownloadError, download_model, installed, lookup, remove, resolve_model
from amanuensis_desktop.models.catalog import names
from amanuensis_desktop.models.download import select_files, target_for
from amanuensis_desktop.models.hub import RemoteFile, RetryPolicy, Snapshot
from amanuensis_desktop.models.store import STAGING, folder_name
from amanuensis_desktop.whisper.model import resolve_model_path
from tests.models.constants import REPO


def test_catalog_is_complete_and_consistent():
    assert set(names()) == {
        "tiny.en",
        "tiny",
        "base",
        "base.en",
        "small",
        "small.en",
        "medium",
        "medium.en",
        "large-v3",
        "large-v3-turbo",
        "distil-small.en",
        "distil-medium.en",
        "distil-large-v3",
        "distil-large-v3.5",
    }
    for e in CATALOG:
        assert e.n_mels == (128 if "large-v3" in e.name else 80), e.name
        assert e.english_only == (e.name.endswith(".en") or e.name.startswith("distil")), e.name
        assert e.can_translate == (not e.english_only and e.name != "large-v3-turbo"), e.name
        assert (e.dims.n_vocab == 51864) == e.name.endswith(".en"), e.name
        assert len(e.revision) == 40 or e.revision == "main"
    assert lookup("Small").name == "small" and lookup("nope") is None
    assert lookup("tiny.en").sha256["model.bin"].startswith("1a5afae0")


def test_a_catalog_repo_keeps_its_pins_by_either_name():
    by_name, by_repo = target_for("tiny.en"), target_for("Systran/faster-whisper-tiny.en")
    assert by_name.repo == by_repo.repo and by_name.revision == by_repo.revision == lookup("tiny.en").revision
    assert by_repo.pinned == by_name.pinned and by_repo.name == "Systran/faster-whisper-tiny.en"
    assert target_for("acme/x").revision == "main" and target_for("acme/x", "v2").revision == "v2"
    assert target_for("small", "main").pinned == {}


def test_file_selection_by_format():
    def snap(*files: str) -> Snapshot:
        return Snapshot("o/r", "c" * 40, {f: RemoteFile(f, 1) for f in files})

    assert select_files(snap("model.bin", "config.json", "tokenizer.json", "vocabulary.json", "README.md")) == [
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    ]
    hf = snap(
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "pytorch_model.bin.index.json",
        "merges.txt",
        "generation_config.json",
        "tf_model.h5",
    )
    assert select_files(hf) == [
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "generation_config.json",
        "merges.txt",
    ]
    with pytest.raises(DownloadError, match="lacks tokenizer.json"):
        select_files(snap("model.bin", "config.json"))
    with pytest.raises(DownloadError, match="several safetensors files"):
        select_files(snap("model-00001-of-00002.safetensors", "config.json", "tokenizer.json"))
    with pytest.raises(DownloadError, match="holds no Whisper"):
        select_files(snap("ggml-tiny.bin"))


def test_resolve_specs_from_disk(models_root, tmp_path, monkeypatch):
    embedded = resolve_model_path(None)
    assert resolve_model(None) == resolve_model("") == resolve_model("tiny.en") == embedded
    assert resolve_model(str(embedded)) == embedded  # a folder
    with pytest.raises(ModelError) as info:
        resolve_model("small")
    assert str(info.value) == "Model 'small' is not downloaded; run `amanuensis models download small`."
    with pytest.raises(ModelError, match=r"^Model 'acme/x' is not downloaded; run `amanuensis models download acme/x`"):
        resolve_model("acme/x")
    with pytest.raises(ModelError, match="^Unknown model 'huge'"):
        resolve_model("huge")
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model("./no/such/folder")
    monkeypatch.chdir(tmp_path)  # a relative folder that looks like a repo id is a folder when it exists
    (tmp_path / "acme" / "x").mkdir(parents=True)
    with pytest.raises(ModelError, match="has neither model.bin nor model.safetensors"):
        resolve_model("acme/x")
    staged = models_root / STAGING / "acme--y"
    staged.mkdir(parents=True)
    (staged / "model.bin.part").write_bytes(b"x")  # a partial download is not a model
    assert installed(models_root) == []
    with pytest.raises(ModelError, match="is not downloaded"):
        resolve_model("acme/y")


def test_remove(hub, models_root):
    with pytest.raises(ModelError, match="embedded in the app and cannot be removed"):
        remove("tiny.en")
    with pytest.raises(ModelError, match="is not downloaded"):
        remove(REPO)
    folder = download_model(REPO, policy=RetryPolicy(base_delay=0.01)).folder
    (models_root / STAGING / folder_name(REPO)).mkdir()
    assert remove(REPO) == folder
    assert not folder.exists() and not (models_root / STAGING / folder_name(REPO)).exists()
    assert installed(models_root) == [] and list((models_root / ".trash").iterdir()) == []


def test_a_folder_damaged_after_install_is_not_listed(hub, models_root):
    folder = download_model(REPO, policy=RetryPolicy(base_delay=0.01)).folder
    with open(folder / "model.bin", "r+b") as f:
        f.truncate(10)
    assert installed(models_root) == []
    with pytest.raises(ModelError, match=r"is incomplete; run `amanuensis models download acme/whisper-synth` again"):
        resolve_model(REPO)
    assert download_model(REPO, policy=RetryPolicy(base_delay=0.01)).received > 0  # fetched again, replaced
    assert [m.repo for m in installed(models_root)] == [REPO]
