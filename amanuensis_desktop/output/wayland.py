"""Typing on Wayland through command-line tools: ``wtype`` (wlroots compositors: sway, Hyprland, river...),
``kwtype`` (KDE Plasma) and ``ydotool`` (any compositor, through /dev/uinput and its daemon).

``wtype`` uploads a keymap of its own, so any character types whatever the layout; ``ydotool`` sends US
keycodes, so only ASCII is safe with it (other characters raise, and the caller falls back to pasting).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from .errors import OutputError

logger = logging.getLogger(__name__)

_TIMEOUT_S = 10.0


def _run(tool: str, args: list[str]) -> None:
    try:
        done = subprocess.run([tool, *args], capture_output=True, timeout=_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise OutputError(f"{tool} is not installed.") from exc
    except subprocess.TimeoutExpired as exc:
        raise OutputError(f"{tool} did not finish typing within {_TIMEOUT_S:.0f} s.") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        raise OutputError(f"{tool} failed: {detail[-1] if detail else f'exit code {done.returncode}'}.")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


#: wtype uploads its keymap first; an app that gets a key before it has handled the new keymap drops it
#: (measured on sway 1.7 with a Qt receiver: 7 first characters of 10 lost; none with a 30 ms pause first)
_WTYPE_SETTLE = ["-s", "30"]


class WtypeTyper:
    """``wtype`` (the zwp_virtual_keyboard_v1 protocol of wlroots compositors)."""

    name = "Wayland (wtype)"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        if shutil.which("wtype") is None:
            raise OutputError("wtype is not installed (apt install wtype).")
        self.env = env

    def type_text(self, text: str) -> None:
        args: list[str] = []
        for i, line in enumerate(_lines(text)):
            if i:
                args += ["-k", "Return"]
            if line:
                args += ["--", line] if line.startswith("-") else [line]
        if args:
            _run("wtype", _WTYPE_SETTLE + args)

    def backspace(self, count: int) -> None:
        if count > 0:
            _run("wtype", _WTYPE_SETTLE + ["-k", "BackSpace"] * count)

    def paste(self, terminal: bool) -> None:
        mods = ["ctrl", "shift"] if terminal else ["ctrl"]
        _run(
            "wtype",
            _WTYPE_SETTLE
            + [a for m in mods for a in ("-M", m)]
            + ["v"]
            + [a for m in reversed(mods) for a in ("-m", m)],
        )

    def focused_is_terminal(self) -> bool:
        return False  # Wayland does not tell other clients which app has focus

    def close(self) -> None:
        pass


class KwtypeTyper:
    """``kwtype`` (KDE's fake-input protocol); it only types text, so "scratch that" cannot delete."""

    name = "Wayland KDE (kwtype)"

    def __init__(self) -> None:
        if shutil.which("kwtype") is None:
            raise OutputError("kwtype is not installed.")

    def type_text(self, text: str) -> None:
        if text:
            _run("kwtype", [text])

    def backspace(self, count: int) -> None:
        if count > 0:
            raise OutputError("kwtype cannot delete text, so 'scratch that' does nothing on this desktop.")

    def paste(self, terminal: bool) -> None:
        raise OutputError("kwtype cannot press shortcuts, so paste mode needs the RemoteDesktop portal here.")

    def focused_is_terminal(self) -> bool:
        return False

    def close(self) -> None:
        pass


#: Linux input event codes ydotool sends
_KEY_BACKSPACE, _KEY_LEFTCTRL, _KEY_LEFTSHIFT, _KEY_V = 14, 29, 42, 47


def ydotool_socket() -> Path:
    env = os.environ.get("YDOTOOL_SOCKET")
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime, ".ydotool_socket") if runtime else Path("/tmp/.ydotool_socket")


class YdotoolTyper:
    """``ydotool`` through /dev/uinput; needs its daemon ``ydotoold`` running and sends US keycodes."""

    name = "uinput (ydotool)"

    def __init__(self) -> None:
        if shutil.which("ydotool") is None:
            raise OutputError("ydotool is not installed.")
        if not os.access("/dev/uinput", os.W_OK):
            raise OutputError("/dev/uinput is not writable, so ydotool cannot type.")
        if not ydotool_socket().exists():
            raise OutputError("The ydotool daemon (ydotoold) is not running.")

    def type_text(self, text: str) -> None:
        if not text:
            return
        if not text.isascii():
            raise OutputError("ydotool types US-keyboard characters only, so this text needs paste mode.")
        _run("ydotool", ["type", "--", text])

    def backspace(self, count: int) -> None:
        if count > 0:
            _run("ydotool", ["key"] + [f"{_KEY_BACKSPACE}:{state}" for _ in range(count) for state in (1, 0)])

    def paste(self, terminal: bool) -> None:
        keys = [_KEY_LEFTCTRL, _KEY_LEFTSHIFT, _KEY_V] if terminal else [_KEY_LEFTCTRL, _KEY_V]
        _run("ydotool", ["key"] + [f"{k}:1" for k in keys] + [f"{k}:0" for k in reversed(keys)])

    def focused_is_terminal(self) -> bool:
        return False

    def close(self) -> None:
        pass
