"""One running instance that later invocations control: ``amanuensis toggle``, ``ptt-press``,
``ptt-release``, ``status``, ``type-transcript`` — so any desktop's own shortcut settings can drive dictation,
Wayland included.

The running instance listens on a Unix socket ($XDG_RUNTIME_DIR/amanuensis/control.sock, private to the
user); a command is one line, the answer one line (``status`` answers idle, listening or finishing; an error
is ``error <one sentence>``). :class:`DictationControl` turns commands and hotkey events into calls on the
owner's thread.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Protocol

from ..errors import one_sentence
from .errors import OutputError
from .hotkeys import HotkeyAction, HotkeyEvent
from .wakeup import WakePipe

logger = logging.getLogger(__name__)


class ListenState(Enum):
    IDLE = "idle"
    LISTENING = "listening"
    FINISHING = "finishing"  # stopped listening, the last finals are still being transcribed


class ControlCommand(Enum):
    TOGGLE = "toggle"
    PTT_PRESS = "ptt-press"
    PTT_RELEASE = "ptt-release"
    STATUS = "status"
    TYPE_TRANSCRIPT = "type-transcript"  # the window's reviewed transcript (or its selection) into the focused app


#: the answer to ``type-transcript`` from an instance with no transcript to type (``amanuensis dictate``)
NO_TRANSCRIPT = "Only the window keeps a transcript to type; amanuensis dictate types each final as it comes."


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    folder = Path(runtime, "amanuensis") if runtime else Path(f"/tmp/amanuensis-{os.getuid()}")
    return folder / "control.sock"


class Dictation(Protocol):
    """What the controller drives (the window's dictation, or the terminal's)."""

    @property
    def listen_state(self) -> ListenState: ...

    def start_listening(self) -> None: ...

    def stop_listening(self) -> None: ...


class PushToTalk(Protocol):
    """A dictation that knows push-to-talk itself (the window: press = the utterance begins on a pipeline
    running with ``LiveOptions.push_to_talk``, release = it ends, with no hang-over). Without these methods
    a press starts dictating and the release stops it."""

    def ptt_press(self) -> None: ...

    def ptt_release(self) -> None: ...


class DictationControl:
    """Commands and hotkeys -> start/stop. ``post(fn)`` runs ``fn`` on the dictation's own thread (the GUI
    thread); commands may come from any thread. ``type_transcript`` (the window's; None elsewhere) starts
    typing the reviewed transcript and returns the answer line, or raises :class:`OutputError` (one sentence)
    when it cannot; it runs on the owner's thread while the command waits for its verdict."""

    def __init__(
        self,
        dictation: Dictation,
        post: Callable[[Callable[[], None]], None],
        type_transcript: Callable[[], str] | None = None,
        answer_timeout_s: float = 3.0,  # under send_command's 5 s: the client hears the answer
    ) -> None:
        self.dictation = dictation
        self.post = post
        self.type_transcript = type_transcript
        self.answer_timeout_s = answer_timeout_s
        self._ptt = False

    def command(self, command: ControlCommand) -> str:
        """Act on ``command``; the answer line (the state for ``status``, "ok" otherwise)."""
        if command is ControlCommand.STATUS:
            return self.dictation.listen_state.value
        if command is ControlCommand.TYPE_TRANSCRIPT:
            if self.type_transcript is None:
                raise OutputError(NO_TRANSCRIPT)
            return self._on_owner_thread(self.type_transcript)
        actions = {
            ControlCommand.TOGGLE: self._toggle,
            ControlCommand.PTT_PRESS: self._press,
            ControlCommand.PTT_RELEASE: self._release,
        }
        self.post(actions[command])
        return "ok"

    def _on_owner_thread(self, fn: Callable[[], str]) -> str:
        """Run ``fn`` through ``post`` and wait for its answer (its error is raised here as one sentence). Given
        up after ``answer_timeout_s`` (shorter than the client's wait, so the client hears why); a ``fn`` still
        queued then never runs, so nothing is typed after the user was told it failed."""
        done, abandoned = threading.Event(), threading.Event()
        result: list[str | OutputError] = []

        def run() -> None:
            try:
                if not abandoned.is_set():
                    result.append(fn())
            except OutputError as exc:
                result.append(exc)
            except Exception as exc:  # never kill the control thread: one sentence for the client
                logger.exception("control command failed")
                result.append(OutputError(one_sentence(exc, "The command failed")))
            finally:
                done.set()

        self.post(run)
        if not done.wait(self.answer_timeout_s):
            abandoned.set()
            raise OutputError("The running Amanuensis is busy and did not answer in time; try again.")
        if not result:
            raise OutputError("The running Amanuensis gave up on the command; try again.")
        if isinstance(result[0], OutputError):
            raise result[0]
        return result[0]

    def hotkey(self, event: HotkeyEvent) -> None:
        if event.action is HotkeyAction.TOGGLE:
            if event.pressed:
                self.post(self._toggle)
        else:
            self.post(self._press if event.pressed else self._release)

    def _toggle(self) -> None:
        self._ptt = False
        state = self.dictation.listen_state
        if state is ListenState.IDLE:
            self.dictation.start_listening()
        elif state is ListenState.LISTENING:
            self.dictation.stop_listening()

    def _press(self) -> None:
        press = getattr(self.dictation, "ptt_press", None)
        if press is not None:
            self._ptt = False
            press()
            return
        if self.dictation.listen_state is ListenState.IDLE:
            self._ptt = True
            self.dictation.start_listening()

    def _release(self) -> None:
        release = getattr(self.dictation, "ptt_release", None)
        if release is not None:
            release()
            return
        if self._ptt and self.dictation.listen_state is ListenState.LISTENING:
            self.dictation.stop_listening()
        self._ptt = False


def send_command(command: ControlCommand, path: Path | None = None, timeout_s: float = 5.0) -> str:
    """Send ``command`` to the running instance; its answer. :class:`OutputError` when none runs."""
    path = path or socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
            sock.sendall(command.value.encode() + b"\n")
            answer = sock.makefile("rb").readline().decode(errors="replace").strip()
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise OutputError(
                "Amanuensis is not running; start it first (amanuensis, or amanuensis dictate --output type)."
            ) from exc
        except OSError as exc:
            raise OutputError(f"The running Amanuensis did not answer: {exc}.") from exc
    if answer.startswith("error "):
        raise OutputError(answer[6:])
    return answer


class ControlServer:
    """The listening side, on a thread of its own. ``start()`` raises :class:`OutputError` when another
    instance already listens (a stale socket file is replaced)."""

    def __init__(self, handler: Callable[[ControlCommand], str], path: Path | None = None) -> None:
        self.handler = handler
        self.path = path or socket_path()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._wake = WakePipe()

    def check(self) -> None:
        """Raise :class:`OutputError` when another instance answers on the socket (remove a stale one)."""
        if self.path.exists():
            try:
                send_command(ControlCommand.STATUS, self.path, 2.0)
            except OutputError:
                self.path.unlink(missing_ok=True)  # left by an instance that died
            else:
                raise OutputError("Amanuensis is already running; control it with amanuensis toggle.")

    def start(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.check()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        sock.listen(8)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="control-socket", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._wake.stop(self._thread)
        self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.path.unlink(missing_ok=True)
        self._wake.close()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while True:
            ready = select.select([sock.fileno(), self._wake.fd], [], [])[0]
            if self._wake.fd in ready:
                return
            conn, _ = sock.accept()
            with conn:
                conn.settimeout(2.0)
                try:
                    line = conn.makefile("rb").readline().decode(errors="replace").strip()
                    try:
                        answer = self.handler(ControlCommand(line))
                    except ValueError:
                        names = ", ".join(c.value for c in ControlCommand)
                        answer = f"error '{line}' is not a command ({names})."
                    except OutputError as exc:
                        answer = f"error {exc}"
                    conn.sendall(answer.encode() + b"\n")
                except OSError as exc:
                    logger.warning("A control connection failed: %s", exc)
