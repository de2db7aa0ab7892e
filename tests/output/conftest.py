"""A private X server (``Xvfb -noreset``: the keymap survives clients leaving) and a receiving window in a
separate process, for the typing, paste and hotkey tests."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

RECEIVER = Path(__file__).with_name("receiver.py")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def xdisplay() -> Iterator[str]:
    """``:N`` of a fresh Xvfb (the display number chosen by Xvfb itself)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-noreset", "-nolisten", "tcp",
                             "-screen", "0", "1024x768x24"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        _stop(proc)
        pytest.fail("Xvfb did not start")
    try:
        yield f":{data.decode().strip()}"
    finally:
        _stop(proc)


def x_env(xdisplay: str) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=xdisplay, QT_QPA_PLATFORM="xcb", XDG_SESSION_TYPE="x11")
    env.pop("WAYLAND_DISPLAY", None)
    return env


class Receiver:
    """The receiving app: its text as the file says; ``wait_for(text)`` polls until it matches."""

    def __init__(self, proc: subprocess.Popen, out: Path, clipboard_log: Path | None) -> None:
        self.proc, self.out, self.clipboard_log = proc, out, clipboard_log

    def state(self) -> dict:
        try:
            return json.loads(self.out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @property
    def text(self) -> str:
        return self.state().get("text", "")

    def wait_for(self, expected: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        state = self.state()
        while state.get("text") != expected and time.monotonic() < deadline:
            time.sleep(0.02)
            state = self.state()
        return state

    def clipboard(self) -> str | None:
        if self.clipboard_log is None:
            return None
        try:
            return json.loads(self.clipboard_log.read_text(encoding="utf-8"))["text"]
        except (OSError, ValueError, KeyError):
            return None


def start_receiver(xdisplay: str, tmp_path: Path, *extra: str, name: str = "receiver") -> Receiver:
    out = tmp_path / f"{name}.json"
    log = tmp_path / f"{name}-clipboard.json" if "--clipboard" in extra else None
    args = [sys.executable, str(RECEIVER), str(out), *extra]
    if log is not None:
        args += ["--clipboard-log", str(log)]
    proc = subprocess.Popen(args, env=x_env(xdisplay), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    receiver = Receiver(proc, out, log)
    while not receiver.state().get("ready"):
        if proc.poll() is not None:
            raise RuntimeError(f"the receiver exited: {proc.stderr.read().decode(errors='replace')[-800:]}")
        if time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError("the receiver did not start")
        time.sleep(0.05)
    time.sleep(0.2)  # focus set
    return receiver


@pytest.fixture
def receiver(xdisplay, tmp_path) -> Iterator[Receiver]:
    rec = start_receiver(xdisplay, tmp_path)
    try:
        yield rec
    finally:
        _stop(rec.proc)
