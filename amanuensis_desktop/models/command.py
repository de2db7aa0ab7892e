"""``amanuensis models [list | download SPEC | remove SPEC]``: the catalog and the models folder on the command
line. Progress goes to stderr (tqdm); Ctrl+C cancels and keeps what arrived for the next run."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from .catalog import CATALOG, EMBEDDED, CatalogEntry
from .errors import DownloadCancelled
from .progress import Progress, human_bytes
from .store import installed, models_dir, partial_size, remove

if TYPE_CHECKING:
    from .download import DownloadResult

EXIT_CANCELLED = 130


def add_parser(
    subparsers: argparse._SubParsersAction, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "models",
        parents=list(parents),
        help="list, download or remove Whisper models",
        description="Whisper models: the catalog, downloads and the models folder.",
    )
    sub = p.add_subparsers(dest="models_command")
    sub.add_parser("list", help="every catalog model and every downloaded one (the default)")
    d = sub.add_parser("download", help="download a catalog model or any Hub repository (resumable)")
    d.add_argument("spec", metavar="NAME|OWNER/REPO")
    d.add_argument("--revision", default=None, help="a branch, tag or commit (default: the catalog's pin, or main)")
    r = sub.add_parser("remove", help="delete a downloaded model")
    r.add_argument("spec", metavar="NAME|OWNER/REPO")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "models_command", None) or "list"
    try:
        if command == "download":
            return _download(args.spec, args.revision)
        if command == "remove":
            folder = remove(args.spec)
            print(f"amanuensis: removed {args.spec} ({folder}).", file=sys.stderr)
            return 0
        _list()
        return 0
    except UserError as exc:
        print(f"amanuensis: {exc}", file=sys.stderr)
        return 1


def _row(entry: CatalogEntry | None, name: str, size: str, status: str, where: str) -> str:
    if entry is None:
        kind = ""
    else:
        kind = "English" if entry.english_only else ("multilingual" if not entry.can_translate else "multi, translate")
    return f"{name:<20} {size:>9}  {kind:<16} {status:<22} {where}"


def _list() -> None:
    root = models_dir()
    present = {m.repo.lower(): m for m in installed(root)}
    print(f"{'NAME':<20} {'SIZE':>9}  {'LANGUAGES':<16} {'STATUS':<22} WHERE")
    for entry in CATALOG:
        model = present.pop(entry.repo.lower(), None)
        if entry.name == EMBEDDED:
            from ..whisper.model import default_model_path

            status, where = "embedded", str(default_model_path())
        elif model is not None:
            status, where = "installed", str(model.folder)
        else:
            status, where = _partial(entry.repo, root), ""
        print(_row(entry, entry.name, f"{entry.size_mb} MB", status, where).rstrip())
    for model in present.values():  # downloaded by repository id
        print(_row(None, model.repo, human_bytes(model.size), "installed", str(model.folder)))


def _partial(repo: str, root: Path) -> str:
    kept = partial_size(repo, root)
    return f"partial ({human_bytes(kept)} kept)" if kept else "not downloaded"


def _download(spec: str, revision: str | None) -> int:
    from tqdm import tqdm

    from .download import download_model  # httpx: only when downloading

    bar: tqdm | None = None

    def progress(p: Progress) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=p.total,
                initial=p.done,
                unit="B",
                unit_scale=True,
                unit_divisor=1000,
                desc=spec,
                file=sys.stderr,
                dynamic_ncols=True,
                disable=None,
            )
        bar.set_postfix_str(p.file, refresh=False)
        bar.update(p.done - bar.n)

    cancel, finished = threading.Event(), threading.Event()
    outcome: list[DownloadResult | BaseException] = []

    def work() -> None:
        try:
            outcome.append(download_model(spec, revision=revision, progress=progress, cancel=cancel))
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome.append(exc)
        finally:
            finished.set()

    threading.Thread(target=work, name="model-download", daemon=True).start()
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:  # Ctrl+C: stop cleanly, keep the .part files
        cancel.set()
        while not finished.wait(0.2):
            pass
    finally:
        if bar is not None:
            bar.close()
    result = outcome[0]
    if isinstance(result, DownloadCancelled):
        print(f"amanuensis: {result}", file=sys.stderr)
        return EXIT_CANCELLED
    if isinstance(result, BaseException):
        raise result
    print(f"amanuensis: {_summary(result)}", file=sys.stderr)
    return 0


def _summary(r: DownloadResult) -> str:
    if r.already_installed:
        return f"{r.name} is already installed in {r.folder}."
    resumed = f", {human_bytes(r.resumed)} resumed from an earlier run" if r.resumed else ""
    return (
        f"installed {r.name} ({human_bytes(r.total)}, commit {r.commit[:10]}) in {r.folder}: "
        f"{human_bytes(r.received)} fetched in {r.seconds:.1f} s{resumed}."
    )
