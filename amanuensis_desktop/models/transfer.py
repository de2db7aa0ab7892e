"""One file from the Hub into a ``.part`` file: continued with an HTTP Range after any interruption (cancel,
crash, lost network, restart), started over cleanly when the server ignores Range, then checked.

A file is trusted only after its checksum matches: the pinned or LFS sha256, else the git blob id of a small
file (``sha1("blob <size>\\0" + bytes)``), else — when the Hub gave neither — its size.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
import threading
from pathlib import Path

import httpx

from .errors import DownloadCancelled, DownloadError
from .hub import RemoteFile, RetryPolicy, check_status, with_retries
from .progress import Meter, human_bytes

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def part_path(folder: Path, name: str) -> Path:
    return folder / (name + ".part")


def part_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def fetch(
    client: httpx.Client,
    url: str,
    part: Path,
    remote: RemoteFile,
    meter: Meter,
    policy: RetryPolicy,
    cancel: threading.Event | None = None,
    label: str = "",
) -> None:
    """Bring ``part`` to the full content of ``url`` (``remote.size`` bytes), resuming what is there."""
    label = label or f"'{remote.name}'"
    before = [meter.received]

    def progressed() -> bool:
        moved = meter.received > before[0]
        before[0] = meter.received
        return moved

    def attempt() -> None:
        have = part_size(part)
        if remote.size >= 0 and have > remote.size:  # longer than the file can be: not ours
            part.unlink()
            meter.rewind(have)
            have = 0
        if have and have == remote.size:
            return
        headers = {"Range": f"bytes={have}-"} if have else {}
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and have:  # the server cannot continue this part: start over
                logger.warning("%s: range %d- not satisfiable; starting the file again", label, have)
                part.unlink()
                meter.rewind(have)
                raise httpx.RemoteProtocolError("range not satisfiable")
            check_status(response, f"file '{remote.name}'")
            mode = "ab"
            if have and response.status_code == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if match is None or int(match.group(1)) != have:
                    raise DownloadError(f"The Hub answered the wrong part of '{remote.name}'.")
                logger.info("%s: resuming at %d bytes", label, have)
            elif have:  # 200: the server ignored Range; the whole file follows
                logger.warning("%s: the server ignored the range request; starting the file again", label)
                meter.rewind(have)
                mode = "wb"
            _write(response, part, mode, meter, cancel, label)

    with_retries(attempt, label, policy, cancel, progressed)


def _write(
    response: httpx.Response, part: Path, mode: str, meter: Meter, cancel: threading.Event | None, label: str
) -> None:
    try:
        with open(part, mode) as out:
            for chunk in response.iter_bytes():  # as received: a cut connection loses nothing
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"Download of {label} cancelled.")
                out.write(chunk)
                meter.add(len(chunk))
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise DownloadError(
                f"The disk is full while writing {part.name}; free some space and run the download again to resume."
            ) from exc
        raise DownloadError(f"Cannot write {part}: {exc.strerror or exc}.") from exc


def checksum(path: Path, remote: RemoteFile, pinned: str = "") -> tuple[str, str]:
    """(kind, value) that ``path`` was verified with; raises DownloadError (and deletes it) on a mismatch."""
    size = part_size(path)
    if remote.size >= 0 and size != remote.size:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"'{remote.name}' arrived with {human_bytes(size)} instead of {human_bytes(remote.size)}; "
            "it was deleted, run the download again."
        )
    expected = pinned or remote.sha256
    if expected:
        kind, actual = "sha256", _digest(path, hashlib.sha256(), b"")
    elif remote.git_oid:
        kind, expected, actual = "git-sha1", remote.git_oid, _digest(path, hashlib.sha1(), b"blob %d\0" % size)
    else:
        logger.info("%s: the Hub gave no checksum; accepted on its size", remote.name)
        return "size", str(size)
    if actual != expected.lower():
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"'{remote.name}' is corrupt ({kind} {actual[:12]}… instead of {expected[:12]}…); "
            "it was deleted, run the download again."
        )
    return kind, actual


def _digest(path: Path, h: hashlib._Hash, prefix: bytes) -> str:
    h.update(prefix)
    with open(path, "rb") as f:
        while block := f.read(CHUNK * 4):
            h.update(block)
    return h.hexdigest()
