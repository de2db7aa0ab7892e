"""The desktop app entry point: ``amanuensis`` (window) and ``amanuensis --tray`` (start in the tray)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from ..settings import APP_ID, BACKEND_CHOICES

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="amanuensis", description="Amanuensis desktop dictation window.")
    p.add_argument("--tray", action="store_true", help="start hidden, in the system tray")
    p.add_argument("--dictate", action="store_true", help="start dictating as soon as the model is loaded")
    # Not offered by `amanuensis` (cli.py): for the tests, which run `python -m amanuensis_desktop.ui.app`.
    p.add_argument("--backend", choices=BACKEND_CHOICES, help=argparse.SUPPRESS)
    return p


class _RunOverrides:
    """A SettingsStore view whose backend comes from the command line for this run only."""

    def __init__(self, store, overrides: dict):
        self._store, self._overrides = store, {k: v for k, v in overrides.items() if v is not None}

    def get(self, key):
        return self._overrides.get(key, self._store.get(key))

    def all(self):
        values = self._store.all()
        values.update(self._overrides)
        return values

    def update(self, values: dict):
        for k in list(self._overrides):
            if k in values and values[k] != self._overrides[k]:
                del self._overrides[k]  # the user changed it in the dialog: the setting wins from now on
        self._store.update({k: v for k, v in values.items() if k not in self._overrides})

    def __getattr__(self, name):
        return getattr(self._store, name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"amanuensis: the desktop window needs PySide6 ({exc}); run 'make run' to install it.", file=sys.stderr)
        return 1

    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        print(
            "amanuensis: no graphical display was found (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "use 'amanuensis transcribe FILE' in a terminal.",
            file=sys.stderr,
        )
        return 1

    from .icons import icon
    from .main_window import MainWindow
    from .settings_store import Key, SettingsStore
    from .threads import Task, sentence
    from .tray import Tray, tray_available

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0] if sys.argv else "amanuensis"])
    app.setApplicationName("amanuensis")
    app.setOrganizationName("amanuensis")
    app.setApplicationDisplayName("Amanuensis")
    app.setDesktopFileName(APP_ID)  # Wayland's app id: the desktop entry's name
    app.setWindowIcon(icon("app"))

    from .. import settings as S

    try:  # private by default: 0700 data folder, 0600 files in it (repaired when looser)
        S.ensure_private_data_dir()
    except OSError as exc:
        logger.warning("cannot make the data folder private: %s", exc.strerror or exc)

    store: Any = SettingsStore()
    if args.backend is not None:
        store = _RunOverrides(store, {Key.BACKEND: args.backend})

    has_tray = tray_available()
    tray = Tray() if has_tray else None
    window = MainWindow(store, tray=tray)
    window.quit_on_close = True

    def excepthook(etype, value, tb):  # a bug in a slot must not kill dictation: say it in one sentence
        if os.environ.get("AMANUENSIS_DEBUG"):
            logger.error("unexpected error in the window", exc_info=(etype, value, tb))
        else:
            print(f"amanuensis: {sentence(value)} (AMANUENSIS_DEBUG=1 shows the traceback)", file=sys.stderr)
        try:
            window.show_error(sentence(value))
        except Exception:  # the window itself is broken: the sentence above on stderr is all we can do
            pass

    sys.excepthook = excepthook

    if tray is not None:
        app.setQuitOnLastWindowClosed(False)
        tray.toggle_dictation.connect(window.toggle_dictation)

        def show_window() -> None:
            window.showNormal()
            window.raise_()
            window.activateWindow()

        tray.show_window.connect(show_window)
        tray.quit_requested.connect(window.quit_app)
        tray.show()
    if args.tray and tray is not None:
        pass  # stay hidden in the tray
    else:
        window.show()
        if tray is None:
            msg = "No system tray on this desktop; the window stays open."
            window.statusBar().showMessage(msg, 10000)
            if args.tray:
                print(f"amanuensis: {msg}", file=sys.stderr)
    if args.dictate:
        QTimer.singleShot(0, window.start_dictation)

    def about_to_quit() -> None:  # quit by other means (e.g. the session ends): the transcript is kept
        if not window.closed_for_real:
            window.transcript.close()

    app.aboutToQuit.connect(about_to_quit)

    import signal

    def on_signal(_signum, _frame):  # Ctrl+C or SIGTERM: quit the way the Quit menu does (nothing lost)
        QTimer.singleShot(0, window.quit_app)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    wake = QTimer()
    wake.timeout.connect(lambda: None)  # lets Python run its signal handlers while Qt's loop runs
    wake.start(300)
    code = int(app.exec())
    # An engine load can outlive the quit's 10 s wait on a slow machine; Qt aborts the process when a running
    # QThread is destroyed, so wait for it, and if it still runs, leave without destroying anything.
    if not Task.wait_all(30000):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
