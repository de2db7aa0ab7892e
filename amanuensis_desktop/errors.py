"""User-facing errors: one clear sentence, never a traceback."""

from __future__ import annotations

import re


class UserError(Exception):
    """An error the user can act on. ``str(err)`` is one sentence shown as-is."""


class AudioError(UserError):
    """A file that cannot be read as audio (missing, empty, corrupt, not audio...)."""


class ModelError(UserError):
    """A model folder or file that cannot be loaded."""


class BackendError(UserError):
    """A backend that is unknown, unavailable, or failed its self-check."""


def one_sentence(exc: BaseException, context: str | None = None) -> str:
    """A user-facing sentence for any exception: a UserError as it is; anything else as its first line,
    without errno prefixes, capped in length, with an optional ``context`` ("Cannot open the microphone")."""
    if isinstance(exc, UserError):
        text = str(exc)
    else:
        first = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else ""
        first = re.sub(r"^\[Errno -?\d+\]\s*", "", first)
        text = first or type(exc).__name__
    text = text.rstrip(". ")[:200]
    if context:
        text = f"{context}: {text}"
    return text + "."
