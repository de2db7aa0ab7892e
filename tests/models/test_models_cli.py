"""``amanuensis models`` as a user runs it (a real process) against the fake Hub: download with a dropped
connection resumed by Range, Ctrl+C leaving a resumable .part, a corrupt file refused, list, remove, and
``transcribe --model OWNER/REPO`` with the network unreachable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amanuensis_desktop.models.store import STAGING
from amanuensis_desktop.whisper.model import resolve_model_path
from amanuensis_desktop.whisper.wer import wer
from devtools.fakehub import FakeHub
from tests.models.constants import REPO

ROOT = Path(__file__).resolve().parents[2]


def amanuensis(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop", *args],
        cwd=ROOT,
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
    )


def _env(models_root: Path, endpoint: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "AMANUENSIS_MODELS_DIR": str(models_root), "HF_ENDPOINT": endpoint}


def test_download_list_remove_and_errors(hub, models_root):
    env = _env(models_root, hub.url)
    hub.faults.corrupt = {"model.bin"}
    bad = amanuensis("models", "download", REPO, env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("amanuensis: 'model.bin' is corrupt (sha256")
    hub.faults.corrupt = set()
    hub.faults.drop_after = {"model.bin": 1_234_567}
    ok = amanuensis("models", "download", REPO, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "installed acme/whisper-synth" in ok.stderr
    assert [g.range for g in hub.file_gets("model.bin")][-2:] == [None, "bytes=1234567-"]
    listing = amanuensis("models", env=env)
    assert listing.returncode == 0
    assert any(line.startswith(REPO) and "installed" in line for line in listing.stdout.splitlines())
    assert any(line.startswith("tiny.en ") and "embedded" in line for line in listing.stdout.splitlines())
    assert amanuensis("models", "remove", REPO, env=env).returncode == 0
    missing = amanuensis("models", "remove", "small", env=env)
    assert (missing.returncode, missing.stderr.strip()) == (1, "amanuensis: Model 'small' is not downloaded.")
    unknown = amanuensis("models", "download", "nope", env=env)
    assert unknown.returncode == 1 and unknown.stderr.strip().startswith("amanuensis: Unknown model 'nope'")


def test_ctrl_c_keeps_a_resumable_part(hub, models_root):
    env = _env(models_root, hub.url)
    hub.faults.rate = 1_000_000
    proc = subprocess.Popen(
        [sys.executable, "-m", "amanuensis_desktop", "models", "download", REPO],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    part = models_root / STAGING / "acme--whisper-synth" / "model.bin.part"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 300_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "cancelled" in err and "run it again to resume" in err and "Traceback" not in err
    kept = part.stat().st_size
    hub.faults.rate = None
    again = amanuensis("models", "download", REPO, env=env)
    assert again.returncode == 0 and "resumed from an earlier run" in again.stderr
    assert hub.file_gets("model.bin")[-1].range == f"bytes={kept}-"


@pytest.mark.slow
def test_transcribe_with_a_downloaded_repo_offline(shared_audio, models_root):
    with FakeHub({"owner/name": resolve_model_path(None)}) as hub:
        done = amanuensis("models", "download", "owner/name", env=_env(models_root, hub.url))
        assert done.returncode == 0, done.stderr
    env = _env(models_root, "http://192.0.2.1:9")  # unroutable: any network use would hang or fail
    env.update({"HTTP_PROXY": "http://192.0.2.1:9", "HTTPS_PROXY": "http://192.0.2.1:9"})
    run = amanuensis(
        "transcribe",
        "--backend",
        "cpu",
        "--model",
        "owner/name",
        "--format",
        "json",
        str(shared_audio / "goforward.wav"),
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert wer("go forward ten meters", json.loads(run.stdout)["text"]) <= 0.25, run.stdout
    wrong = amanuensis("transcribe", "--model", "small", str(shared_audio / "goforward.wav"), env=env)
    assert wrong.returncode != 0
    assert wrong.stderr.strip().splitlines()[-1] == (
        "amanuensis: Model 'small' is not downloaded; run `amanuensis models download small`."
    )
