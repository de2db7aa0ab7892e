"""The window's file jobs on hostile files: each job ends (done, or failed with one sentence), the queue goes on,
and a decoder that crashes natively costs its job only (decoding runs in a bounded child process)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

from amanuensis_desktop.ui.file_jobs import FileJobQueue, JobState  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402
from devtools import fuzzmedia  # noqa: E402

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def test_file_jobs_survive_hostile_files(qtbot, tmp_path, cpu_engine, shared_audio):
    cases = fuzzmedia.generate(tmp_path / "fuzz", seed=151, count=60, shared=shared_audio)
    wanted = {"a_folder.wav", "a_fifo.wav", "zero.wav", "ten_hours_declared.wav", "base_video_only.mp4"}
    picked = [c for c in cases if c.path.name in wanted] + [c for c in cases if c.kind in ("garbage", "header")][:3]
    queue = FileJobQueue(lambda job: cpu_engine)
    jobs = [queue.add(c.path) for c in picked] + [queue.add(shared_audio / "jfk.wav")]
    qtbot.waitUntil(lambda: not any(j.state.active for j in jobs), timeout=240_000)
    for job in jobs:
        assert job.state in (JobState.DONE, JobState.FAILED), job
        if job.state is JobState.FAILED:
            assert job.error.endswith(".") and "\n" not in job.error and "Traceback" not in job.error
    states = {j.path.name: j.state for j in jobs}
    assert states["a_fifo.wav"] is JobState.FAILED and states["base_video_only.mp4"] is JobState.FAILED
    assert states["ten_hours_declared.wav"] is JobState.DONE
    assert wer(JFK, jobs[-1].transcript.text) < 0.15
