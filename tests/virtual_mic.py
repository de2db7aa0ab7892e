"""Pytest fixture ``virtual_mic``: a real-time virtual microphone on a private PulseAudio daemon (see
:mod:`devtools.virtualmic`). Skips with a reason when pulseaudio is not installed.

The fixture (session scope) yields a ``VirtualMic``:

* ``.device`` — the name to pass as ``LiveOptions.device`` ("pulse", or "default" when no ``pulse`` device);
* ``.play(path_or_array, blocking=True)`` — play a file or a 16 kHz float32 array into the microphone;
  with ``blocking=False`` it returns the ``subprocess.Popen`` (``.wait()`` to join, ``.kill()`` to cut);
* ``.kill_source()`` — unload the remapped source and the null sink (the microphone is "unplugged");
* ``.restore()`` — load them again (call it after ``kill_source`` so later tests have a microphone).
"""

from __future__ import annotations

import contextlib

import pytest


@pytest.fixture(scope="session")
def virtual_mic():
    from devtools.virtualmic import VirtualMicError, session

    with contextlib.ExitStack() as stack:
        try:
            mic = stack.enter_context(session(prefix="virtmic-"))
        except VirtualMicError as exc:  # the session has cleaned up after itself
            pytest.skip(str(exc))
        yield mic
