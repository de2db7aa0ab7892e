"""The models folder on disk, and turning a model spec into a folder — with no network, ever.

Layout under :func:`models_dir` (``$AMANUENSIS_MODELS_DIR``, else ``<data folder>/models``)::

    Systran--faster-whisper-small/      an installed model: its files + MANIFEST (repo, commit, sha256 of each file)
    .staging/Systran--faster-whisper-small/   a download in progress: ``*.part`` files, never listed as installed
    .trash/                             folders being removed or replaced (deleted right after)

A model folder appears in the layout only by one ``os.replace`` of a complete, verified staging folder, so a
crash at any moment leaves either the old model, the new one, or nothing — never half of one.

A spec is ``NAME`` (a catalog name), ``OWNER/REPO`` (a downloaded Hub repository) or a folder. A catalog name
wins over a folder of the same name in the current directory (write ``./small`` for the folder); ``a/b`` is a
folder when one exists there, else a repository id; ``tiny.en`` is the embedded model; other catalog names and
repository ids are looked up in the models folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..whisper.model import resolve_model_path
from .catalog import EMBEDDED, by_repo, lookup

logger = logging.getLogger(__name__)

MANIFEST = ".amanuensis-model.json"
STAGING = ".staging"
TRASH = ".trash"
MODELS_DIR_ENV = "AMANUENSIS_MODELS_DIR"

_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def models_dir() -> Path:
    """Where downloaded models live: ``$AMANUENSIS_MODELS_DIR``, else ``<data folder>/models``."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from ..settings import data_dir

    return data_dir() / "models"


def is_repo_id(text: str) -> bool:
    return bool(_REPO_RE.match(text)) and ".." not in text


def folder_name(repo: str) -> str:
    """``owner/name`` -> ``owner--name`` (the folder of that repository's model)."""
    return repo.replace("/", "--")


def model_folder(repo: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / folder_name(repo)


def staging_folder(repo: str, root: Path | None = None) -> Path:
    return (root or models_dir()) / STAGING / folder_name(repo)


@dataclass(frozen=True)
class InstalledModel:
    repo: str
    folder: Path
    commit: str
    size: int  # bytes on disk, from the manifest
    files: dict[str, dict]

    @property
    def catalog_name(self) -> str:
        entry = by_repo(self.repo)
        return entry.name if entry else ""


def read_manifest(folder: Path) -> InstalledModel | None:
    """The installed model in ``folder``, or None when it is not a complete installed model."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = dict(data["files"])
        repo, commit = str(data["repo"]), str(data["commit"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    size = 0
    for name, info in files.items():
        try:
            if (folder / name).stat().st_size != int(info["size"]):
                return None
        except (OSError, KeyError, TypeError, ValueError):
            return None
        size += int(info["size"])
    return InstalledModel(repo=repo, folder=folder, commit=commit, size=size, files=files)


def write_manifest(folder: Path, repo: str, commit: str, revision: str, files: dict[str, dict]) -> None:
    data = {"repo": repo, "commit": commit, "revision": revision, "installed": time.time(), "files": files}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def installed(root: Path | None = None) -> list[InstalledModel]:
    """Every complete installed model, by repository name."""
    root = root or models_dir()
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or not child.is_dir():
            continue
        model = read_manifest(child)
        if model is not None:
            found.append(model)
    return found


def find_installed(repo: str, root: Path | None = None) -> InstalledModel | None:
    return read_manifest(model_folder(repo, root))


def partial_size(repo: str, root: Path | None = None) -> int:
    """Bytes an unfinished download of ``repo`` has kept in its staging folder."""
    staging = staging_folder(repo, root)
    if not staging.is_dir():
        return 0
    return sum(p.stat().st_size for p in staging.iterdir() if p.is_file() and not p.name.startswith("."))


def repo_for(spec: str) -> str | None:
    """The Hub repository a catalog name or repo id stands for (None for anything else)."""
    entry = lookup(spec)
    if entry is not None:
        return entry.repo
    return spec if is_repo_id(spec) else None


def resolve_model(spec: str | os.PathLike | None, root: Path | None = None) -> Path:
    """The folder of the model ``spec`` names, read from disk only (never the network).

    Raises :class:`ModelError` with one sentence when the model is unknown, not downloaded, or incomplete.
    """
    if spec is None or str(spec) == "":
        return resolve_model_path(None)
    text = str(spec)
    path = Path(text).expanduser()
    looks_like_path = text.startswith((".", "~", os.sep)) or (os.altsep is not None and os.altsep in text)
    if looks_like_path or (path.is_dir() and lookup(text) is None):
        return resolve_model_path(path)
    entry = lookup(text)
    if entry is not None and entry.name == EMBEDDED:
        return resolve_model_path(None)
    repo = repo_for(text)
    if repo is None:
        raise ModelError(
            f"Unknown model '{text}'; run `amanuensis models` for the catalog names, or pass OWNER/REPO or a folder."
        )
    folder = model_folder(repo, root)
    shown = entry.name if entry is not None else repo
    if read_manifest(folder) is None:
        if folder.exists():
            raise ModelError(f"Model '{shown}' is incomplete; run `amanuensis models download {shown}` again.")
        raise ModelError(f"Model '{shown}' is not downloaded; run `amanuensis models download {shown}`.")
    return resolve_model_path(folder)


def remove(spec: str, root: Path | None = None) -> Path:
    """Delete an installed model (and any partial download of it); returns the folder it was in."""
    entry = lookup(spec)
    if entry is not None and entry.name == EMBEDDED:
        raise ModelError(f"Model '{EMBEDDED}' is embedded in the app and cannot be removed.")
    repo = repo_for(spec)
    if repo is None:
        raise ModelError(f"Unknown model '{spec}'; run `amanuensis models` for the names of installed models.")
    root = root or models_dir()
    folder, staging = model_folder(repo, root), staging_folder(repo, root)
    if not folder.exists() and not staging.exists():
        raise ModelError(f"Model '{spec}' is not downloaded.")
    for victim in (folder, staging):
        if victim.exists():
            discard(victim, root)
    return folder


def discard(folder: Path, root: Path | None = None) -> None:
    """Remove ``folder`` atomically from the layout (rename into .trash), then delete it."""
    trash = (root or models_dir()) / TRASH
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / f"{folder.name}-{os.getpid()}-{time.monotonic_ns()}"
    os.replace(folder, target)
    shutil.rmtree(target, ignore_errors=True)


def install(staged: Path, repo: str, root: Path | None = None) -> Path:
    """Move a complete, verified staging folder into place in one rename; an older copy is replaced."""
    root = root or models_dir()
    final = model_folder(repo, root)
    if final.exists():
        discard(final, root)
    os.replace(staged, final)
    logger.info("installed %s in %s", repo, final)
    return final
