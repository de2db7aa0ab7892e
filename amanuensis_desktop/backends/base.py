"""What the registry says about a backend. The inference interface itself lives with its consumer, in
:mod:`amanuensis_desktop.whisper.inference`; it is re-exported here for the backends' convenience."""

from __future__ import annotations

from dataclasses import dataclass

from ..whisper.inference import Backend, DecoderSession

__all__ = ["Backend", "BackendStatus", "DecoderSession"]


@dataclass
class BackendStatus:
    """Whether a backend can run here, and why (shown by ``amanuensis backends`` and the window)."""

    name: str
    available: bool
    reason: str
    label: str = ""
    version: str = ""
    devices: tuple[str, ...] = ()

    def line(self) -> str:
        state = "available" if self.available else "unavailable"
        extra = f" [{', '.join(self.devices)}]" if self.devices else ""
        ver = f" {self.version}" if self.version else ""
        return f"{self.name:<9} {state:<11} {self.label}{ver}{extra} — {self.reason}"
