"""Downloads from a real HTTP server (the fake Hub): install, resume, faults — never a half-installed model."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from amanuensis_desktop.errors import ModelError
from amanuensis_desktop.models import DownloadCancelled, DownloadError, download_model, installed, resolve_model
from amanuensis_desktop.models.hub import RetryPolicy
from amanuensis_desktop.models.store import MANIFEST, STAGING, folder_name
from tests.models.constants import MODEL_BIN_SIZE, REPO

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def part_file(root, name="model.bin"):
    return root / STAGING / folder_name(REPO) / (name + ".part")


def assert_not_installed(root) -> None:
    assert installed(root) == []
    assert not (root / folder_name(REPO)).exists()
    with pytest.raises(ModelError, match="is not downloaded"):
        resolve_model(REPO)


def test_download_installs_verified_files_only(hub, synth_repo, models_root):
    seen = []
    result = download_model(REPO, progress=seen.append, policy=FAST)
    folder = models_root / "acme--whisper-synth"
    assert result.folder == folder and not result.already_installed
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST, "model.bin", "config.json", "tokenizer.json", "vocabulary.txt"]
    )
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert sha256(folder / name) == sha256(synth_repo / name)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["commit"] == hub.repos[REPO].commit
    assert manifest["files"]["model.bin"]["sha256"] == sha256(synth_repo / "model.bin")  # from the LFS ETag
    assert "git-sha1" in manifest["files"]["config.json"]  # small files: their git blob id
    assert seen[-1].done == seen[-1].total == result.total and seen[-1].eta == 0
    assert result.received == result.total
    assert list((models_root / STAGING).iterdir()) in ([], [models_root / STAGING / "acme--whisper-synth.lock"])
    assert [m.repo for m in installed()] == [REPO]
    assert resolve_model(REPO) == folder
    again = download_model(REPO, policy=FAST)  # same commit: nothing fetched
    assert again.already_installed and again.received == 0


def test_redirect_to_cdn(hub, models_root):
    hub.faults.redirect = True
    download_model(REPO, policy=FAST)
    assert any(r.path.startswith("/cdn/") and r.status == 200 for r in hub.file_gets("model.bin"))


def test_dropped_connection_resumes_with_range(hub, synth_repo, models_root):
    cut = 1_000_000
    hub.faults.drop_after = {"model.bin": cut}
    result = download_model(REPO, policy=FAST)
    gets = hub.file_gets("model.bin")
    assert [g.range for g in gets] == [None, f"bytes={cut}-"]
    assert gets[1].status == 206
    assert sha256(result.folder / "model.bin") == sha256(synth_repo / "model.bin")
    assert result.received == result.total  # nothing fetched twice


def _cancel_midway(hub, at: int) -> DownloadCancelled:
    cancel = threading.Event()
    hub.faults.rate = 2_000_000

    def progress(p):
        if p.file == "model.bin" and p.done >= at:
            cancel.set()

    with pytest.raises(DownloadCancelled) as info:
        download_model(REPO, progress=progress, cancel=cancel, policy=FAST)
    hub.faults.rate = None
    return info.value


def test_cancel_keeps_part_and_next_run_resumes(hub, synth_repo, models_root):
    err = _cancel_midway(hub, 500_000)
    assert "cancelled" in str(err) and "run it again to resume" in str(err)
    part = part_file(models_root)
    kept = part.stat().st_size
    assert 0 < kept < MODEL_BIN_SIZE
    assert_not_installed(models_root)
    result = download_model(REPO, policy=FAST)  # a new run, as after a restart
    assert hub.file_gets("model.bin")[-1].range == f"bytes={kept}-"
    assert result.resumed >= kept and result.received == result.total - result.resumed
    assert sha256(result.folder / "model.bin") == sha256(synth_repo / "model.bin")
    assert not part.exists()


def test_server_ignoring_range_restarts_the_file_cleanly(hub, synth_repo, models_root):
    _cancel_midway(hub, 500_000)
    hub.faults.ignore_range = True
    result = download_model(REPO, policy=FAST)
    last = hub.file_gets("model.bin")[-1]
    assert last.range is not None and last.status == 200
    assert sha256(result.folder / "model.bin") == sha256(synth_repo / "model.bin")


def test_500_and_429_are_retried(hub, models_root):
    hub.faults.statuses = [500, 429, 503]
    hub.faults.retry_after = 0
    result = download_model(REPO, policy=FAST)
    assert (result.folder / "model.bin").stat().st_size == MODEL_BIN_SIZE
    assert [r.status for r in hub.file_gets("model.bin")][:3] == [500, 429, 503]


def test_persistent_server_errors_end_in_one_sentence(hub, models_root):
    hub.faults.statuses = [500] * 20
    with pytest.raises(DownloadError) as info:
        download_model(REPO, policy=FAST)
    message = str(info.value)
    assert (
        message.startswith("Could not download")
        and "server error 500" in message
        and message.endswith(".")
        and "\n" not in message
    )
    assert_not_installed(models_root)


def test_corrupted_file_is_rejected_and_deleted(hub, models_root):
    hub.faults.corrupt = {"model.bin"}
    with pytest.raises(DownloadError, match=r"'model.bin' is corrupt \(sha256"):
        download_model(REPO, policy=FAST)
    assert not part_file(models_root).exists()
    assert_not_installed(models_root)
    hub.faults.corrupt = set()
    assert download_model(REPO, policy=FAST).folder.is_dir()  # the next run starts clean


def test_not_enough_disk_space_is_refused_before_starting(hub, models_root):
    hub.faults.advertise_size = {"model.bin": 10**16}
    with pytest.raises(DownloadError, match="Not enough disk space"):
        download_model(REPO, policy=FAST)
    assert hub.file_gets("model.bin") == []
    assert_not_installed(models_root)


def test_unknown_repository_and_unreachable_hub(hub, models_root, monkeypatch):
    with pytest.raises(DownloadError, match=r"The Hub has no repository 'acme/nope'.*\(HTTP 404\)"):
        download_model("acme/nope", policy=FAST)
    with pytest.raises(DownloadError, match="Unknown model 'nope'"):
        download_model("nope", policy=FAST)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # read at call time: nothing listens there
    with pytest.raises(DownloadError, match=r"cannot connect to the Hub \(4 tries\)"):
        download_model(REPO, policy=FAST)


def test_installed_model_resolves_with_the_network_gone(hub, models_root, network_gone):
    folder = download_model(REPO, policy=FAST).folder
    with network_gone() as attempts:
        assert resolve_model(REPO) == folder
        with pytest.raises(
            ModelError, match=r"Model 'small' is not downloaded; run `amanuensis models download small`"
        ):
            resolve_model("small")
    assert attempts == []  # not one connection was tried
