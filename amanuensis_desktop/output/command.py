"""``amanuensis type TEXT``: types TEXT through the same route dictation uses (a diagnostic and a test hook).

amanuensis type "Hello" [--output type|paste|clipboard|stdout] [--route auto|x11|wtype|kwtype|ydotool]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from .errors import OutputError
from .routes import Route
from .sink import OutputMode, OutputOptions

TYPE_MODES = (OutputMode.TYPE, OutputMode.PASTE, OutputMode.CLIPBOARD, OutputMode.STDOUT)


def add_type_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="+", help="the text to type (several arguments are joined with spaces)")
    p.add_argument(
        "--output",
        default="type",
        choices=[m.value for m in TYPE_MODES],
        help="type (keys), paste (clipboard + Ctrl+V, clipboard restored after 1 s), clipboard, stdout",
    )
    p.add_argument(
        "--route",
        default="auto",
        choices=["auto"] + [r.value for r in Route if r is not Route.CLIPBOARD],
        help="how keys reach other apps (default: the first that works on this session)",
    )
    p.add_argument("--raw", action="store_true", help="type the text as given (no spoken commands, no capitals)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait first (to focus another window)")


def run_type(args: argparse.Namespace) -> int:
    """Type, paste or copy ``args.text``; prints the route used to stderr; 0 on success."""
    from .factory import ensure_display, needs_qt, open_output

    mode = OutputMode(args.output)
    options = OutputOptions(mode, commands=not args.raw, capitalise=not args.raw)
    route = None if args.route == "auto" else Route(args.route)
    app = None
    if needs_qt(mode):
        from PySide6.QtGui import QGuiApplication

        ensure_display()

        app = QGuiApplication.instance() or QGuiApplication(["amanuensis"])
    if args.delay > 0:
        time.sleep(args.delay)
    sink, choice = open_output(options, route)
    if choice is not None:
        if choice.notice:
            print(f"amanuensis: {choice.notice}", file=sys.stderr)
        print(f"amanuensis: typing via {choice.label}", file=sys.stderr)
    text = " ".join(args.text)
    try:
        if args.raw:
            sink.final_raw(text)
        else:
            sink.final(text)
        if app is not None:  # Qt's clipboard: serve the paste, then give the user's clipboard back
            _serve_clipboard(app, options.restore_clipboard_s + 0.3 if mode is OutputMode.PASTE else 0.3)
            if mode is OutputMode.CLIPBOARD:
                print(
                    "amanuensis: on X11 the copied text stays only if a clipboard manager takes it over; "
                    "the running app (dictate --output clipboard) keeps it.",
                    file=sys.stderr,
                )
        elif mode is OutputMode.PASTE:  # wl-copy: the restore runs on a timer thread
            time.sleep(options.restore_clipboard_s + 0.3)
        sink.stop()
    finally:
        if sink.typer is not None:
            sink.typer.close()
    return 0


def _serve_clipboard(app, seconds: float) -> None:
    """Run the event loop for ``seconds``: the clipboard's owner answers the paste, then restores."""
    from PySide6.QtCore import QTimer

    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amanuensis type")
    add_type_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_type(args)
    except OutputError as exc:
        print(f"amanuensis: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())


# -- amanuensis dictate --output type|paste|clipboard -------------------------------------------------------
ANYWHERE_MODES = (OutputMode.TYPE, OutputMode.PASTE, OutputMode.CLIPBOARD)


def add_dictate_output_arguments(p: argparse.ArgumentParser) -> None:
    """The options ``amanuensis dictate`` gains for dictating into other apps."""
    p.add_argument(
        "--output",
        default="stdout",
        choices=[m.value for m in (*ANYWHERE_MODES, OutputMode.STDOUT)],
        help="stdout (print, default); type into the focused app; paste (clipboard + Ctrl+V, the "
        "clipboard restored after 1 s); clipboard (the dictation so far on the clipboard)",
    )
    p.add_argument(
        "--route",
        default="auto",
        choices=["auto"] + [r.value for r in Route if r is not Route.CLIPBOARD],
        help="with --output type/paste: how keys reach other apps (default: the first that works)",
    )
    p.add_argument(
        "--hotkey",
        default="",
        metavar="KEYS",
        help="global toggle hotkey, e.g. ctrl+alt+d (or bind `amanuensis toggle` in your desktop)",
    )
    p.add_argument(
        "--ptt-key", default="", metavar="KEYS", help="global push-to-talk key (dictate while held), e.g. F9"
    )
    p.add_argument("--idle", action="store_true", help="start idle and wait for the hotkey or `amanuensis toggle`")
    p.add_argument(
        "--no-commands",
        action="store_true",
        help="type 'new line', 'new paragraph' and 'scratch that' as words instead of obeying them",
    )
    try:  # `dictate` may already have --language (the dictation language): then it is the same option
        p.add_argument("--language", default="en", help="dictation language (for spoken commands), default en")
    except argparse.ArgumentError:
        pass
    p.add_argument("--no-indicator", action="store_true", help="no on-screen indicator while listening")
    p.add_argument("--sounds", action="store_true", help="a short tone when listening starts and stops")


def run_dictate_anywhere(
    args: argparse.Namespace,
    make_live_options: Callable[[], Any],
    make_source: Callable[[], Any] | None,
    load_engine: Callable[[], Any],
) -> int:
    """``amanuensis dictate --output type|paste|clipboard``: runs until Ctrl-C (or the end of ``--input``)."""
    from PySide6.QtWidgets import QApplication

    from .factory import ensure_display, open_output
    from .service import AnywhereDictation, EngineKeeper, ServiceOptions, run_service

    ensure_display()
    app = QApplication.instance() or QApplication(["amanuensis"])
    if isinstance(app, QApplication):
        app.setQuitOnLastWindowClosed(False)
    mode = OutputMode(args.output)
    language = str(getattr(args, "language", None) or "en")
    options = OutputOptions(mode, commands=not args.no_commands, language="en" if language == "auto" else language)
    route = None if args.route == "auto" else Route(args.route)
    sink, choice = open_output(options, route)
    if choice is not None:
        if choice.notice:
            print(f"amanuensis: {choice.notice}", file=sys.stderr)
        print(f"amanuensis: typing via {choice.label}", file=sys.stderr)
    keeper = EngineKeeper(load_engine)

    def make_pipeline(on_event: Callable[[Any], None]) -> Any:
        from ..live.pipeline import LivePipeline

        return LivePipeline(keeper, make_live_options(), on_event, source=make_source() if make_source else None)

    service = ServiceOptions(
        toggle_key=args.hotkey,
        ptt_key=args.ptt_key,
        start_listening=not args.idle,
        quit_when_stopped=make_source is not None,
        indicator=not args.no_indicator,
        sounds=args.sounds,
    )
    dictation = AnywhereDictation(make_pipeline, sink, choice, service)
    code = run_service(dictation, service, app)
    summary = dictation.summary()
    if summary:
        print(f"amanuensis: {summary}", file=sys.stderr)
    return code


def run_control(command: str) -> int:
    """``amanuensis toggle|ptt-press|ptt-release|status|type-transcript``: prints the running instance's answer."""
    from .control import ControlCommand, send_command

    answer = send_command(ControlCommand(command))
    if command == ControlCommand.STATUS.value:
        print(answer)
    return 0
