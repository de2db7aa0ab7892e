"""Decode untrusted files in a child process, bounded in time and memory, so a decoder that crashes natively
(libsndfile, FFmpeg) or hangs costs one file, never the app.

The children fork from a ``forkserver`` that has the decoders already imported, so a file costs a fork and a
pipe, not a Python start. The child lowers its own address-space limit (``RLIMIT_AS``), turns core dumps off,
decodes with :func:`files.load_audio`, and streams the float32 samples back; the parent kills it at the time
bound. Every way it can end becomes one sentence (:class:`AudioError`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

import numpy as np

from ..errors import AudioError, UserError, one_sentence

logger = logging.getLogger(__name__)

#: Imported once in the fork server, so each child starts with them loaded.
PRELOAD = ["numpy", "soundfile", "soxr", "av", "amanuensis_desktop.audio.files"]
CHUNK = 8 << 20  # bytes per message of samples


@dataclass(frozen=True)
class DecodeLimits:
    """Bounds on decoding one file: wall-clock seconds (plus ``seconds_per_mb`` of file size) and the bytes
    of address space the child may add to what it starts with."""

    seconds: float = 60.0
    seconds_per_mb: float = 1.0
    memory_bytes: int = 4 << 30

    def timeout(self, size: int) -> float:
        return self.seconds + self.seconds_per_mb * size / 1e6


class DecodeCancelled(Exception):
    """The caller's ``cancelled()`` turned true while the child decoded (the child is gone)."""


@dataclass(frozen=True)
class Decoded:
    audio: np.ndarray  # float32 mono 16 kHz
    warning: str | None  # one sentence when the file is truncated (what decoded is kept)


_ctx_lock = threading.Lock()
_ctx: multiprocessing.context.BaseContext | None = None


def _context() -> multiprocessing.context.BaseContext:
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _ctx = ctx
        return _ctx


def warm_up() -> None:
    """Start the fork server now (it imports the decoders, ~1 s), e.g. while a model loads."""
    from multiprocessing import forkserver

    _context()
    try:
        forkserver.ensure_running()
    except OSError as exc:  # the first decode will say it in one sentence
        logger.debug("fork server did not start: %s", exc)


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child(conn: Connection, path: str, channel: int | None, memory: int) -> None:
    """Runs in the child: decode, then send ("ok", n, warning) and the samples, or ("error", sentence)."""
    import resource

    from .files import load_audio, truncation_warning

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        limit = _vm_size() + memory
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass
    try:  # decoders chatter on stderr (mpg123's "Illegal Audio-MPEG-Header"...): not for the user's terminal
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    try:
        audio = load_audio(path, channel)
        warning = truncation_warning(path, audio)
    except UserError as exc:
        conn.send(("error", str(exc), _peak_rss()))
        return
    except MemoryError:
        conn.send(("error", f"{path} needs more memory to decode than allowed, so it was skipped.", _peak_rss()))
        return
    except Exception as exc:  # any decoder failure is this file's, in one sentence
        conn.send(("error", f"{path} could not be decoded ({one_sentence(exc).rstrip('.')}).", _peak_rss()))
        return
    conn.send(("ok", int(audio.size), warning, _peak_rss()))
    view = np.ascontiguousarray(audio, dtype=np.float32).data.cast("B")
    for i in range(0, len(view), CHUNK):
        conn.send_bytes(view[i : i + CHUNK])
    conn.close()


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


#: The largest peak RSS (bytes) a decoding child of this process reported (for tests and reports).
peak_child_rss = 0


def _died(path: str, code: int | None) -> AudioError:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return AudioError(f"{path} could not be decoded: the decoder ran out of memory or was killed.")
        return AudioError(f"{path} could not be decoded: the decoder crashed ({name}).")
    return AudioError(f"{path} could not be decoded: the decoder stopped unexpectedly (exit {code}).")


def decode_file(
    path: str | os.PathLike,
    channel: int | None = None,
    limits: DecodeLimits | None = None,
    cancelled: Callable[[], bool] | None = None,
    target: Callable[..., None] | None = None,
) -> Decoded:
    """``path`` decoded to float32 mono 16 kHz in a bounded child process. Raises :class:`AudioError` (one
    sentence) for anything that goes wrong, including a crash or a hang of the decoder; ``cancelled`` is
    polled and ends the child early (then :class:`DecodeCancelled`). ``target`` replaces the child's function
    (tests: a decoder that crashes or hangs)."""
    from .files import check_path

    limits = limits or DecodeLimits()
    name = str(path)
    check_path(Path(path))  # cheap checks (missing, folder, FIFO, empty) without a child
    try:
        size = os.stat(name).st_size
    except OSError:
        size = 0
    deadline = time.monotonic() + limits.timeout(size)
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    args = (send, name, channel, limits.memory_bytes)
    proc = ctx.Process(target=target or _child, args=args, daemon=True)  # type: ignore[attr-defined]
    try:
        proc.start()
    except OSError as exc:  # no child possible (no space for the server's socket, no processes left)
        recv.close()
        send.close()
        if target is not None:
            raise
        logger.warning("cannot start a decoding process (%s); decoding %s in this process", exc, name)
        from .files import load_audio, truncation_warning

        audio = load_audio(name, channel)
        return Decoded(audio, truncation_warning(name, audio))
    send.close()
    done = False
    try:
        head = _receive(recv, proc, deadline, cancelled, name)
        global peak_child_rss
        peak_child_rss = max(peak_child_rss, int(head[-1]))
        if head[0] == "error":
            raise AudioError(str(head[1]))
        n, warning = int(head[1]), head[2]
        audio = np.empty(n, dtype=np.float32)
        buf = audio.data.cast("B")
        pos = 0
        while pos < len(buf):
            _receive(recv, proc, deadline, cancelled, name, peek=True)
            pos += recv.recv_bytes_into(buf[pos:])
        done = True
        return Decoded(audio, warning)
    except (EOFError, OSError):
        proc.join(5)
        raise _died(name, proc.exitcode) from None
    finally:
        recv.close()
        if not done:
            proc.kill()
            proc.join(5)
        # else the child is exiting by itself; it is reaped by the next start (no wait for its exit here)


def _receive(
    conn: Connection,
    proc: multiprocessing.process.BaseProcess,
    deadline: float,
    cancelled: Callable[[], bool] | None,
    name: str,
    peek: bool = False,
) -> tuple:
    """Wait for the child's next message (or only for data, with ``peek``), within the time bound."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            raise AudioError(f"{name} took too long to decode, so it was skipped.")
        if cancelled is not None and cancelled():
            proc.kill()
            raise DecodeCancelled(name)
        ready = wait([conn, proc.sentinel], min(remaining, 0.2))
        if conn in ready:
            return () if peek else conn.recv()
        if proc.sentinel in ready:
            if conn.poll(0):  # the child's last message arrived just before it exited
                return () if peek else conn.recv()
            proc.join(1)
            raise _died(name, proc.exitcode)
