"""Text the app puts on the clipboard. With the "clipboard_secret" setting (off by default), the text carries
``x-kde-passwordManagerHint: secret``, which KDE's Klipper and clipboard managers that follow it take as "do not
keep this in the history"."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

SECRET_HINT = "x-kde-passwordManagerHint"


def copy_text(text: str, secret: bool = False) -> None:
    mime = QMimeData()
    mime.setText(text)
    if secret:
        mime.setData(SECRET_HINT, b"secret")
    QApplication.clipboard().setMimeData(mime)
