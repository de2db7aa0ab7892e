"""Reading an autosave file that may be damaged (cut short by a full disk, overwritten, not UTF-8): whatever
text can be recovered is recovered, so a damaged file loses as little as possible and never stops the app."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

logger = logging.getLogger(__name__)

_TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"')
_START = re.compile(r'"start"\s*:\s*(-?[0-9.eE+-]+)')
_PID = re.compile(r'"pid"\s*:\s*([0-9]+)')
MAX_BYTES = 64 << 20  # a session file is kilobytes; anything this large is not ours


def read_session(path: Path) -> dict | None:
    """The session's dict; for a damaged file, a dict rebuilt from the text strings that survive (marked
    ``"damaged": True``, unclosed, so it is offered back); None when nothing can be read or recovered."""
    try:
        if path.stat().st_size > MAX_BYTES:
            logger.warning("%s is too large to be an autosave file; skipped", path)
            return None
        raw = path.read_bytes()
    except OSError as exc:
        logger.warning("cannot read autosave file %s: %s", path, exc.strerror or exc)
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    segments = []
    for m in _TEXT.finditer(text):
        try:
            value = json.loads(f'"{m.group(1)}"')
        except ValueError:
            value = m.group(1)
        start = _START.search(text, max(0, m.start() - 80), m.start())
        t = float(start.group(1)) if start and _is_float(start.group(1)) else 0.0
        segments.append({"start": t, "end": t, "text": value})
    if not segments:
        logger.warning("autosave file %s is damaged and holds no readable text; skipped", path)
        return None
    pid = _PID.search(text)
    logger.warning("autosave file %s is damaged; %d piece(s) of text recovered", path, len(segments))
    return {"closed": False, "damaged": True, "pid": int(pid.group(1)) if pid else 0, "segments": segments}


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
