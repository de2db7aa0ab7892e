"""Backend registry: what can run here, and the fastest honest choice.

Each backend module is a :class:`BackendModule`: ``probe()`` is cheap (imports, drivers, files; no model);
``create(weights, **options)`` builds the backend and runs its self-check against the numpy reference, raising
:class:`BackendError` with one sentence when it cannot be trusted. The registry hands every ``create`` a
``fallback_factory`` (:func:`decoder_fallback`): the NPU backend builds its decoder with it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from ..errors import BackendError, one_sentence
from ..whisper.inference import Backend, DecoderSession
from ..whisper.model import Weights
from .base import BackendStatus
from .names import FALLBACK_ORDER, PREFERENCE, BackendName

__all__ = [
    "Backend",
    "BackendStatus",
    "DecoderSession",
    "BACKEND_NAMES",
    "BackendModule",
    "BackendName",
    "decoder_fallback",
    "probe",
    "probe_all",
    "select",
    "Selection",
]


class FallbackFactory(Protocol):
    def __call__(self, weights: Weights, **options: Any) -> Backend: ...


class BackendModule(Protocol):
    """What a backend package exposes to the registry."""

    def probe(self) -> BackendStatus: ...

    def create(self, weights: Weights, **options: Any) -> Backend: ...


# One package per backend, named after it; preference order for "auto": fastest honest first.
_MODULES: dict[BackendName, str] = {name: f"{__name__}.{name.value}" for name in PREFERENCE}
BACKEND_NAMES: tuple[str, ...] = tuple(n.value for n in BackendName)  # "auto" first, then the preference order


def _module(name: str) -> BackendModule:
    return cast(BackendModule, importlib.import_module(_MODULES[BackendName(name)]))


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


def decoder_fallback(weights: Weights, **options: Any) -> Backend:
    """The NPU backend's decoder (and a failed encoder's) backend: the registry's own "auto" choice without the
    NPU (OpenVINO when it is available and passes its self-check, else the numpy reference)."""
    return select(BackendName.AUTO, weights, order=FALLBACK_ORDER, **options).backend


def select(name: str, weights: Weights, order: tuple[str, ...] | None = None, **options: Any) -> Selection:
    """Build backend ``name``; "auto" tries ``order`` (default: NPU, then OpenVINO, then CPU) and keeps the first
    that builds and passes its self-check. Under "auto" any failure of a candidate is recorded in its status
    (shown by ``amanuensis backends`` and the window) and the next one is tried."""
    if name not in BACKEND_NAMES:
        raise BackendError(f"Unknown backend '{name}'; choose one of {', '.join(BACKEND_NAMES)}.")
    auto = name == BackendName.AUTO
    candidates = [str(c) for c in (order or _MODULES)] if auto else [name]
    statuses = [probe(n) for n in _MODULES if n in candidates or not auto]
    by_name = {s.name: s for s in statuses}
    last_error = ""
    for candidate in candidates:
        status = by_name[candidate]
        if not status.available:
            last_error = status.reason
            continue
        try:
            backend = _module(candidate).create(weights, fallback_factory=decoder_fallback, **options)
        except BackendError as exc:
            status.available, status.reason = False, f"refused: {exc}"
            last_error = str(exc)
            continue
        except Exception as exc:
            if not auto:
                raise BackendError(f"Backend '{name}' failed to start: {one_sentence(exc)}") from exc
            status.available, status.reason = False, f"failed to start: {one_sentence(exc)}"
            last_error = status.reason
            continue
        status.reason = "in use" + (f" ({status.reason})" if status.reason else "")
        status.label = backend.label
        return Selection(backend, statuses)
    raise BackendError(f"Backend '{name}' is not available here: {last_error.rstrip('.')}.")
