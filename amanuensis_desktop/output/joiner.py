"""Spacing and capitals between finals, so consecutive finals read as one text in the target app.

Whisper returns each segment as a trimmed sentence ("Hello there.", "and then we left"). Typed one after the
other they need a space between them, none before punctuation or after a line break, and a capital after the
end of a sentence or a line break. The joiner only ever adds to the front of a final; it never rewrites what
was typed before (that text is in another app already). It remembers what it produced so that "scratch that"
can remove exactly the last piece.
"""

from __future__ import annotations

_SENTENCE_END = ".!?…。！？"
_NO_SPACE_BEFORE = ".,;:!?…)]}»”’%。、，！？"
_NO_SPACE_AFTER = "([{«“‘/-\n\t "


def _capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if not (ch in "\"'“‘«¿¡(" or ch.isspace()):
            return text  # starts with a digit or a symbol: leave it alone
    return text


class Joiner:
    """Turns finals and line breaks into the exact strings to type, in order.

    >>> j = Joiner()
    >>> j.text("hello there."), j.text("and then"), j.text(", well"), j.newline(), j.text("ok")
    ('Hello there.', ' And then', ', well', '\\n', 'Ok')
    """

    def __init__(self, capitalise: bool = True) -> None:
        self.capitalise = capitalise
        self._pieces: list[str] = []  # what was produced, newest last ("scratch that" pops)

    @property
    def typed(self) -> str:
        """Everything produced and not scratched (what the target app should now contain)."""
        return "".join(self._pieces)

    def _last_char(self) -> str:
        for piece in reversed(self._pieces):
            if piece:
                return piece[-1]
        return ""

    def text(self, final: str) -> str:
        """The string to type for ``final``: trimmed, with a leading space and a capital where they belong.
        An empty final gives "" (and is not remembered)."""
        body = " ".join(final.split())
        if not body:
            return ""
        last = self._last_char()
        at_start = last == "" or last == "\n"
        if self.capitalise and (at_start or last in _SENTENCE_END):
            body = _capitalise(body)
        space = "" if at_start or last in _NO_SPACE_AFTER or body[0] in _NO_SPACE_BEFORE else " "
        piece = space + body
        self._pieces.append(piece)
        return piece

    def raw(self, text: str) -> str:
        """``text`` exactly as given (``amanuensis type --raw``), remembered like any piece."""
        if text:
            self._pieces.append(text)
        return text

    def newline(self, count: int = 1) -> str:
        """One line break (``count=2``: a new paragraph). A trailing space is never left before it."""
        piece = "\n" * count
        self._pieces.append(piece)
        return piece

    def scratch(self) -> str:
        """Forget the last piece and return it (the caller deletes it from the target); "" when nothing is
        left to scratch."""
        return self._pieces.pop() if self._pieces else ""

    def reset(self) -> None:
        """A new dictation: the next final starts a sentence (the cursor may be anywhere now)."""
        self._pieces.clear()
