"""Find and check the pinned NPU kernel toolchain; print ONE sentence and exit 1 when it is absent.

Used by kernels/Makefile (at parse time) and by build_kernel.py. Stdlib only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PINS = {"mlir_aie": "1.4.1", "llvm-aie": "21.0.0.2026080301+c9c5ecb7"}
INSTALL_HINT = "see kernels/README.md, 'Build'"


def _dist_version(name: str) -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def peano_dir() -> Path | None:
    env = os.environ.get("PEANO_INSTALL_DIR")
    if env and (Path(env) / "bin" / "clang++").exists():
        return Path(env)
    try:
        from importlib.metadata import distribution

        dist = distribution("llvm-aie")
        cand = Path(dist.locate_file("llvm-aie"))
        if (cand / "bin" / "clang++").exists():
            return cand
    except Exception:
        pass
    return None


def problems() -> list[str]:
    found = []
    try:
        import aie.iron  # noqa: F401
    except Exception:
        found.append("the mlir-aie IRON Python package (aie.iron) is not importable")
    if shutil.which("aiecc.py") is None and shutil.which("aiecc") is None:
        found.append("aiecc.py is not on PATH")
    if peano_dir() is None:
        found.append("Peano (llvm-aie clang++) was not found (set PEANO_INSTALL_DIR)")
    if not found:
        have = _dist_version("mlir_aie") or _dist_version("mlir-aie")
        if have and have.split("+")[0] != PINS["mlir_aie"]:
            found.append(f"mlir_aie {have} is installed but the designs are pinned to {PINS['mlir_aie']}")
    return found


def aiecc() -> str:
    return shutil.which("aiecc.py") or shutil.which("aiecc") or "aiecc.py"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = problems()
    if bad:
        end = "" if "--make" in argv else "."  # make's $(error) adds its own period
        print(f"The NPU kernel toolchain is absent on this machine ({'; '.join(bad)}); {INSTALL_HINT}{end}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
