"""Errors of model downloads: one sentence each, shown as-is (see :class:`~amanuensis_desktop.errors.UserError`)."""

from __future__ import annotations

from ..errors import UserError


class DownloadError(UserError):
    """A download that failed; nothing half-installed is left (a resumable ``.part`` may be kept)."""


class DownloadCancelled(DownloadError):
    """The user cancelled; the bytes received so far are kept for the next attempt."""
