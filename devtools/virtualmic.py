"""A private PulseAudio daemon as a real-time virtual microphone (tests, the live benchmark, demos).

A null sink ``mic_sink`` (16 kHz mono) whose monitor is remapped as the source ``virtmic`` (the default
source): ``paplay -d mic_sink FILE`` is heard in real time by PortAudio's ``pulse``/``default`` device,
bit-exact at 16 kHz. The daemon gets its own XDG_RUNTIME_DIR and HOME under ``root`` (as root it only warns)
and is stopped by its pid. PortAudio reads the environment when it initialises, so :meth:`VirtualMic.export_env`
re-initialises sounddevice after setting it.

    with session() as mic:  # daemon started, PortAudio pointed at it, device chosen
        ... LiveOptions(device=mic.device) ...; mic.play(path_or_array); mic.kill_source(); mic.restore()
    # daemon stopped, environment restored, temporary folder removed (also when setting up failed)
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from amanuensis_desktop.errors import UserError, one_sentence

SINK_ARGS = "sink_name=mic_sink rate=16000 channels=1"
SOURCE_ARGS = "master=mic_sink.monitor source_name=virtmic"
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "HOME", "PULSE_RUNTIME_PATH")


def available() -> str | None:
    """None when a private daemon can be started here, else the reason it cannot."""
    missing = [t for t in ("pulseaudio", "pactl", "paplay") if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt install pulseaudio pulseaudio-utils)"
    return None


class VirtualMicError(UserError):
    """The virtual microphone cannot be set up here (one sentence)."""


@contextlib.contextmanager
def session(prefix: str = "amanuensis-virtmic-") -> Iterator[VirtualMic]:
    """A started :class:`VirtualMic` with this process's PortAudio pointed at it and ``device`` chosen.

    On exit, and on any failure while setting up, everything is undone: players and the daemon stopped, the
    environment restored (PortAudio re-initialised), the temporary folder removed. Raises
    :class:`VirtualMicError` when pulseaudio or PortAudio is missing or the daemon does not start. Close every
    PortAudio stream opened on the virtual microphone before leaving the block (see :func:`reinit_portaudio`).
    """
    reason = available()
    if reason:
        raise VirtualMicError(f"No virtual microphone: {reason}.")
    try:
        importlib.import_module("sounddevice")
    except OSError as exc:  # the PortAudio library is missing
        raise VirtualMicError(
            f"sounddevice cannot load PortAudio ({one_sentence(exc).rstrip('.')}); apt install libportaudio2."
        ) from exc
    root = Path(tempfile.mkdtemp(prefix=prefix))
    mic = saved = None
    try:
        mic = VirtualMic(root)
        try:
            mic.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            raise VirtualMicError(one_sentence(exc, "Could not start a private PulseAudio daemon")) from exc
        saved = mic.export_env()
        problem = mic.choose_device()
        if problem:
            raise VirtualMicError(problem.rstrip(".") + ".")
        yield mic
    finally:
        if mic is not None:
            mic.stop()
        if saved is not None:
            restore_env(saved)
        shutil.rmtree(root, ignore_errors=True)


class VirtualMic:
    def __init__(self, root: Path):
        self.root = root
        self.runtime = root / "run"
        self.home = root / "home"
        self.runtime.mkdir(mode=0o700, parents=True)
        self.home.mkdir(parents=True)
        self.socket = self.runtime / "pulse" / "native"
        self.env = dict(
            os.environ, XDG_RUNTIME_DIR=str(self.runtime), HOME=str(self.home), PULSE_SERVER=f"unix:{self.socket}"
        )
        self.env.pop("PULSE_RUNTIME_PATH", None)
        self.proc: subprocess.Popen | None = None
        self.log: BinaryIO | None = None
        self.device = "pulse"
        self._players: list[subprocess.Popen] = []
        self._tmp_wavs: list[str] = []

    # -- daemon ---------------------------------------------------------------------------------------
    def start(self) -> None:
        cmd = [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disable-shm=yes",
            "-L",
            "module-native-protocol-unix",
            "-L",
            f"module-null-sink {SINK_ARGS}",
            "-L",
            f"module-remap-source {SOURCE_ARGS}",
            "-L",
            "module-always-sink",
        ]
        self.log = open(self.root / "pulseaudio.log", "wb")
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self._log_tail()}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"pulseaudio did not start: {self._log_tail()}")
        self.pactl("set-default-source", "virtmic")

    def _log_tail(self) -> str:
        try:
            return (self.root / "pulseaudio.log").read_text(errors="replace")[-800:]
        except OSError:
            return "(no log)"

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check, timeout=10)

    def stop(self) -> None:
        for p in self._players:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
        for f in self._tmp_wavs:
            try:
                os.unlink(f)
            except OSError:
                pass

    # -- environment for PortAudio in this process --------------------------------------------------
    def export_env(self) -> dict:
        saved = {k: os.environ.get(k) for k in _ENV_KEYS}
        for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER"):
            os.environ[k] = self.env[k]
        os.environ.pop("PULSE_RUNTIME_PATH", None)
        reinit_portaudio()
        return saved

    # -- microphone ------------------------------------------------------------------------------------
    def _wav(self, audio) -> str:
        if isinstance(audio, (str, os.PathLike)):
            return str(audio)
        data = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
        fd, name = tempfile.mkstemp(suffix=".wav", dir=self.root)
        os.close(fd)
        with wave.open(name, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((data * 32767).astype("<i2").tobytes())
        self._tmp_wavs.append(name)
        return name

    def play(self, audio, blocking: bool = True):
        """Play a file (any format paplay reads) or a 16 kHz mono float32 array into the microphone."""
        proc = subprocess.Popen(
            ["paplay", "-d", "mic_sink", self._wav(audio)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._players.append(proc)
        if blocking:
            _, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"paplay failed: {err.decode(errors='replace').strip()}")
        return proc

    def _modules(self) -> list[tuple[str, str, str]]:
        """(id, name, arguments) of every loaded module."""
        rows = []
        for line in self.pactl("list", "short", "modules").stdout.splitlines():
            parts = line.split("\t") + ["", ""]
            rows.append((parts[0], parts[1], parts[2]))
        return rows

    def _ours(self) -> dict[str, str]:
        """Module ids of our null sink and remapped source (the always-sink's auto_null is not ours)."""
        found = {}
        for mid, name, args in self._modules():
            if name == "module-remap-source" and "source_name=virtmic" in args:
                found["source"] = mid
            elif name == "module-null-sink" and "sink_name=mic_sink" in args:
                found["sink"] = mid
        return found

    def kill_source(self) -> None:
        """Unplug: unload the remapped source, then the null sink behind it."""
        ours = self._ours()
        for key in ("source", "sink"):
            if key in ours:
                self.pactl("unload-module", ours[key], check=False)

    def choose_device(self) -> str | None:
        """Set ``device`` to the PortAudio input that reaches this daemon; return why none does, else None."""
        import sounddevice as sd

        names = [d["name"] for d in sd.query_devices() if d["max_input_channels"] > 0]
        for name in ("pulse", "default"):
            if name in names:
                self.device = name
                return None
        return f"PortAudio sees no pulse/default input device (libasound2-plugins missing?): {names}"

    def restore(self) -> None:
        ours = self._ours()
        if "sink" not in ours:
            self.pactl("load-module", "module-null-sink", *SINK_ARGS.split())
        if "source" not in ours:
            self.pactl("load-module", "module-remap-source", *SOURCE_ARGS.split())
        self.pactl("set-default-source", "virtmic")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started the daemon dies (Linux), so a killed test run
    leaves no daemon behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def open_streams() -> list:
    """The sounddevice streams of this process that are not closed yet."""
    import gc

    import sounddevice as sd

    return [o for o in gc.get_objects() if isinstance(o, sd._StreamBase) and not o.closed]


def reinit_portaudio() -> None:
    """Make PortAudio (already initialised by ``import sounddevice``) see the current environment.

    Precondition: no PortAudio stream is open. Pa_Terminate would close open streams under their owners (a
    later ``stop()``/``close()`` on them, or their callback, would touch freed memory), so this refuses with
    RuntimeError instead. Call it only between dictations (tests, the benchmark), never while one runs."""
    import sounddevice as sd

    streams = open_streams()
    if streams:
        raise RuntimeError(
            f"cannot re-initialise PortAudio: {len(streams)} audio stream(s) still open; stop dictation first"
        )
    sd._terminate()
    sd._initialize()


def restore_env(saved: dict) -> None:
    """Undo :meth:`VirtualMic.export_env` (and re-initialise PortAudio)."""
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        reinit_portaudio()
    except Exception:
        pass
