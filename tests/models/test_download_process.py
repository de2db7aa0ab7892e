"""Downloads in a separate process that dies: killed mid-file (a crash), or stopped by a full disk
(``ulimit -f``: writes past the limit fail with EFBIG, as on a full disk). The next run resumes with Range."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from amanuensis_desktop.models import download_model, installed
from amanuensis_desktop.models.hub import RetryPolicy
from amanuensis_desktop.models.store import STAGING, folder_name
from tests.models.constants import MODEL_BIN_SIZE, REPO

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import sys\n"
    "from amanuensis_desktop.models import download_model, DownloadError\n"
    "from amanuensis_desktop.models.hub import RetryPolicy\n"
    "try:\n"
    "    download_model(sys.argv[1], policy=RetryPolicy(attempts=2, base_delay=0.01))\n"
    "except DownloadError as exc:\n"
    "    print(exc, file=sys.stderr)\n"
    "    sys.exit(1)\n"
)


def _spawn(preexec=None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, REPO],
        cwd=ROOT,
        env=env,
        preexec_fn=preexec,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _part(root: Path) -> Path:
    return root / STAGING / folder_name(REPO) / "model.bin.part"


def test_full_disk_leaves_a_resumable_part(hub, synth_repo, models_root):
    limit = 1_500_000

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = _spawn(small_disk)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        "The disk is full while writing model.bin.part; free some space and run the download again to resume."
    ]
    assert installed(models_root) == []
    kept = _part(models_root).stat().st_size
    assert 0 < kept <= limit
    result = download_model(REPO, policy=RetryPolicy(base_delay=0.01))
    assert hub.file_gets("model.bin")[-1].range == f"bytes={kept}-"
    assert result.resumed == kept and result.received == result.total - kept
    assert (result.folder / "model.bin").read_bytes() == (synth_repo / "model.bin").read_bytes()


def test_killed_process_resumes_where_it_stopped(hub, synth_repo, models_root):
    hub.faults.rate = 1_000_000
    proc = _spawn()
    part = _part(models_root)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 400_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # a crash: no clean-up code runs
    proc.wait(timeout=10)
    hub.faults.rate = None
    kept = part.stat().st_size
    assert 400_000 <= kept < MODEL_BIN_SIZE
    assert installed(models_root) == []
    result = download_model(REPO, policy=RetryPolicy(base_delay=0.01))
    assert hub.file_gets("model.bin")[-1].range == f"bytes={kept}-"
    assert result.received == result.total - result.resumed
    assert (result.folder / "model.bin").read_bytes() == (synth_repo / "model.bin").read_bytes()
