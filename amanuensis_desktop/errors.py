"""User-facing errors: one clear sentence, never a traceback."""


class UserError(Exception):
    """An error the user can act on. ``str(err)`` is one sentence shown as-is."""


class AudioError(UserError):
    """A file that cannot be read as audio (missing, empty, corrupt, not audio...)."""


class ModelError(UserError):
    """A model folder or file that cannot be loaded."""


class BackendError(UserError):
    """A backend that is unknown, unavailable, or failed its self-check."""
