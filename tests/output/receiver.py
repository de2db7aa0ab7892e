"""A window of another app, for the typing tests: a QPlainTextEdit that writes its text to a file whenever it
changes (JSON: the text and time.time(); OUT.json.log: one line per change with the time and the length),
focused with activateWindow() (no window manager needed).

    python receiver.py OUT.json [--clipboard TEXT] [--clipboard-log PATH] [--class NAME]

``--clipboard``: own the clipboard with TEXT at start (the user's clipboard); ``--clipboard-log``: append the
clipboard's text to PATH (a JSON line) whenever it changes (to check it was restored). ``--class``: the WM_CLASS (e.g.
"xterm" to look like a terminal). Run with QT_QPA_PLATFORM=xcb and DISPLAY set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _write(path: str, payload: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False)
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--clipboard", default=None)
    parser.add_argument("--clipboard-log", default=None)
    parser.add_argument("--class", dest="wm_class", default="receiver")
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QApplication, QPlainTextEdit

    app = QApplication([args.wm_class])
    app.setApplicationName(args.wm_class)
    edit = QPlainTextEdit()
    edit.setWindowTitle("receiver")
    edit.resize(500, 200)

    def changed() -> None:
        now, text = time.time(), edit.toPlainText()
        _write(args.out, {"t": now, "text": text})
        with open(args.out + ".log", "a", encoding="utf-8") as f:  # the history: when each length was reached
            f.write(json.dumps({"t": now, "n": len(text)}) + "\n")

    edit.textChanged.connect(changed)
    if args.wm_class == "xterm":  # a terminal pastes with Ctrl+Shift+V only
        QShortcut(QKeySequence("Ctrl+Shift+V"), edit, edit.paste)
        QShortcut(QKeySequence("Ctrl+V"), edit, lambda: edit.insertPlainText("^V"))
    clipboard = app.clipboard()
    if args.clipboard_log:

        def log_clipboard() -> None:  # one JSON line per change: the history of the clipboard
            with open(args.clipboard_log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"t": time.time(), "text": clipboard.text()}, ensure_ascii=False) + "\n")

        clipboard.dataChanged.connect(log_clipboard)
    edit.show()

    def ready() -> None:
        edit.activateWindow()
        edit.setFocus()
        if args.clipboard is not None:
            clipboard.setText(args.clipboard)
        _write(args.out, {"t": time.time(), "text": edit.toPlainText(), "ready": True})

    QTimer.singleShot(300, ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
