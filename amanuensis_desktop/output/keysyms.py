"""Characters to X keysyms: Latin-1 is the code point, everything else ``0x01000000 | code point``.

Newline and tab use their named function keysyms (Return, Tab) so that every app treats them as keys.
"""

from __future__ import annotations

RETURN = 0xFF0D
TAB = 0xFF09
BACKSPACE = 0xFF08
SHIFT_L = 0xFFE1
CAPS_LOCK = 0xFFE5
CONTROL_L = 0xFFE3
#: the keysym "V" and "v"
LOWER_V = 0x0076

_NAMED = {"\n": RETURN, "\r": RETURN, "\t": TAB, "\b": BACKSPACE}


def keysym_for(char: str) -> int | None:
    """The keysym that types ``char`` (one code point), or None for a control character nobody can type."""
    if char in _NAMED:
        return _NAMED[char]
    cp = ord(char)
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        return None
    if cp <= 0xFF:
        return cp
    return 0x01000000 | cp
