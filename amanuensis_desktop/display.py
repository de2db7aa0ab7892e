"""Untrusted text made safe to show: file names and decoder messages may hold newlines, terminal escapes,
bidirectional overrides (an RTL mark can make ``evil\u202egnp.wav`` read as ``evilvaw.png``) and bytes that are
not UTF-8. :func:`shown` keeps such text on one line and unambiguous, escaping what it cannot show as is."""

from __future__ import annotations

import os
import unicodedata

#: Characters that reorder or hide text: bidi embeddings/overrides/isolates and marks, zero-width ones.
_INVISIBLE = {0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF}
_INVISIBLE.update(range(0x202A, 0x202F))
_INVISIBLE.update(range(0x2066, 0x206A))


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def shown(text: str | os.PathLike) -> str:
    """``text`` on one line, with control characters, invisible/bidi characters and undecodable bytes
    written as escapes (``\\n``, ``\\u202e``, ``\\xff``). Plain text (any script) is unchanged."""
    text = os.fspath(text)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    out = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE or 0xD800 <= code <= 0xDFFF or unicodedata.category(ch) in ("Cc", "Cs"):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)
