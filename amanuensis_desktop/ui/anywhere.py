"""Dictate anywhere from the window: the dictation controller's finals go to the output (typed, pasted or
copied into the focused app), global hotkeys and ``amanuensis toggle`` start and stop it, and a small
indicator shows that it listens. Every output failure is one sentence on ``message`` (status bar, tray).
Owned by the main window, it also carries the window's "Type the transcript" (ui/type_transcript.py) and lends
it the route finals are typed with (:meth:`DictateAnywhere.typing_sink`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..output.control import NO_TRANSCRIPT, ControlServer, DictationControl, ListenState
from ..output.errors import OutputError
from ..output.routes import RouteChoice
from ..output.sink import OutputMode, OutputOptions, OutputSink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnywhereSettings:
    mode: OutputMode = OutputMode.WINDOW
    commands: bool = True
    language: str = "en"
    toggle_key: str = ""
    ptt_key: str = ""
    indicator: bool = True
    sounds: bool = False


#: the settings keys (amanuensis_desktop.settings) that configure this
SETTING_KEYS = (
    "output_mode",
    "spoken_commands",
    "toggle_hotkey",
    "ptt_hotkey",
    "listening_indicator",
    "start_stop_sounds",
    "language",
)


def settings_from(values: dict[str, Any]) -> AnywhereSettings:
    """The window's stored settings (amanuensis_desktop.settings keys) as :class:`AnywhereSettings`."""
    language = str(values.get("language") or "en")
    return AnywhereSettings(
        mode=OutputMode(values.get("output_mode", "window")),
        commands=bool(values.get("spoken_commands", True)),
        language="en" if language == "auto" else language,
        toggle_key=str(values.get("toggle_hotkey", "")),
        ptt_key=str(values.get("ptt_hotkey", "")),
        indicator=bool(values.get("listening_indicator", True)),
        sounds=bool(values.get("start_stop_sounds", False)),
    )


def listen_state_of(state: Any) -> ListenState:
    """The window's DictationState (idle/starting/listening/finishing) as the control socket reports it."""
    name = getattr(state, "value", str(state))
    if name in ("starting", "listening"):
        return ListenState.LISTENING
    if name == "finishing":
        return ListenState.FINISHING
    return ListenState.IDLE


class DictateAnywhere(QObject):
    """Owned by the window; ``controller`` is its DictationController, ``live_options()`` the LiveOptions.
    With the main window as ``parent`` (it has a transcript ``view``), "Type the transcript" is set up too."""

    message = Signal(str)  # one sentence for the user
    route = Signal(str)  # how text reaches other apps now ("X11 (XTEST)", "Wayland (wtype)", ...), "" for none
    status = Signal(str)  # a passing note for the status bar ("Final text goes via X11 (XTEST).")

    def __init__(self, controller: Any, live_options: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.live_options = live_options
        self.settings = AnywhereSettings()
        self.sink: OutputSink | None = None
        self.choice: RouteChoice | None = None
        self.indicator: Any = None
        self._hotkeys: Any = None
        self._server: ControlServer | None = None
        self._typing: tuple[OutputSink, RouteChoice | None] | None = None  # opened for typing the transcript
        self.typist: Any = None  # the window's "Type the transcript" (ui/type_transcript.py)
        self._control = DictationControl(self, self._post, self._type_transcript)
        controller.final.connect(self._on_final)
        controller.state_changed.connect(self._on_state)
        controller.level.connect(self._on_level)
        controller.stopped.connect(self._on_stopped)
        notice = getattr(controller, "notice", None)  # the microphone is back: a passing note in the status bar
        if notice is not None:
            notice.connect(self.status.emit)
        if parent is not None and hasattr(parent, "view"):  # the main window: its transcript can be typed
            from .type_transcript import TranscriptTypist

            self.typist = TranscriptTypist(self, parent)

    # -- the Dictation protocol (for hotkeys and the control socket) ----------------------------------
    @property
    def listen_state(self) -> ListenState:
        return listen_state_of(self.controller.state)

    def start_listening(self) -> None:
        if self.listen_state is ListenState.IDLE:
            self.controller.toggle(self.live_options)

    def stop_listening(self) -> None:
        self.controller.stop()

    def ptt_press(self) -> None:
        """Push-to-talk press: start a push-to-talk dictation when idle (it starts pressed), else the next
        utterance begins on the running one (the microphone stayed open: its pre-roll reaches before the press).
        A hands-free dictation is left alone."""
        if self.listen_state is ListenState.IDLE:
            self.controller.toggle(lambda: replace(self.live_options(), push_to_talk=True))
        elif getattr(self.controller, "push_to_talk", False):
            self.controller.begin_utterance()

    def ptt_release(self) -> None:
        """Push-to-talk release: the utterance ends now and its final follows at once; the dictation keeps
        listening for the next press (stop it with the toggle, the Stop button or ``amanuensis toggle``)."""
        if getattr(self.controller, "push_to_talk", False):
            self.controller.end_utterance()

    def _type_transcript(self) -> str:
        if self.typist is None:
            raise OutputError(NO_TRANSCRIPT)
        return str(self.typist.request())

    def _post(self, fn: Callable[[], None]) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self, fn)  # to the GUI thread (hotkeys and the socket call from their threads)

    # -- configuration --------------------------------------------------------------------------------
    def start_control(self) -> None:
        """Listen for ``amanuensis toggle`` & co. (a second window or `dictate` already doing so: a notice)."""
        if self._server is not None:
            return
        server = ControlServer(self._control.command)
        try:
            server.start()
        except (OutputError, OSError) as exc:  # another window or `dictate` has it: not an error for this one
            logger.info("amanuensis toggle will not reach this window: %s", exc)
            return
        self._server = server

    def configure(self, settings: AnywhereSettings) -> None:
        """Apply new settings: the output route, the hotkeys, the indicator. Failures are reported once."""
        self.settings = settings
        self._close_output()
        self._open_output()
        self._restart_hotkeys()
        from .listening_indicator import supported

        if settings.indicator and settings.mode is not OutputMode.WINDOW and supported():
            if self.indicator is None:
                from .listening_indicator import Indicator

                self.indicator = Indicator()
            self.indicator.route_label = self.choice.label if self.choice else ""
            self.indicator.sounds = settings.sounds
        elif self.indicator is not None:
            self.indicator.hide()
            self.indicator = None

    def _open_output(self) -> None:
        from ..output.factory import open_output

        s = self.settings
        if s.mode in (OutputMode.WINDOW, OutputMode.STDOUT):
            self.route.emit("")
            return
        try:
            self.sink, self.choice = open_output(OutputOptions(s.mode, commands=s.commands, language=s.language))
        except OutputError as exc:
            self.message.emit(str(exc))
            self.route.emit("")
            return
        if self.choice is not None and self.choice.notice:
            self.message.emit(self.choice.notice)
        via = self.choice.label if self.choice else s.mode.value
        self.route.emit(via)
        self.status.emit(f"Final text goes via {via}.")

    def _restart_hotkeys(self) -> None:
        from ..output.service import ServiceOptions, start_hotkeys

        if self._hotkeys is not None:
            self._hotkeys.stop()
            self._hotkeys = None
        s = self.settings
        try:
            self._hotkeys = start_hotkeys(ServiceOptions(toggle_key=s.toggle_key, ptt_key=s.ptt_key), self._control)
        except OutputError as exc:
            self.message.emit(str(exc))

    def _close_output(self) -> None:
        if self.sink is not None:
            _close_sink(self.sink)
        self.sink = self.choice = None
        if self._typing is not None:
            typing, self._typing = self._typing[0], None
            _close_sink(typing)

    # -- typing text on request (the transcript) ------------------------------------------------------
    @property
    def types_finals(self) -> bool:
        """Finals of a running dictation are typed or pasted into the focused app now."""
        return (
            self.sink is not None
            and self.sink.options.mode in (OutputMode.TYPE, OutputMode.PASTE)
            and self.listen_state is not ListenState.IDLE
        )

    def typing_sink(self) -> tuple[OutputSink, RouteChoice | None]:
        """A fresh sink that sends text exactly as given (no spoken commands, spacing or capitals) through the
        route live finals use: their own when the output types or pastes, else the one typing would use here
        (opened on first use, kept until the settings change). Raises :class:`OutputError` when none works."""
        if self.sink is not None and self.sink.options.mode in (OutputMode.TYPE, OutputMode.PASTE):
            base, choice = self.sink, self.choice
        else:
            if self._typing is None:
                from ..output.factory import open_output

                self._typing = open_output(OutputOptions(OutputMode.TYPE, commands=False, capitalise=False))
            base, choice = self._typing
        options = replace(base.options, commands=False, capitalise=False)
        return OutputSink(options, base.typer, base.clipboard, base.paster), choice

    def close(self) -> None:
        if self._hotkeys is not None:
            self._hotkeys.stop()
            self._hotkeys = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._close_output()
        if self.indicator is not None:
            self.indicator.hide()

    # -- events from the controller (GUI thread) ------------------------------------------------------
    def _on_final(self, text: str, *_: Any) -> None:
        if self.sink is None or not text.strip():
            return
        try:
            self.sink.final(text)
        except OutputError as exc:
            self.message.emit(str(exc))

    def _on_state(self, state: Any) -> None:
        listen = listen_state_of(state)
        if getattr(state, "value", "") == "starting" and self.sink is not None:
            self.sink.start()
        if self.indicator is not None:
            self.indicator.set_state(listen)

    def _on_level(self, db: float) -> None:
        if self.indicator is not None:
            self.indicator.set_level(db)

    def _on_stopped(self) -> None:
        if self.sink is not None:
            try:
                self.sink.stop()
            except OutputError as exc:
                self.message.emit(str(exc))


def _close_sink(sink: OutputSink) -> None:
    """Give the clipboard back and let go of the typer; a failure is logged (the output is going away)."""
    try:
        sink.stop()
    except OutputError as exc:
        logger.warning("%s", exc)
    if sink.typer is not None:
        sink.typer.close()
