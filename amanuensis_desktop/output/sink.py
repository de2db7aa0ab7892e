"""Where the finals of a dictation go: typed into the focused app, pasted, copied, only shown in the window,
or printed on stdout. Only finals are sent (partials would have to be deleted again in someone else's app).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from enum import Enum
from typing import TextIO

from .clipboard import Clipboard, Paster
from .errors import OutputError
from .joiner import Joiner
from .routes import Typer
from .spoken import Command, split_commands

logger = logging.getLogger(__name__)


class OutputMode(Enum):
    TYPE = "type"  # typed into the focused app
    PASTE = "paste"  # clipboard + Ctrl+V (Ctrl+Shift+V in terminals), the user's clipboard restored after ~1 s
    CLIPBOARD = "clipboard"  # the dictation so far is on the clipboard
    WINDOW = "window"  # only in our window
    STDOUT = "stdout"  # printed (amanuensis dictate)


@dataclass(frozen=True)
class OutputOptions:
    mode: OutputMode = OutputMode.WINDOW
    commands: bool = True  # "new line", "new paragraph", "scratch that"
    language: str = "en"  # the dictation language (for its spoken commands)
    capitalise: bool = True
    restore_clipboard_s: float = 1.0


class OutputSink:
    """Sends each final to the target. Call from one thread (the clipboard's, with Qt: the GUI thread).
    Failures raise :class:`OutputError` (one sentence) and are not retried."""

    def __init__(
        self,
        options: OutputOptions,
        typer: Typer | None = None,
        clipboard: Clipboard | None = None,
        paster: Paster | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.options = options
        self.typer, self.clipboard = typer, clipboard
        mode = options.mode
        if mode is OutputMode.TYPE and typer is None and clipboard is None:
            raise OutputError("Typing into other apps needs a typing route or at least the clipboard.")
        if mode is OutputMode.PASTE and paster is None:
            if typer is None or clipboard is None:
                raise OutputError("Paste mode needs both the clipboard and a way to press Ctrl+V.")
            paster = Paster(clipboard, typer, options.restore_clipboard_s)
        if mode is OutputMode.CLIPBOARD and clipboard is None:
            raise OutputError("Clipboard mode needs a clipboard.")
        self.paster = paster
        self.stream = stream if stream is not None else sys.stdout
        self.joiner = Joiner(options.capitalise)

    def start(self) -> None:
        """A new dictation: the first final starts a sentence."""
        self.joiner.reset()

    def final(self, text: str) -> str:
        """Deliver one final; returns what was sent (for logs and tests)."""
        pieces = split_commands(text, self.options.language) if self.options.commands else [text]
        sent = []
        for piece in pieces:
            if piece is Command.SCRATCH:
                self._delete(self.joiner.scratch())
            elif piece is Command.NEW_LINE or piece is Command.NEW_PARAGRAPH:
                sent.append(self._send(self.joiner.newline(2 if piece is Command.NEW_PARAGRAPH else 1)))
            elif isinstance(piece, str):
                sent.append(self._send(self.joiner.text(piece)))
        return "".join(sent)

    def final_raw(self, text: str) -> str:
        """Deliver ``text`` exactly as given: no spoken commands, spacing or capitals."""
        return self._send(self.joiner.raw(text))

    def stop(self) -> None:
        """The dictation ended: finish the line on stdout, give the clipboard back."""
        if self.options.mode is OutputMode.STDOUT and self.joiner.typed:
            self.stream.write("\n")
            self.stream.flush()
        if self.paster is not None:
            self.paster.flush()

    def _send(self, piece: str) -> str:
        if not piece:
            return ""
        mode = self.options.mode
        if mode is OutputMode.TYPE:
            if self.typer is not None:
                self.typer.type_text(piece)
            elif self.clipboard is not None:
                self.clipboard.set_text(self.joiner.typed)
        elif mode is OutputMode.PASTE:
            assert self.paster is not None
            self.paster.paste(piece)
        elif mode is OutputMode.CLIPBOARD:
            assert self.clipboard is not None
            self.clipboard.set_text(self.joiner.typed)
        elif mode is OutputMode.STDOUT:
            self.stream.write(piece)
            self.stream.flush()
        return piece

    def _delete(self, piece: str) -> None:
        if not piece:
            return
        mode = self.options.mode
        if mode in (OutputMode.TYPE, OutputMode.PASTE) and self.typer is not None:
            self.typer.backspace(len(piece))
        elif mode in (OutputMode.CLIPBOARD, OutputMode.TYPE) and self.clipboard is not None:
            self.clipboard.set_text(self.joiner.typed)
        elif mode is OutputMode.STDOUT:
            logger.info("'scratch that' cannot delete text already printed.")
