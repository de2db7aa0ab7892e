"""The single running instance and its control socket; the toggle/push-to-talk logic."""

from __future__ import annotations

import subprocess
import sys

import pytest

from amanuensis_desktop.output.control import ControlCommand, ControlServer, DictationControl, ListenState, send_command
from amanuensis_desktop.output.errors import OutputError
from amanuensis_desktop.output.hotkeys import HotkeyAction, HotkeyEvent


class FakeDictation:
    """The dictation's start/stop, with the 'finishing' step done at once."""

    def __init__(self):
        self.listen_state = ListenState.IDLE
        self.calls = []

    def start_listening(self):
        self.calls.append("start")
        self.listen_state = ListenState.LISTENING

    def stop_listening(self):
        self.calls.append("stop")
        self.listen_state = ListenState.IDLE


def test_toggle_and_push_to_talk_logic():
    dictation = FakeDictation()
    control = DictationControl(dictation, post=lambda fn: fn())
    control.hotkey(HotkeyEvent(HotkeyAction.TOGGLE, True))
    control.hotkey(HotkeyEvent(HotkeyAction.TOGGLE, False))  # a toggle's release does nothing
    assert dictation.listen_state is ListenState.LISTENING
    control.hotkey(HotkeyEvent(HotkeyAction.PUSH_TO_TALK, False))  # not started by push-to-talk: ignored
    assert dictation.listen_state is ListenState.LISTENING
    control.command(ControlCommand.TOGGLE)
    control.command(ControlCommand.PTT_PRESS)
    assert control.command(ControlCommand.STATUS) == "listening"
    control.command(ControlCommand.PTT_RELEASE)
    assert dictation.calls == ["start", "stop", "start", "stop"]
    dictation.listen_state = ListenState.FINISHING
    control.command(ControlCommand.TOGGLE)  # finishing: neither start nor stop
    assert control.command(ControlCommand.STATUS) == "finishing" and len(dictation.calls) == 4


def test_socket_round_trip_second_instance_and_cli_client(tmp_path):
    dictation = FakeDictation()
    control = DictationControl(dictation, post=lambda fn: fn())
    path = tmp_path / "run" / "amanuensis" / "control.sock"
    server = ControlServer(control.command, path)
    server.start()
    try:
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert send_command(ControlCommand.STATUS, path) == "idle"
        assert send_command(ControlCommand.TOGGLE, path) == "ok"
        assert send_command(ControlCommand.STATUS, path) == "listening"
        with pytest.raises(OutputError, match="already running"):
            ControlServer(control.command, path).start()
        # a second process, as `amanuensis status` would be
        code = (
            "import sys; from pathlib import Path; from amanuensis_desktop.output.control import *; "
            f"print(send_command(ControlCommand.STATUS, Path({str(path)!r})))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        assert done.stdout.strip() == "listening", done.stderr
    finally:
        server.stop()
    assert not path.exists()
    with pytest.raises(OutputError, match="not running"):
        send_command(ControlCommand.STATUS, path)


def test_stale_socket_is_replaced(tmp_path):
    import socket

    path = tmp_path / "control.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    server = ControlServer(lambda c: "idle", path)
    server.start()
    try:
        assert send_command(ControlCommand.STATUS, path) == "idle"
    finally:
        server.stop()


class PttDictation(FakeDictation):
    """A dictation that knows push-to-talk itself (the window): press/release are its own calls."""

    def ptt_press(self):
        self.calls.append("press")

    def ptt_release(self):
        self.calls.append("release")


def test_push_to_talk_goes_to_a_dictation_that_knows_it():
    dictation = PttDictation()
    control = DictationControl(dictation, post=lambda fn: fn())
    control.hotkey(HotkeyEvent(HotkeyAction.PUSH_TO_TALK, True))
    control.hotkey(HotkeyEvent(HotkeyAction.PUSH_TO_TALK, False))
    control.command(ControlCommand.PTT_PRESS)
    control.command(ControlCommand.PTT_RELEASE)
    control.command(ControlCommand.TOGGLE)
    assert dictation.calls == ["press", "release", "press", "release", "start"]


def test_type_transcript_is_answered_on_the_owners_thread(tmp_path):
    """The verdict of ``type-transcript`` comes from the owner's thread (the window's GUI thread); an instance with
    no transcript (``amanuensis dictate``) says so in one sentence; an owner that never answers times out."""
    import queue
    import threading

    from amanuensis_desktop.output.control import NO_TRANSCRIPT

    jobs: queue.Queue = queue.Queue()
    owner_threads = []

    def owner() -> None:  # stands for the GUI thread's event loop
        while (fn := jobs.get()) is not None:
            fn()

    def type_transcript() -> str:
        owner_threads.append(threading.current_thread().name)
        if len(owner_threads) > 1:
            raise OutputError("Nothing to type yet: the transcript is empty.")
        return "ok"

    loop = threading.Thread(target=owner, name="owner")
    loop.start()
    path = tmp_path / "control.sock"
    server = ControlServer(DictationControl(FakeDictation(), jobs.put, type_transcript).command, path)
    server.start()
    try:
        assert send_command(ControlCommand.TYPE_TRANSCRIPT, path) == "ok"
        with pytest.raises(OutputError, match="^Nothing to type yet: the transcript is empty.$"):
            send_command(ControlCommand.TYPE_TRANSCRIPT, path)
        assert owner_threads == ["owner", "owner"]
    finally:
        server.stop()
        jobs.put(None)
        loop.join()
    with pytest.raises(OutputError, match=NO_TRANSCRIPT):
        DictationControl(FakeDictation(), lambda fn: fn()).command(ControlCommand.TYPE_TRANSCRIPT)
    stuck = DictationControl(FakeDictation(), lambda fn: None, lambda: "ok", answer_timeout_s=0.2)
    with pytest.raises(OutputError, match="did not answer in time"):
        stuck.command(ControlCommand.TYPE_TRANSCRIPT)
