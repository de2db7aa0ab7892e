"""The one error type of the output package: one sentence for the window, the tray or the terminal."""

from __future__ import annotations

from ..errors import UserError


class OutputError(UserError):
    """Text could not reach the target app (no route, a tool missing or failing, the X server refusing)."""
