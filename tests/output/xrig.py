"""Helpers of the X11 tests: the receiving app in its own process, and stopping processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from devtools.xvfb import stop as stop  # re-exported: the tests stop their processes with it

RECEIVER = Path(__file__).with_name("receiver.py")


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

    def clipboard_history(self) -> list[str]:
        """Every text the clipboard held since the receiver started, oldest first."""
        if self.clipboard_log is None:
            return []
        try:
            lines = self.clipboard_log.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line)["text"] for line in lines if line.strip()]

    def clipboard(self) -> str | None:
        history = self.clipboard_history()
        return history[-1] if history else None


def start_receiver(display: str | dict[str, str], tmp_path: Path, *extra: str, name: str = "receiver") -> Receiver:
    """The receiving app on the X display ``display`` (":N") or with the environment ``display``."""
    out = tmp_path / f"{name}.json"
    log = tmp_path / f"{name}-clipboard.json" if "--clipboard" in extra else None
    args = [sys.executable, str(RECEIVER), str(out), *extra]
    if log is not None:
        args += ["--clipboard-log", str(log)]
    env = x_env(display) if isinstance(display, str) else display
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    receiver = Receiver(proc, out, log)
    while not receiver.state().get("ready"):
        if proc.poll() is not None:
            raise RuntimeError(f"the receiver exited: {proc.stderr.read().decode(errors='replace')[-800:]}")
        if time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError("the receiver did not start")
        time.sleep(0.05)
    time.sleep(0.2)  # focus set
    return receiver


def typing_delays(receiver: Receiver, output_log: Path) -> list[float]:
    """Seconds from each final (emitted by the pipeline) to its last character in the receiver, from the
    service's AMANUENSIS_OUTPUT_LOG and the receiver's change history."""
    history = [json.loads(line) for line in Path(str(receiver.out) + ".log").read_text().splitlines() if line]
    delays = []
    for line in output_log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        reached = next((h["t"] for h in history if h["n"] >= len(entry["typed"])), None)
        if reached is not None:
            delays.append(reached - entry["final_t"])
    return delays
