"""`make package`: every artefact into dist/ — the sdist and the wheel (checked with twine), the PyInstaller
one-folder bundle dist/amanuensis/, and the .deb made from it. Prints how long each step took.

    python packaging/build.py [--dist dist] [--skip python|bundle|deb ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STEPS = ("python", "bundle", "deb")


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT)


def python_artefacts(dist: Path) -> None:
    for old in [*dist.glob("amanuensis_desktop-*.whl"), *dist.glob("amanuensis_desktop-*.tar.gz")]:
        old.unlink()
    # the wheel is built from the sdist, so a file missing from the sdist fails here
    _run(sys.executable, "-m", "build", "--outdir", str(dist), ".")
    _run(sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.glob("amanuensis_desktop-*"))))


def bundle(dist: Path) -> None:
    work = ROOT / "build" / "pyinstaller"
    _run(
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work), str(HERE / "amanuensis.spec"),
    )  # fmt: skip


def deb(dist: Path) -> None:
    for old in dist.glob("amanuensis_*.deb"):
        old.unlink()
    _run(sys.executable, str(HERE / "deb.py"), str(dist / "amanuensis"), str(dist))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Build the wheel, the sdist, the bundle and the .deb into dist/.")
    p.add_argument("--dist", type=Path, default=ROOT / "dist")
    p.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    args = p.parse_args(argv)
    dist = args.dist.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    for name, step in (("python", python_artefacts), ("bundle", bundle), ("deb", deb)):
        if name in args.skip:
            continue
        t0 = time.monotonic()
        step(dist)
        print(f"package: {name} done in {time.monotonic() - t0:.0f} s", flush=True)
    for artefact in sorted(dist.iterdir()):
        size = sum(f.lstat().st_size for f in artefact.rglob("*")) if artefact.is_dir() else artefact.stat().st_size
        print(f"package: {artefact.relative_to(dist.parent) if dist.parent in artefact.parents else artefact}"
              f"  {size / 1e6:.1f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    shutil.which("dpkg-deb") or sys.exit("package: dpkg-deb is missing (Debian's dpkg package).")
    sys.exit(main())
