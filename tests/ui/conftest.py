"""Every window test ends only when the threads it started (engine loads, file jobs) have finished: Qt aborts the
process when a running QThread is destroyed at exit, which would fail the whole run after its tests passed."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _threads_finish(qtbot):
    yield
    from amanuensis_desktop.ui.threads import Task

    assert Task.wait_all(120_000), "a background task was still running two minutes after its test"
