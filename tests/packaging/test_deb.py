"""The .deb: installed with dpkg -i (root; else unpacked with dpkg-deb -x), validated, run (transcribe; the
window on a private X server, with a screenshot), then removed without a trace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from amanuensis_desktop import __version__
from amanuensis_desktop.whisper.wer import wer

from .conftest import APP_ID, JFK, ROOT, clean_env, one, run

PREFIX = Path("/opt/amanuensis")
SCREENSHOT = ROOT / "build" / "package" / "deb-window.png"
#: Qt's GTK theme plugin is not shipped; these are the only libraries allowed to be unresolved
OPTIONAL = ("libgtk-3.so.0", "libgdk-3.so.0")


def _control(deb: Path, field: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def deb(dist) -> Path:
    return one(dist, "amanuensis_*_amd64.deb")


@pytest.fixture(scope="module")
def installed(deb, tmp_path_factory):
    """The root of the installed files: / after dpkg -i (removed again at the end), else an unpacked copy."""
    if os.geteuid() != 0 or shutil.which("dpkg") is None:
        root = tmp_path_factory.mktemp("deb-root")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        yield root
        return
    r = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr  # Depends missing shows here
    try:
        yield Path("/")
    finally:
        subprocess.run(["dpkg", "-r", "amanuensis"], capture_output=True, text=True)


def _exe(installed: Path) -> str:
    return "/usr/bin/amanuensis" if installed == Path("/") else str(installed / PREFIX.relative_to("/") / "amanuensis")


def test_control_fields(deb):
    assert _control(deb, "Package").strip() == "amanuensis"
    assert _control(deb, "Version").strip() == __version__
    depends = _control(deb, "Depends")
    for needed in ("libportaudio2", "libegl1", "libc6", "libxcb1"):
        assert needed in depends, depends


def test_layout_and_metadata_validate(installed):
    share = installed / "usr/share"
    desktop = share / "applications" / f"{APP_ID}.desktop"
    metainfo = share / "metainfo" / f"{APP_ID}.metainfo.xml"
    assert (share / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").is_file()
    assert (installed / "usr/bin/amanuensis").is_symlink()
    assert os.readlink(installed / "usr/bin/amanuensis") == str(PREFIX / "amanuensis")
    r = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert r.returncode == 0 and "error" not in r.stdout, r.stdout
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_library_the_bundle_needs_resolves(installed):
    internal = installed / PREFIX.relative_to("/") / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal))  # what the PyInstaller bootloader sets
    unresolved = {}
    for path in internal.rglob("*.so*"):
        if path.is_symlink() or not path.is_file():
            continue
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        missing = [line.split()[0] for line in out.splitlines() if "not found" in line]
        missing = [m for m in missing if m not in OPTIONAL]
        if missing:
            unresolved[str(path.relative_to(internal))] = missing
    assert not unresolved, unresolved


def test_installed_app_runs_and_transcribes(installed, tmp_path, shared_audio):
    env = clean_env(tmp_path / "home")
    exe = _exe(installed)
    r = run([exe, "--version"], env, tmp_path)
    assert r.returncode == 0 and r.stdout.startswith(f"amanuensis {__version__} (bundle)"), r.stdout + r.stderr
    r = run([exe, "backends"], env, tmp_path)
    assert r.returncode == 0 and "openvino  available" in r.stdout, r.stdout + r.stderr
    r = run([exe, "transcribe", str(shared_audio / "jfk.wav")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert wer(JFK, r.stdout) < 0.1, r.stdout


def _window_ids(env: dict) -> str:
    return subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True).stdout


def test_installed_window_on_a_private_x_server(installed, tmp_path):
    from devtools.xvfb import XvfbUnavailable, private_tray

    if shutil.which("xwininfo") is None:
        pytest.fail("xwininfo is missing (apt x11-utils; make test-package installs it)")
    try:
        tray = private_tray()
        x_env = tray.__enter__()
    except XvfbUnavailable as exc:
        pytest.fail(str(exc))
    try:
        env = clean_env(tmp_path / "home", DISPLAY=x_env["DISPLAY"], QT_QPA_PLATFORM="xcb")
        proc = subprocess.Popen([_exe(installed)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while '"Amanuensis"' not in _window_ids(env) and time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.5)
            assert '"Amanuensis"' in _window_ids(env), "no window named Amanuensis appeared"
            time.sleep(3)  # the first paint and the engine load
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            _grab_screen(env, SCREENSHOT)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
    finally:
        tray.__exit__(None, None, None)
    _assert_not_blank(SCREENSHOT)


def _grab_screen(env: dict, path: Path) -> None:
    """A screenshot of the whole private screen, taken by another Qt client (the test's own PySide6)."""
    code = (
        "import sys; from PySide6.QtGui import QGuiApplication; app = QGuiApplication(['grab']); "
        "ok = app.primaryScreen().grabWindow(0).save(sys.argv[1]); sys.exit(0 if ok else 1)"
    )
    import sys

    r = subprocess.run([sys.executable, "-c", code, str(path)], env=dict(env, QT_QPA_PLATFORM="xcb"),
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr


def _assert_not_blank(path: Path) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20, f"the screenshot {path} is nearly uniform ({len(colours)} colours)"


def test_removal_leaves_nothing(installed, deb):
    if installed != Path("/"):
        pytest.skip("not root: the package was unpacked, not installed")
    r = subprocess.run(["dpkg", "-r", "amanuensis"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not PREFIX.exists(), sorted(str(p) for p in PREFIX.rglob("*"))[:20]
    assert not Path("/usr/bin/amanuensis").exists() and not Path("/usr/bin/amanuensis").is_symlink()
    assert not Path(f"/usr/share/applications/{APP_ID}.desktop").exists()
    assert not Path(f"/usr/share/metainfo/{APP_ID}.metainfo.xml").exists()
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "amanuensis"], capture_output=True, text=True)
    assert "installed" not in r.stdout.replace("not-installed", ""), r.stdout
