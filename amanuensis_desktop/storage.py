"""Files the app writes: atomically (a temporary file in the same folder, fsync, then ``os.replace``, so no half
file ever looks complete) and, for the user's own data, privately (folders 0700, files 0600).

Private data: the data folder and everything in it (autosaves, kept audio, logs). Transcripts the user exports
to a folder of their choosing follow their umask.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: str | bytes, private: bool = False) -> Path:
    """Write ``data`` to ``path`` so that ``path`` is either its old content or the whole new one. The
    temporary file is removed when anything fails (a full disk leaves no debris). Raises OSError."""
    path = Path(path)
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data  # lone surrogates: never half a file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        if not private:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def private_dir(path: str | os.PathLike, tighten: bool = False) -> Path:
    """Create ``path`` (and parents) readable by the user alone. An existing folder is tightened only with
    ``tighten`` (the app's own folders; never a folder the user chose, such as their Documents)."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    st = path.stat()
    if tighten and stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, PRIVATE_DIR)
        logger.info("made %s private (it was %o)", path, stat.S_IMODE(st.st_mode))
    return path


def repair_private_tree(root: str | os.PathLike) -> int:
    """Folders 0700 and files 0600 under ``root`` (ours only; symbolic links are not followed). Returns how
    many were repaired. Errors are logged, never raised: privacy repair must not stop the app."""
    root = Path(root)
    fixed = 0
    if not root.is_dir() or root.is_symlink():
        return 0
    uid = os.getuid()
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for name, mode in [(dirpath, PRIVATE_DIR)] + [(os.path.join(dirpath, f), PRIVATE_FILE) for f in filenames]:
            try:
                st = os.lstat(name)
                if stat.S_ISLNK(st.st_mode) or st.st_uid != uid or not stat.S_IMODE(st.st_mode) & 0o077:
                    continue
                os.chmod(name, stat.S_IMODE(st.st_mode) & mode)
                fixed += 1
            except OSError as exc:
                logger.warning("cannot make %s private: %s", name, exc.strerror or exc)
    if fixed:
        logger.warning("%d file(s) or folder(s) in %s were readable by others; now by you alone", fixed, root)
    return fixed
