"""A private X server with a system tray (Xvfb + trayer), for the tray test and the tray screenshot.

    with private_tray() as env:  # env: os.environ with DISPLAY set to the private server
        subprocess.run([...], env=env)

Xvfb picks a free display itself (``-displayfd``); both processes are stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator


class XvfbUnavailable(RuntimeError):
    """Xvfb or trayer is not installed, or the X server did not start (the message says which)."""


def _read_display(fd: int, timeout: float) -> str:
    """The display number Xvfb writes to ``fd`` (one line), or "" when it does not within ``timeout``."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def stop(proc: subprocess.Popen | None) -> None:
    """Terminate ``proc`` (kill it after 5 s) and reap it; nothing when it is None or has ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def private_tray(
    screen: str = "1280x800x24", tray_height: int = 24, trayer_args: tuple[str, ...] = (), settle_s: float = 0.5
) -> Iterator[dict]:
    """Start Xvfb and trayer (top right); yield the environment for clients (DISPLAY set, WAYLAND_DISPLAY
    removed). Raises :class:`XvfbUnavailable` when it cannot."""
    for tool in ("Xvfb", "trayer"):
        if shutil.which(tool) is None:
            raise XvfbUnavailable(f"{tool} is not installed (apt install xvfb trayer)")
    read_fd, write_fd = os.pipe()
    try:
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(write_fd)
    trayer = None
    try:
        try:
            display = _read_display(read_fd, 10.0)
        finally:
            os.close(read_fd)
        if not display:
            raise XvfbUnavailable("Xvfb did not start")
        env = dict(os.environ, DISPLAY=f":{display}")
        env.pop("WAYLAND_DISPLAY", None)
        trayer = subprocess.Popen(
            [
                "trayer",
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                str(tray_height),
                *trayer_args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(settle_s)
        yield env
    finally:
        stop(trayer)
        stop(xvfb)
