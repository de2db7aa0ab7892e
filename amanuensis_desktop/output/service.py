"""Dictate anywhere from the terminal: ``amanuensis dictate --output type|paste|clipboard`` keeps running,
types each final into the focused app, and listens to the global hotkeys and to ``amanuensis toggle``.

One Qt application on the main thread (the clipboard and the indicator need it); the live pipeline runs on
its own threads and its events are re-sent to the main thread; the engine loads once and is kept across
start/stop. Errors from the output are one sentence on stderr and in the indicator, never swallowed.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from PySide6.QtCore import QObject, Signal, Slot

from .control import ControlServer, DictationControl, ListenState
from .errors import OutputError
from .hotkeys import Hotkey, HotkeyAction
from .routes import RouteChoice, Session, detect_session
from .sink import OutputSink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceOptions:
    toggle_key: str = ""  # e.g. "ctrl+alt+d"; "" = none (use amanuensis toggle from the desktop's shortcuts)
    ptt_key: str = ""  # push-to-talk, e.g. "F9"
    start_listening: bool = True
    quit_when_stopped: bool = False  # --input FILE: quit when the file has been dictated
    indicator: bool = True
    sounds: bool = False
    control_socket: bool = True


class EngineKeeper:
    """Loads the engine on first use (on the pipeline's worker thread) and keeps it for later dictations."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._engine: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            return self._engine


class AnywhereDictation(QObject):
    """Start/stop of the live pipeline, with each final sent to the output sink (on the main thread)."""

    arrived = Signal(object)  # (time.time() when emitted, a pipeline event)
    posted = Signal(object)

    def __init__(
        self,
        make_pipeline: Callable[[Callable[[Any], None]], Any],
        sink: OutputSink,
        choice: RouteChoice | None,
        options: ServiceOptions,
        err: TextIO | None = None,
    ) -> None:
        super().__init__()
        self.make_pipeline = make_pipeline
        self.sink, self.choice, self.options = sink, choice, options
        self.err = err or sys.stderr
        self._state = ListenState.IDLE
        self._pipeline: Any = None
        self.failed = False
        self.type_seconds: list[float] = []  # per final: time to hand its text to the target app
        self.indicator: Any = None
        self._log_path = os.environ.get("AMANUENSIS_OUTPUT_LOG", "")  # diagnostics: one JSON line per final
        self.arrived.connect(self._on_event)
        self.posted.connect(lambda fn: fn())
        if options.indicator:
            from ..ui.listening_indicator import Indicator, supported

            if supported():
                self.indicator = Indicator(choice.label if choice else "", options.sounds)
            else:
                logger.info("No listening indicator on Wayland: it would take the focus from the target app.")

    # -- the Dictation protocol (DictationControl) ----------------------------------------------------
    @property
    def listen_state(self) -> ListenState:
        return self._state

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the main thread (from any thread)."""
        self.posted.emit(fn)

    def _emit(self, ev: Any) -> None:  # on the pipeline's threads
        self.arrived.emit((time.time(), ev))

    def start_listening(self) -> None:
        if self._state is not ListenState.IDLE:
            return
        pipeline = self.make_pipeline(self._emit)
        try:
            pipeline.start()
        except Exception as exc:
            self._report(str(exc) if isinstance(exc, OutputError) else _sentence(exc))
            return
        self._pipeline = pipeline
        self.sink.start()
        self._set_state(ListenState.LISTENING)

    def stop_listening(self) -> None:
        if self._state is not ListenState.LISTENING or self._pipeline is None:
            return
        self._set_state(ListenState.FINISHING)
        threading.Thread(target=self._pipeline.stop, name="amanuensis-stop", daemon=True).start()

    # -- events ---------------------------------------------------------------------------------------
    def _set_state(self, state: ListenState) -> None:
        self._state = state
        if self.indicator is not None:
            self.indicator.set_state(state)

    def _report(self, message: str) -> None:
        self.err.write(f"amanuensis: {message}\n")
        self.err.flush()
        if self.indicator is not None:
            self.indicator.setToolTip(message)

    @Slot(object)
    def _on_event(self, stamped: tuple[float, Any]) -> None:
        from ..live.events import Error, Final, Level, Stopped

        emitted, ev = stamped
        if isinstance(ev, Final):
            if not ev.text.strip():
                return
            t0 = time.perf_counter()
            try:
                self.sink.final(ev.text)
            except OutputError as exc:
                self.failed = True
                self._report(str(exc))
            self.type_seconds.append(time.perf_counter() - t0)
            if self._log_path:
                with open(self._log_path, "a", encoding="utf-8") as f:
                    f.write(
                        json.dumps(
                            {"final_t": emitted, "sent_t": time.time(), "typed": self.sink.joiner.typed},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
        elif isinstance(ev, Level):
            if self.indicator is not None:
                self.indicator.set_level(ev.db)
        elif isinstance(ev, Error):
            self._report(ev.message)
            self.failed = self.failed or ev.fatal
        elif isinstance(ev, Stopped):
            self._pipeline = None
            try:
                self.sink.stop()
            except OutputError as exc:
                self._report(str(exc))
            self._set_state(ListenState.IDLE)
            if self.options.quit_when_stopped:
                from PySide6.QtCore import QCoreApplication

                QCoreApplication.quit()

    def summary(self) -> str:
        if not self.type_seconds:
            return ""
        ms = [s * 1000 for s in self.type_seconds]
        return f"typed {len(ms)} finals: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms per final"


def _sentence(exc: BaseException) -> str:
    from ..errors import one_sentence

    return one_sentence(exc)


def start_hotkeys(options: ServiceOptions, control: DictationControl) -> Any:
    """Grab the hotkeys (X11 now; Wayland through the GlobalShortcuts portal); the listener, or None."""
    bindings = {}
    if options.toggle_key:
        bindings[Hotkey.parse(options.toggle_key)] = HotkeyAction.TOGGLE
    if options.ptt_key:
        bindings[Hotkey.parse(options.ptt_key)] = HotkeyAction.PUSH_TO_TALK
    if not bindings:
        return None
    if detect_session() is Session.X11:
        from .x11_hotkeys import X11HotkeyListener

        listener = X11HotkeyListener(bindings, control.hotkey)
        listener.start()
        return listener
    if detect_session() is Session.WAYLAND:
        from .portal_shortcuts import PortalShortcuts

        portal = PortalShortcuts(bindings, control.hotkey)
        portal.start()
        return portal
    raise OutputError("Global hotkeys need a graphical session; bind amanuensis toggle in your desktop instead.")


def run_service(dictation: AnywhereDictation, options: ServiceOptions, app: Any) -> int:
    """Run until quit (Ctrl-C, or the end of --input): control socket, hotkeys, the Qt event loop."""
    import signal

    from PySide6.QtCore import QTimer

    control = DictationControl(dictation, dictation.post)
    server = ControlServer(control.command) if options.control_socket else None
    hotkeys = None
    try:
        if server is not None:
            server.check()  # another instance: say so before its hotkeys look "taken"
        hotkeys = start_hotkeys(options, control)
        if server is not None:
            server.start()  # answering "idle" now means the hotkeys are grabbed too
        if options.start_listening:
            QTimer.singleShot(0, dictation.start_listening)

        def interrupt(*_: Any) -> None:
            if dictation.listen_state is ListenState.IDLE:
                app.quit()
            else:
                dictation.options = ServiceOptions(**{**dictation.options.__dict__, "quit_when_stopped": True})
                dictation.stop_listening()

        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)
        tick = QTimer()  # lets Python run its signal handlers while Qt waits
        tick.timeout.connect(lambda: None)
        tick.start(200)
        app.exec()
    finally:
        if hotkeys is not None:
            hotkeys.stop()
        if server is not None:
            server.stop()
        if dictation.sink.typer is not None:
            dictation.sink.typer.close()
    summary = dictation.summary()
    if summary:
        logger.info("%s", summary)
    return 1 if dictation.failed else 0
