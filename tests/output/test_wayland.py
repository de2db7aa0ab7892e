"""Typing on Wayland for real: a headless sway (wlroots) with a Qt receiver, `amanuensis type` through
wtype, paste mode through wl-copy + wtype's Ctrl+V with the clipboard given back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .xrig import start_receiver, stop

SAMPLE = "naïve café — 50 °C ß € Привет 日本 🎤"


@pytest.fixture(scope="module")
def sway() -> Iterator[dict[str, str]]:
    """A headless sway; the environment of its clients. sway refuses to run as root: then as nobody."""
    for tool in ("sway", "wtype", "wl-copy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt install sway wtype wl-clipboard)")
    runtime = Path(tempfile.mkdtemp(prefix="amanuensis-sway-"))  # not under pytest's root-only folder
    config = runtime / "config"
    config.write_text("output HEADLESS-1 resolution 1024x768\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(runtime),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    command = ["sway", "-c", str(config)]
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("sway refuses root and runuser is missing")
        shutil.chown(runtime, "nobody")
        runtime.chmod(0o700)
        config.chmod(0o644)
        command = [runuser, "-u", "nobody", "--", "env", *[f"{k}={v}" for k, v in env.items()], *command]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    sockets: list[Path] = []
    while not sockets and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        sockets = [p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock")]
    if not sockets:
        stop(proc)
        pytest.fail(f"sway did not start: {proc.stderr.read().decode(errors='replace')[-500:] if proc.stderr else ''}")
    client = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    client.update(
        XDG_RUNTIME_DIR=str(runtime),
        WAYLAND_DISPLAY=sockets[0].name,
        XDG_SESSION_TYPE="wayland",
        XDG_CURRENT_DESKTOP="sway",
        QT_QPA_PLATFORM="wayland",
    )
    try:
        yield client
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(5)
        shutil.rmtree(runtime, ignore_errors=True)


def _type(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop.output.command", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_type_through_wtype(sway, tmp_path):
    receiver = start_receiver(sway, tmp_path)
    try:
        done = _type(sway, "--raw", SAMPLE)
        assert done.returncode == 0, done.stderr
        assert "typing via Wayland (wtype)" in done.stderr
        assert receiver.wait_for(SAMPLE).get("text") == SAMPLE
    finally:
        stop(receiver.proc)


def test_paste_through_wl_copy_and_wtype(sway, tmp_path):
    # the user's clipboard, owned by another client (a Qt app cannot take the selection without an input
    # event of its own: the compositor ignores it, so the receiver does not own it here)
    subprocess.run(
        ["wl-copy", "the user's clipboard"],
        env=sway,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=10,
        check=True,
    )
    receiver = start_receiver(sway, tmp_path)
    try:
        done = _type(sway, "--output", "paste", "pasted on wayland — ß 🎤")
        assert done.returncode == 0, done.stderr
        assert receiver.wait_for("Pasted on wayland — ß 🎤", 5).get("text") == "Pasted on wayland — ß 🎤"
        check = subprocess.run(["wl-paste", "--no-newline"], env=sway, capture_output=True, text=True, timeout=10)
        assert check.stdout == "the user's clipboard"
    finally:
        stop(receiver.proc)


@pytest.mark.slow
def test_dictation_types_through_wtype(sway, tmp_path):
    """`dictate --output type --input jfk.wav` under sway: no indicator (it would take the focus there)."""
    from amanuensis_desktop.bench.corpus import shared_audio_dir
    from amanuensis_desktop.whisper.wer import wer

    jfk = shared_audio_dir() / "jfk.wav"
    if not jfk.is_file():
        pytest.skip(f"shared recordings not found at {jfk.parent}")
    receiver = start_receiver(sway, tmp_path)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "amanuensis_desktop",
                "dictate",
                "--output",
                "type",
                "--input",
                str(jfk),
                "--backend",
                "openvino",
            ],
            env=sway,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        reference = "And so my fellow Americans, ask not what your country can do for you, " + (
            "ask what you can do for your country."
        )
        deadline = time.monotonic() + 5
        while wer(reference, receiver.text) > 0.1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wer(reference, receiver.text) <= 0.1, receiver.text
    finally:
        stop(receiver.proc)
