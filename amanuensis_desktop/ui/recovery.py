"""The offer to restore text that a session which did not close normally left in the autosave folder."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from .autosave import Orphan, find_orphans, settle
from .widgets import InfoBar


class RecoveryBar(InfoBar):
    """Shows the orphans of the autosave folder with Restore and Discard (which call ``on_restore`` and
    ``on_discard``; those take the orphans with :meth:`take`)."""

    def __init__(self, on_restore: Callable[[], None], on_discard: Callable[[], None], parent: QWidget | None = None):
        super().__init__("info", parent)
        self._on_restore, self._on_discard = on_restore, on_discard
        self.orphans: list[Orphan] = []

    def offer(self, folder: str | os.PathLike) -> None:
        self.orphans = find_orphans(folder)
        if not self.orphans:
            self.hide()
            return
        words = sum(o.words for o in self.orphans)
        when = self.orphans[-1].started.replace("T", " ")[:16]
        n = len(self.orphans)
        what = "a session" if n == 1 else f"{n} sessions"
        self.show_message(
            f"Amanuensis did not close normally: {what} (started {when}) left {words} unsaved word"
            f"{'s' if words != 1 else ''}. Restore the text?",
            [("Restore", self._on_restore), ("Discard", self._on_discard)],
            closable=False,
        )

    def take(self, how: str) -> list[Orphan]:
        """The orphans, marked as dealt with (``how``: "restored" or "discarded"); the offer closes."""
        orphans, self.orphans = self.orphans, []
        for o in orphans:
            settle(o, how)
        self.hide()
        return orphans
