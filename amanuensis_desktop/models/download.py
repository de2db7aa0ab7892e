"""Download a model (a catalog name or any Hub repository) so that it is either fully installed or not at all.

1. Ask the Hub which commit the revision is and which files it holds; keep the Whisper files of one format
   (CTranslate2 ``model.bin`` or Hugging Face ``model.safetensors``, with config and tokenizer).
2. HEAD each file for its size and checksum; check the disk has room for what is still missing.
3. Fetch each file into ``.staging/<repo>/<file>.part`` (resumed with Range), verify it, rename it.
4. Write the manifest, then move the staging folder into the models folder in one rename.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from filelock import FileLock, Timeout

from . import store
from .catalog import CT2_REQUIRED, EMBEDDED, HF_REQUIRED, OPTIONAL_FILES, CatalogEntry, by_repo, lookup
from .errors import DownloadCancelled, DownloadError
from .hub import RemoteFile, RetryPolicy, Snapshot, endpoint, head, make_client, resolve_url, snapshot
from .progress import Meter, ProgressCallback, human_bytes
from .transfer import checksum, fetch, part_path, part_size

logger = logging.getLogger(__name__)

PLAN = ".plan.json"
MARGIN_BYTES = 64 * 1024 * 1024  # room kept free besides the model itself


@dataclass(frozen=True)
class DownloadResult:
    repo: str
    name: str  # as the user called it (catalog name or repo id)
    folder: Path
    commit: str
    total: int  # bytes of the model
    received: int  # bytes that came over the network in this run
    resumed: int  # bytes a previous run had left in .part files and that were kept
    seconds: float
    already_installed: bool = False


@dataclass(frozen=True)
class Target:
    name: str
    repo: str
    revision: str
    pinned: dict[str, str]


def target_for(spec: str, revision: str | None = None) -> Target:
    """What ``spec`` (a catalog name or OWNER/REPO) downloads; a catalog repository keeps its pinned revision
    and checksums under either name."""
    named = lookup(spec)
    entry: CatalogEntry | None = named or by_repo(spec)
    if entry is None and not store.is_repo_id(spec):
        raise DownloadError(f"Unknown model '{spec}'; use a catalog name (see `amanuensis models`) or OWNER/REPO.")
    shown = named.name if named is not None else spec
    if entry is None:
        return Target(shown, spec, revision or "main", {})
    rev = revision or entry.revision
    return Target(shown, entry.repo, rev, dict(entry.sha256) if rev == entry.revision else {})


def select_files(snap: Snapshot) -> list[str]:
    """The files worth downloading from ``snap``: one complete Whisper model and its small side files."""
    names = set(snap.files)
    if "model.bin" in names:
        required = CT2_REQUIRED
    elif "model.safetensors" in names:
        required = HF_REQUIRED
    elif any(n.endswith(".safetensors") for n in names):
        raise DownloadError(f"'{snap.repo}' stores its weights in several safetensors files, which are not supported.")
    else:
        raise DownloadError(f"'{snap.repo}' holds no Whisper model.bin or model.safetensors.")
    missing = [n for n in required if n not in names]
    if missing:
        raise DownloadError(f"'{snap.repo}' lacks {', '.join(missing)}, which a Whisper model needs.")
    return list(required) + [n for n in OPTIONAL_FILES if n in names]


def download_model(
    spec: str,
    *,
    revision: str | None = None,
    root: Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    policy: RetryPolicy | None = None,
    client: httpx.Client | None = None,
) -> DownloadResult:
    """Download and install ``spec``; see the module docstring. Raises DownloadError with one sentence."""
    started = time.monotonic()
    target = target_for(spec, revision)
    if target.name == EMBEDDED and revision is None:
        folder = store.resolve_model(EMBEDDED)
        return DownloadResult(target.repo, target.name, folder, target.revision, 0, 0, 0, 0.0, already_installed=True)
    root = root or store.models_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / store.STAGING).mkdir(exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create the models folder {root}: {exc.strerror or exc}.") from exc
    lock = FileLock(str(root / store.STAGING / (store.folder_name(target.repo) + ".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise DownloadError(f"'{target.name}' is already being downloaded by another process.") from exc
    own_client = client is None
    http = client or make_client()
    try:
        return _download(target, root, http, policy or RetryPolicy(), progress, cancel, started)
    except httpx.InvalidURL as exc:
        raise DownloadError(f"HF_ENDPOINT is not a valid address: {exc}.") from exc
    finally:
        if own_client:
            http.close()
        lock.release()


def _download(
    target: Target,
    root: Path,
    http: httpx.Client,
    policy: RetryPolicy,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    started: float,
) -> DownloadResult:
    base = endpoint()
    snap = snapshot(http, base, target.repo, target.revision, policy, cancel)
    names = select_files(snap)
    current = store.find_installed(target.repo, root)
    if current is not None and current.commit == snap.commit and set(current.files) == set(names):
        return DownloadResult(
            target.repo,
            target.name,
            current.folder,
            snap.commit,
            current.size,
            0,
            0,
            time.monotonic() - started,
            already_installed=True,
        )

    staging = store.staging_folder(target.repo, root)
    _prepare_staging(staging, snap.commit)
    files = {
        n: head(http, resolve_url(base, target.repo, snap.commit, n), snap.files[n], policy, cancel) for n in names
    }
    _check_space(root, staging, files, target.name)

    total = sum(max(f.size, 0) for f in files.values())
    already = sum(_on_disk(staging, n) for n in names)
    meter = Meter(target.repo, total, already, progress)
    verified: dict[str, dict] = {}
    try:
        for name, remote in files.items():
            done = staging / name
            if not done.exists():  # a finished file is renamed from .part only after it was verified
                meter.start_file(name)
                part = part_path(staging, name)
                fetch(
                    http,
                    resolve_url(base, target.repo, snap.commit, name),
                    part,
                    remote,
                    meter,
                    policy,
                    cancel,
                    label=f"{name} of '{target.name}'",
                )
                kind, value = checksum(part, remote, target.pinned.get(name, ""))
                part.replace(done)
                _remember(staging, name, kind, value)
            verified[name] = {"size": done.stat().st_size, **_recalled(staging, name)}
    except DownloadCancelled as exc:
        kept = sum(_on_disk(staging, n) for n in names)
        raise DownloadCancelled(
            f"Download of '{target.name}' cancelled with {human_bytes(kept)} of {human_bytes(total)} kept; "
            "run it again to resume."
        ) from exc
    meter.emit(force=True)

    store.write_manifest(staging, target.repo, snap.commit, target.revision, verified)
    folder = store.install(staging, target.repo, root)
    (folder / PLAN).unlink(missing_ok=True)  # kept until here: a crash before the rename loses nothing
    return DownloadResult(
        target.repo, target.name, folder, snap.commit, total, meter.received, meter.resumed, time.monotonic() - started
    )


def _on_disk(staging: Path, name: str) -> int:
    done = staging / name
    return done.stat().st_size if done.exists() else part_size(part_path(staging, name))


def _prepare_staging(staging: Path, commit: str) -> None:
    """Keep what an earlier run of the same commit left; anything else is thrown away."""
    plan = staging / PLAN
    try:
        previous = json.loads(plan.read_text(encoding="utf-8")).get("commit")
    except (OSError, ValueError, AttributeError):
        previous = None
    if staging.exists() and previous != commit:
        logger.info("discarding a partial download of another revision in %s", staging)
        shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    if previous != commit:
        _write_plan(plan, {"commit": commit, "verified": {}})


def _remember(staging: Path, name: str, kind: str, value: str) -> None:
    plan = staging / PLAN
    data = json.loads(plan.read_text(encoding="utf-8"))
    data.setdefault("verified", {})[name] = {kind: value}
    _write_plan(plan, data)


def _write_plan(plan: Path, data: dict) -> None:
    tmp = plan.with_name(plan.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, plan)


def _recalled(staging: Path, name: str) -> dict:
    try:
        return dict(json.loads((staging / PLAN).read_text(encoding="utf-8"))["verified"][name])
    except (OSError, ValueError, KeyError):
        return {}


def _check_space(root: Path, staging: Path, files: dict[str, RemoteFile], name: str) -> None:
    missing = sum(max(0, f.size - _on_disk(staging, n)) for n, f in files.items())
    free = shutil.disk_usage(root).free
    if free < missing + MARGIN_BYTES:
        raise DownloadError(
            f"Not enough disk space for '{name}': {human_bytes(missing + MARGIN_BYTES)} needed in {root}, "
            f"{human_bytes(free)} free."
        )
