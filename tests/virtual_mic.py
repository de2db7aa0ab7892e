"""Pytest fixture ``virtual_mic``: a real-time virtual microphone on a private PulseAudio daemon (see
:mod:`amanuensis_desktop.live.virtualmic`). Skips with a reason when pulseaudio is not installed.

The fixture (session scope) yields a ``VirtualMic``:

* ``.device`` — the name to pass as ``LiveOptions.device`` ("pulse", or "default" when no ``pulse`` device);
* ``.play(path_or_array, blocking=True)`` — play a file or a 16 kHz float32 array into the microphone;
  with ``blocking=False`` it returns the ``subprocess.Popen`` (``.wait()`` to join, ``.kill()`` to cut);
* ``.kill_source()`` — unload the remapped source and the null sink (the microphone is "unplugged");
* ``.restore()`` — load them again (call it after ``kill_source`` so later tests have a microphone).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def virtual_mic():
    from amanuensis_desktop.live.virtualmic import VirtualMic, available, restore_env

    reason = available()
    if reason:
        pytest.skip(f"no virtual microphone: {reason}")
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:  # PortAudio library missing
        pytest.skip(f"sounddevice cannot load PortAudio ({exc}); apt install libportaudio2")
    root = Path(tempfile.mkdtemp(prefix="virtmic-"))
    mic = VirtualMic(root)
    try:
        mic.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        mic.stop()
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a private PulseAudio daemon: {exc}")
    saved = mic.export_env()
    try:
        problem = mic.choose_device()
        if problem:
            pytest.skip(problem)
        yield mic
    finally:
        mic.stop()
        restore_env(saved)
        shutil.rmtree(root, ignore_errors=True)
