"""Push-to-talk in the window, end to end: ``amanuensis ptt-press`` / ``ptt-release`` over the control socket
drive the running window's dictation on the pipeline's push-to-talk API (press = the utterance begins, release =
it ends with no hang-over), with real speech played into the virtual microphone (private PulseAudio daemon),
the real CPU engine and the real window. Nothing is faked.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

# E402 below: these imports must follow the importorskip guards (they need PySide6 and pytest-qt).
from amanuensis_desktop.output.control import ControlCommand, send_command  # noqa: E402
from amanuensis_desktop.ui.dictation import DictationState  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402
from tests.ui.support import JFK_REF, make_window  # noqa: E402

LAMP_REF = "Turn on the living room lamp."


def test_push_to_talk_over_the_control_socket(qtbot, tmp_path, monkeypatch, cpu_engine, shared_audio, virtual_mic):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # the window's control socket (PULSE_SERVER is explicit)
    w = make_window(qtbot, tmp_path, cpu_engine, input_device=virtual_mic.device)
    finals: list[tuple[float, str]] = []
    w.dictation.final.connect(lambda text, *_: finals.append((time.monotonic(), text)))

    # press: the window starts a push-to-talk dictation
    assert send_command(ControlCommand.PTT_PRESS) == "ok"
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.LISTENING, timeout=15000)
    assert w.dictation.push_to_talk
    qtbot.wait(300)
    player = virtual_mic.play(shared_audio / "jfk.wav", blocking=False)
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=40000)
    qtbot.wait(150)  # what PulseAudio still holds reaches the pipeline
    # jfk pauses 0.7 s after "ask not" and ends in 0.4 s of silence: hands-free both would have cut or waited
    assert not [t for _, t in finals if t.strip()], "a segment closed while the key was held"
    t_release = time.monotonic()
    assert send_command(ControlCommand.PTT_RELEASE) == "ok"
    qtbot.waitUntil(lambda: any(t.strip() for _, t in finals), timeout=20000)
    first_latency = finals[-1][0] - t_release
    assert len([t for _, t in finals if t.strip()]) == 1  # one utterance, one final
    assert wer(JFK_REF, finals[-1][1]) <= 0.10, finals
    # released: the dictation keeps listening, but speech opens no segment until the next press
    assert w.dictation_state is DictationState.LISTENING
    virtual_mic.play(shared_audio / "turn_on_the_living_room_lamp.wav")
    qtbot.wait(1500)
    assert len([t for _, t in finals if t.strip()]) == 1, finals

    # the next press: the same pipeline hears the next utterance
    n = len(finals)
    assert send_command(ControlCommand.PTT_PRESS) == "ok"
    qtbot.wait(200)
    virtual_mic.play(shared_audio / "turn_on_the_living_room_lamp.wav")
    qtbot.wait(150)
    t_release = time.monotonic()
    send_command(ControlCommand.PTT_RELEASE)
    qtbot.waitUntil(lambda: len(finals) > n, timeout=20000)
    second_latency = finals[-1][0] - t_release
    assert wer(LAMP_REF, finals[-1][1]) <= 0.2, finals
    print(f"\nfinal after release: {first_latency:.3f} s (jfk), {second_latency:.3f} s (lamp)")
    # the release is the end: the final is one decode away (0.1-0.3 s for tiny.en on a quiet machine; a 2-core
    # machine shared with other runs can take seconds: the bound only says no hang-over or stall was waited for)
    assert first_latency < 4.0 and second_latency < 4.0

    # the toggle stops it; what was said is in the window
    send_command(ControlCommand.TOGGLE)
    qtbot.waitUntil(lambda: w.dictation_state is DictationState.IDLE, timeout=20000)
    assert wer(JFK_REF + " " + LAMP_REF, w.transcript_text()) <= 0.10, w.transcript_text()
