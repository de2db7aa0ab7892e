"""The window dictating into another app for real: `amanuensis --dictate` with Settings → output "type" on
Xvfb, jfk.wav through the virtual microphone, the words typed into the focused receiver; `amanuensis status`
and `amanuensis toggle` reach the window."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("Xlib")

from amanuensis_desktop.output.control import ControlCommand, send_command  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402

from .test_dictate_anywhere import JFK, _wait_status  # noqa: E402
from .xrig import start_receiver, stop, x_env  # noqa: E402


@pytest.mark.slow
def test_window_types_finals_into_the_focused_app(xdisplay, tmp_path, virtual_mic, shared_audio):
    config = tmp_path / "config" / "amanuensis"
    config.mkdir(parents=True)
    (config / "amanuensis.ini").write_text(
        f"[General]\noutput_mode=type\nbackend=openvino\ninput_device={virtual_mic.device}\n"
    )
    env = x_env(xdisplay)
    env.update(
        PULSE_SERVER=virtual_mic.env["PULSE_SERVER"],
        XDG_RUNTIME_DIR=virtual_mic.env["XDG_RUNTIME_DIR"],
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        AMANUENSIS_DATA_DIR=str(tmp_path / "data"),
    )
    socket_path = Path(env["XDG_RUNTIME_DIR"], "amanuensis", "control.sock")
    app = subprocess.Popen(
        [sys.executable, "-m", "amanuensis_desktop", "--dictate"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    receiver = None
    try:
        assert _wait_status(socket_path, "listening", 90) == "listening"
        receiver = start_receiver(xdisplay, tmp_path)  # the app the user is in: it has the focus
        time.sleep(1.0)
        virtual_mic.play(shared_audio / "jfk.wav", blocking=True)
        deadline = time.monotonic() + 15
        while wer(JFK, receiver.text) > 0.1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert wer(JFK, receiver.text) <= 0.1, receiver.text
        assert send_command(ControlCommand.TOGGLE, socket_path) == "ok"
        assert _wait_status(socket_path, "idle", 60) == "idle"
    finally:
        if receiver is not None:
            stop(receiver.proc)
        stop(app)
        _, err = app.communicate()
    assert "Traceback" not in err, err[-3000:]
