"""Resident-memory helpers for the OpenVINO backend (Linux/glibc; no-ops elsewhere).

* :func:`release_mapped`: drop the resident pages of OpenVINO's read-only shared blob mappings once the CPU
  plugin has repacked the weights (always safe: a later read faults the page back in from the file).
* :func:`bound_malloc_cache`: a fixed mmap threshold, so the decoder's large temporaries do not fragment the
  heap. The measurements behind both: docs/decisions/engine.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

MADV_DONTNEED = 4
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20

_libc: ctypes.CDLL | bool | None = None
_bounded = False


def _c():
    global _libc
    if _libc is None:
        if not sys.platform.startswith("linux"):
            _libc = False
        else:
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
                lib.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
                lib.madvise.restype = ctypes.c_int
                _libc = lib
            except (OSError, AttributeError):
                _libc = False
    return _libc


def release_mapped(folder: str | os.PathLike, maps: str = "/proc/self/maps") -> int:
    """Drop this process's resident pages of read-only shared file mappings under ``folder``; returns bytes
    advised (0 where unsupported)."""
    libc = _c()
    if not libc:
        return 0
    prefix = str(Path(folder).resolve()) + os.sep
    total = 0
    try:
        with open(maps) as f:
            lines = f.readlines()
    except OSError:
        return 0
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        perms, path = parts[1], parts[5].strip()
        # read-only and shared only: private or writable mappings may hold data that exists nowhere else
        if not path.startswith(prefix) or perms[1] != "-" or perms[3] != "s":
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        if libc.madvise(start, end - start, MADV_DONTNEED) == 0:
            total += end - start
    return total


def bound_malloc_cache() -> bool:
    """Fix glibc's mmap threshold (once per process; harmless elsewhere: returns False)."""
    global _bounded
    if _bounded:
        return True
    libc = _c()
    if not libc or not hasattr(libc, "mallopt"):
        return False
    try:
        _bounded = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
    return _bounded
