"""Whisper models: the catalog of names, downloads that never leave a broken model, and the models folder.

``resolve_model(spec)`` turns ``NAME | OWNER/REPO | folder`` into a model folder from disk alone;
``download_model(spec)`` fetches one from the Hugging Face Hub (or ``$HF_ENDPOINT``).
"""

from __future__ import annotations

from .catalog import CATALOG, EMBEDDED, CatalogEntry, lookup
from .download import DownloadResult, download_model
from .errors import DownloadCancelled, DownloadError
from .progress import Progress
from .store import InstalledModel, installed, models_dir, remove, resolve_model

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
