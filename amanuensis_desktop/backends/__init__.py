"""Backend registry: what can run here, and the fastest honest choice.

Each backend module exposes ``probe() -> BackendStatus`` (cheap: imports, drivers, files; no model) and
``create(weights, **options) -> Backend`` (builds it and runs its self-check against the numpy reference;
raises :class:`BackendError` with one sentence when it cannot be trusted).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import BackendError, one_sentence
from .base import Backend, BackendStatus, DecoderSession

__all__ = ["Backend", "BackendStatus", "DecoderSession", "BACKEND_NAMES", "probe_all", "select", "Selection"]

# Preference order for "auto": fastest honest first.
_MODULES = {
    "npu": "amanuensis_desktop.backends.npu",
    "openvino": "amanuensis_desktop.backends.openvino",
    "cpu": "amanuensis_desktop.backends.cpu",
}
BACKEND_NAMES = ("auto", *_MODULES)


def _module(name: str):
    return importlib.import_module(_MODULES[name])


def probe(name: str) -> BackendStatus:
    try:
        return _module(name).probe()
    except ImportError as exc:
        return BackendStatus(name, False, f"not installed ({exc.name or exc})")
    except Exception as exc:  # a probe must never take the app down
        return BackendStatus(name, False, f"probe failed: {exc}")


def probe_all() -> list[BackendStatus]:
    return [probe(name) for name in _MODULES]


@dataclass
class Selection:
    """The backend in use and, for every other one, why it was or was not used."""

    backend: Backend
    statuses: list[BackendStatus] = field(default_factory=list)

    def explain(self) -> str:
        return "\n".join(s.line() for s in self.statuses)


def select(name: str, weights, order: tuple[str, ...] | None = None, **options) -> Selection:
    """Build backend ``name``; "auto" tries ``order`` (default: NPU, then OpenVINO, then CPU) and keeps the first
    that builds and passes its self-check. Under "auto" any failure of a candidate is recorded in its status
    (shown by ``amanuensis backends`` and the window) and the next one is tried."""
    if name not in BACKEND_NAMES:
        raise BackendError(f"Unknown backend '{name}'; choose one of {', '.join(BACKEND_NAMES)}.")
    candidates = list(order or _MODULES) if name == "auto" else [name]
    statuses = [probe(n) for n in _MODULES if n in candidates or name != "auto"]
    by_name = {s.name: s for s in statuses}
    last_error = ""
    for candidate in candidates:
        status = by_name[candidate]
        if not status.available:
            last_error = status.reason
            continue
        try:
            backend = _module(candidate).create(weights, **options)
        except BackendError as exc:
            status.available, status.reason = False, f"refused: {exc}"
            last_error = str(exc)
            continue
        except Exception as exc:
            if name != "auto":
                raise BackendError(f"Backend '{name}' failed to start: {one_sentence(exc)}") from exc
            status.available, status.reason = False, f"failed to start: {one_sentence(exc)}"
            last_error = status.reason
            continue
        status.reason = "in use" + (f" ({status.reason})" if status.reason else "")
        status.label = backend.label
        return Selection(backend, statuses)
    raise BackendError(f"Backend '{name}' is not available here: {last_error.rstrip('.')}.")
