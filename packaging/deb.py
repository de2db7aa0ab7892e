"""Make the Debian package from the PyInstaller bundle (dist/amanuensis/) with dpkg-deb.

Layout: the bundle in /opt/amanuensis, /usr/bin/amanuensis a symlink to its executable, the desktop entry, the
icon and the AppStream metadata under /usr/share. Depends: the system packages that own the libraries the
bundle's ELF files need and do not carry themselves (found with readelf, ldconfig and dpkg -S), plus what is
loaded at run time by name (PortAudio through ctypes, a font for Qt).

    python packaging/deb.py dist/amanuensis dist/
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from amanuensis_desktop import __version__  # noqa: E402
from amanuensis_desktop.settings import APP_ID  # noqa: E402

PACKAGE = "amanuensis"
PREFIX = Path("/opt/amanuensis")
#: loaded by name at run time, so no ELF file names them: PortAudio (sounddevice, through ctypes) and a font
RUNTIME_DEPENDS = ("libportaudio2", "fonts-dejavu-core | fonts-freefont-ttf | fonts-liberation2")
#: needed only by Qt's GTK platform theme, which is left out of the bundle (packaging/amanuensis.spec)
OPTIONAL_SONAMES = {"libgtk-3.so.0", "libgdk-3.so.0"}


def elf_files(folder: Path) -> list[Path]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def needed(path: Path) -> list[str]:
    text = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text)


def system_libraries() -> dict[str, str]:
    """soname -> path of the x86-64 libraries the dynamic linker knows (``ldconfig -p``)."""
    text = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    libs: dict[str, str] = {}
    for m in re.finditer(r"^\s*(\S+) \(([^)]*)\) => (\S+)$", text, re.M):
        if "x86-64" in m.group(2):
            libs.setdefault(m.group(1), m.group(3))
    return libs


def owner(path: str) -> str:
    """The Debian package that owns ``path`` (tried as given and resolved: /lib is /usr/lib on merged-/usr)."""
    for candidate in dict.fromkeys((path, os.path.realpath(path), path.replace("/usr/lib/", "/lib/", 1))):
        r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].strip()
    raise SystemExit(f"no Debian package owns {path}")


def external_sonames(bundle: Path) -> set[str]:
    """The sonames the bundle's ELF files need that the bundle does not carry."""
    carried = {p.name for p in bundle.rglob("*")}
    wanted = {soname for elf in elf_files(bundle) for soname in needed(elf)}
    return {s for s in wanted if s not in carried and s not in OPTIONAL_SONAMES}


def depends(bundle: Path) -> list[str]:
    known = system_libraries()
    missing = sorted(s for s in external_sonames(bundle) if s not in known)
    if missing:
        raise SystemExit(f"the system has no library for {', '.join(missing)}")
    packages = {owner(known[s]) for s in external_sonames(bundle)}
    # the bundle's binaries were linked against this machine's glibc at the newest (PyInstaller's bootloader,
    # Python): that version or newer, so dpkg refuses an older system up front instead of a loader error later
    glibc = platform.libc_ver()[1]
    return sorted(f"libc6 (>= {glibc})" if p == "libc6" and glibc else p for p in packages) + list(RUNTIME_DEPENDS)


def installed_size_kib(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*")) // 1024 + 1


def control(bundle_root: Path, deps: list[str]) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {__version__}\n"
        "Architecture: amd64\n"
        "Maintainer: The Amanuensis developers <amanuensis@users.noreply.github.com>\n"
        f"Installed-Size: {installed_size_kib(bundle_root)}\n"
        f"Depends: {', '.join(deps)}\n"
        "Section: sound\n"
        "Priority: optional\n"
        "Description: offline dictation and transcription with Whisper\n"
        " Amanuensis turns speech into text on this computer: live dictation from the\n"
        " microphone, and transcripts (text, SRT, WebVTT, JSON) of audio and video files.\n"
        " The Whisper tiny.en model is built in; it runs on an AMD Ryzen AI NPU, OpenVINO\n"
        " or the CPU. Everything it needs but system libraries is in /opt/amanuensis.\n"
    )


def build(bundle: Path, out_dir: Path) -> Path:
    if not (bundle / "amanuensis").is_file():
        raise SystemExit(f"{bundle} is not a bundle (no amanuensis executable); build it with 'make package'")
    deps = depends(bundle)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="amanuensis-deb-") as tmp:
        root = Path(tmp) / "root"
        opt = root / PREFIX.relative_to("/")
        shutil.copytree(bundle, opt, symlinks=True)
        (root / "usr/bin").mkdir(parents=True)
        (root / "usr/bin/amanuensis").symlink_to(PREFIX / "amanuensis")
        share = root / "usr/share"
        files = {
            HERE / f"{APP_ID}.desktop": share / "applications" / f"{APP_ID}.desktop",
            ROOT / "resources" / f"{APP_ID}.svg": share / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg",
            HERE / f"{APP_ID}.metainfo.xml": share / "metainfo" / f"{APP_ID}.metainfo.xml",
            HERE / "copyright": share / "doc" / PACKAGE / "copyright",
        }
        for src, dst in files.items():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        for path in root.rglob("*"):  # root:root ownership comes from --root-owner-group; modes here
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN/control").write_text(control(root, deps))
        deb = out_dir / f"{PACKAGE}_{__version__}_amd64.deb"
        # zstd at a low level: xz would take minutes on a 550 MB tree; dpkg reads zstd since Debian 12/Ubuntu 21.10
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zzstd", "-z3", "--build", str(root), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Make the .deb from the PyInstaller bundle.")
    p.add_argument("bundle", type=Path)
    p.add_argument("out_dir", type=Path)
    args = p.parse_args(argv)
    print(build(args.bundle, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
