"""Text the app puts on the clipboard. With the "clipboard_secret" setting (off by default), the text carries
``x-kde-passwordManagerHint: secret``, which KDE's Klipper and clipboard managers that follow it take as "do not
keep this in the history".

Plain text goes through ``setText``. Secret text needs ``setMimeData``, and a QMimeData still held by the
clipboard when Python shuts down crashes the process (PySide6 6.x, measured: SIGSEGV at exit), so the clipboard
is cleared at exit while it still holds our secret text (which also keeps the secret from outliving the app).
"""

from __future__ import annotations

import atexit

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

SECRET_HINT = "x-kde-passwordManagerHint"
_registered = False


def _clear_at_exit() -> None:
    app = QApplication.instance()
    if app is None:
        return
    clipboard = QApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(SECRET_HINT):
        clipboard.clear()


def copy_text(text: str, secret: bool = False) -> None:
    global _registered
    clipboard = QApplication.clipboard()
    if not secret:
        clipboard.setText(text)
        return
    mime = QMimeData()
    mime.setText(text)
    mime.setData(SECRET_HINT, b"secret")
    clipboard.setMimeData(mime)
    if not _registered:  # at the window's quit, and at exit for an app that never ran its loop (tests)
        atexit.register(_clear_at_exit)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(_clear_at_exit)
        _registered = True
