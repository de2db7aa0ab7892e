"""Spoken commands inside dictated text: "new line", "new paragraph", "scratch that".

``split_commands("Dear Anna, new paragraph. Thanks for the call.", "en")`` gives
``["Dear Anna", Command.NEW_PARAGRAPH, "Thanks for the call."]``. A command is recognised only as whole words,
in any case, with the punctuation Whisper puts around it; English always works and the dictation language's
own phrases are added where it has them. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum


class Command(Enum):
    NEW_LINE = "new line"
    NEW_PARAGRAPH = "new paragraph"
    SCRATCH = "scratch that"


#: language -> command -> phrases (lower case, written as Whisper spells them)
PHRASES: dict[str, dict[Command, tuple[str, ...]]] = {
    "en": {
        Command.NEW_LINE: ("new line",),
        Command.NEW_PARAGRAPH: ("new paragraph",),
        Command.SCRATCH: ("scratch that",),
    },
    "de": {
        Command.NEW_LINE: ("neue zeile",),
        Command.NEW_PARAGRAPH: ("neuer absatz", "neuer paragraph"),
        Command.SCRATCH: ("streich das", "lösch das"),
    },
    "fr": {
        Command.NEW_LINE: ("nouvelle ligne", "à la ligne"),
        Command.NEW_PARAGRAPH: ("nouveau paragraphe",),
        Command.SCRATCH: ("efface ça", "efface cela"),
    },
    "es": {
        Command.NEW_LINE: ("nueva línea", "nueva linea"),
        Command.NEW_PARAGRAPH: ("nuevo párrafo", "nuevo parrafo"),
        Command.SCRATCH: ("borra eso",),
    },
    "it": {
        Command.NEW_LINE: ("nuova riga", "a capo"),
        Command.NEW_PARAGRAPH: ("nuovo paragrafo",),
        Command.SCRATCH: ("cancella quello", "cancella questo"),
    },
    "nl": {
        Command.NEW_LINE: ("nieuwe regel",),
        Command.NEW_PARAGRAPH: ("nieuwe alinea",),
        Command.SCRATCH: ("schrap dat",),
    },
}

# punctuation Whisper puts after a spoken command (removed with it); what comes before stays with its sentence
_BEFORE = r"\s*"
_AFTER = r"[\s.,;:!?…。，、]*"
# punctuation left dangling at the end of the text before a line break (a comma before "new line")
_DANGLING = re.compile(r"[\s,;:]+$")

Piece = str | Command


def _pattern(language: str) -> re.Pattern[str]:
    table: dict[Command, list[str]] = {c: list(p) for c, p in PHRASES["en"].items()}
    for command, phrases in PHRASES.get(language.lower().split("-")[0], {}).items():
        table[command] += [p for p in phrases if p not in table[command]]
    alternatives = []
    for command, spellings in table.items():
        words = "|".join(r"\s+".join(map(re.escape, p.split())) for p in sorted(spellings, key=len, reverse=True))
        alternatives.append(f"(?P<{command.name}>{words})")
    return re.compile(rf"{_BEFORE}(?<!\w)(?:{'|'.join(alternatives)})(?!\w){_AFTER}", re.IGNORECASE)


_CACHE: dict[str, re.Pattern[str]] = {}


def split_commands(text: str, language: str = "en") -> list[Piece]:
    """``text`` as text pieces and commands, in order. Text pieces are trimmed and never empty."""
    text = unicodedata.normalize("NFC", text)
    key = language.lower()
    pattern = _CACHE.get(key) or _CACHE.setdefault(key, _pattern(key))
    pieces: list[Piece] = []
    pos = 0
    for match in pattern.finditer(text):
        before = text[pos : match.start()].strip()
        command = next(Command[name] for name, value in match.groupdict().items() if value)
        if command is not Command.SCRATCH:
            before = _DANGLING.sub("", before)
        if before:
            pieces.append(before)
        pieces.append(command)
        pos = match.end()
    rest = text[pos:].strip()
    if rest:
        pieces.append(rest)
    return pieces
