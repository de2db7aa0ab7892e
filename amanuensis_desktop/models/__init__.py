"""Whisper models: the catalog of names, downloads that never leave a broken model, and the models folder.

``resolve_model(spec)`` turns ``NAME | OWNER/REPO | folder`` into a model folder from disk alone;
``download_model(spec)`` fetches one from the Hugging Face Hub (or ``$HF_ENDPOINT``). The download side
(httpx) is imported only when it is used, so loading a model stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .catalog import CATALOG, EMBEDDED, CatalogEntry, lookup
from .errors import DownloadCancelled, DownloadError
from .progress import Progress
from .store import InstalledModel, installed, models_dir, remove, resolve_model

if TYPE_CHECKING:
    from .download import DownloadResult, download_model

__all__ = [
    "CATALOG",
    "EMBEDDED",
    "CatalogEntry",
    "DownloadCancelled",
    "DownloadError",
    "DownloadResult",
    "InstalledModel",
    "Progress",
    "download_model",
    "installed",
    "lookup",
    "models_dir",
    "remove",
    "resolve_model",
]


def __getattr__(name: str) -> Any:
    if name in ("download_model", "DownloadResult"):
        from . import download

        return getattr(download, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
