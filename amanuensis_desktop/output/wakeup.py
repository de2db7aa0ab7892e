"""A pipe that wakes a thread sleeping in ``select()`` so that it can stop (the control socket's thread, the X11
hotkeys' thread): the thread selects on :attr:`WakePipe.fd` too and returns when it is readable."""

from __future__ import annotations

import os
import threading


class WakePipe:
    def __init__(self) -> None:
        self.fd, self._write_fd = os.pipe()

    def stop(self, thread: threading.Thread | None, timeout_s: float = 5.0) -> None:
        """Wake ``thread`` (if any) and wait up to ``timeout_s`` for it to end."""
        if thread is not None:
            os.write(self._write_fd, b"x")
            thread.join(timeout_s)

    def close(self) -> None:
        for fd in (self.fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
