"""A private X server (``Xvfb -noreset``: the keymap survives clients leaving) and a receiving window in a
separate process, for the typing, paste and hotkey tests."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from .xrig import Receiver, start_receiver, stop


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[str]:
    """``:N`` of a fresh Xvfb (the display number chosen by Xvfb itself)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-noreset", "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    data = b""
    deadline = time.monotonic() + 10
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([read_fd], [], [], 0.2)[0]:
            chunk = os.read(read_fd, 32)
            if not chunk:
                break
            data += chunk
    os.close(read_fd)
    if not data.strip():
        stop(proc)
        pytest.fail("Xvfb did not start")
    try:
        yield f":{data.decode().strip()}"
    finally:
        stop(proc)


@pytest.fixture
def receiver(xdisplay, tmp_path) -> Iterator[Receiver]:
    rec = start_receiver(xdisplay, tmp_path)
    try:
        yield rec
    finally:
        stop(rec.proc)
