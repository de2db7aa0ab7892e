"""Where a whole ``amanuensis transcribe FILE`` process spends its time, from the process's own start.

Runs the real CLI in this process with the start-up steps wrapped: each call's start and end, in seconds since
the kernel started the process (``/proc/self/stat``), and the thread it ran on. Nothing is changed but the
timing wrappers (a few microseconds each)::

    PYTHONPATH=$PWD python -m devtools.startup_timeline /work/shared/audio/jfk.wav

prints the steps in the order they started, then the transcript as the CLI printed it (stdout). Linux only.
"""

from __future__ import annotations

import os
import sys
import threading
import time


def _process_start() -> float:
    """The process's start on the CLOCK_BOOTTIME scale (the kernel's starttime, in clock ticks since boot)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


START = _process_start()
EVENTS: list[tuple[float, float, str, str]] = []


def now() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME) - START


def _wrap(owner, attr: str, label: str) -> None:
    original = getattr(owner, attr)

    def timed(*args, **kwargs):
        t0 = now()
        try:
            return original(*args, **kwargs)
        finally:
            EVENTS.append((t0, now(), label, threading.current_thread().name))

    setattr(owner, attr, timed)


class _CoreProxy:
    """Wraps an ``ov.Core`` instance's compile/read calls (the pybind class cannot be patched)."""

    def __init__(self, core):
        self._core = core

    def __getattr__(self, name):
        value = getattr(self._core, name)
        if name in ("compile_model", "read_model", "import_model"):

            def timed(*args, **kwargs):
                t0 = now()
                try:
                    return value(*args, **kwargs)
                finally:
                    what = os.path.basename(str(args[0])) if args and isinstance(args[0], (str, os.PathLike)) else ""
                    EVENTS.append((t0, now(), f"Core.{name} {what}", threading.current_thread().name))

            return timed
        return value


def main(argv: list[str]) -> int:
    t_main = now()
    t0 = now()
    from amanuensis_desktop import cli

    EVENTS.append((t0, now(), "import cli", "MainThread"))
    from amanuensis_desktop import engine
    from amanuensis_desktop.audio import isolated
    from amanuensis_desktop.backends import openvino as ov_entry
    from amanuensis_desktop.whisper import lazy_weights, speech_only, tokenizer, transcribe

    t0 = now()
    ov = ov_entry._import_openvino()
    EVENTS.append((t0, now(), "import openvino", "MainThread"))
    real_core = ov.Core

    def core_factory(*a, **k):
        t0 = now()
        c = real_core(*a, **k)
        EVENTS.append((t0, now(), "ov.Core()", threading.current_thread().name))
        return _CoreProxy(c)

    ov.Core = core_factory
    from amanuensis_desktop.audio import speech_gate
    from amanuensis_desktop.backends.openvino import backend, verdict

    _wrap(cli, "build_parser", "build_parser")
    _wrap(cli, "_load_engine", "Engine.load (all)")
    _wrap(engine, "resolve_model", "resolve_model")
    _wrap(engine, "open_weights", "open_weights")
    _wrap(engine, "select", "backends.select")
    _wrap(engine, "Tokenizer", "Tokenizer()")
    _wrap(tokenizer, "Tokenizer", "Tokenizer()")
    _wrap(lazy_weights, "load_weights", "load_weights (numpy read)")
    _wrap(ov_entry, "probe", "openvino probe")
    _wrap(ov_entry, "create", "openvino create")
    _wrap(verdict, "load", "verdict.load")
    _wrap(backend.OpenVINOBackend, "_load_parts", "compile parts")
    _wrap(backend.OpenVINOBackend, "encode", "encode")
    _wrap(isolated, "warm_up", "forkserver warm_up")
    _wrap(isolated, "decode_file", "decode_file")
    _wrap(speech_gate, "speech_probabilities", "speech_probabilities")
    _wrap(speech_gate, "_compiled_model", "gate compile")
    _wrap(speech_only, "transcribe", "whisper transcribe")
    _wrap(transcribe, "transcribe", "whisper transcribe")
    _wrap(cli, "_check_language", "check_language")
    _wrap(cli, "_transcribe_one", "transcribe_one")
    t0 = now()
    rc = cli.main(argv)
    EVENTS.append((t0, now(), "cli.main", "MainThread"))
    print(f"{'start':>7} {'end':>7} {'dur':>6}  step (thread)", file=sys.stderr)
    print(f"{0:7.3f} {t_main:7.3f} {t_main:6.3f}  interpreter start to this script", file=sys.stderr)
    for a, b, label, thread in sorted(EVENTS):
        print(f"{a:7.3f} {b:7.3f} {b - a:6.3f}  {label} ({thread})", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] if sys.argv[1:] else ["transcribe", "/work/shared/audio/jfk.wav"]))
