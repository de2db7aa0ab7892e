"""The wheel and the sdist: contents, twine check, and a fresh virtual environment that installs the wheel and
runs it outside the source tree (transcribe; the window offscreen)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path

import pytest

from amanuensis_desktop import __version__
from amanuensis_desktop.whisper.wer import wer

from .conftest import APP_ID, JFK, clean_env, one, run

DATA = f"amanuensis_desktop-{__version__}.data/data/share"


def test_wheel_carries_icons_desktop_entry_and_metainfo_and_no_test_rigs(dist):
    names = zipfile.ZipFile(one(dist, "amanuensis_desktop-*.whl")).namelist()
    for icon in ("app", "tray-idle", "tray-listening", "tray-transcribing"):
        assert f"amanuensis_desktop/ui/icons/{icon}.svg" in names
    assert f"{DATA}/applications/{APP_ID}.desktop" in names
    assert f"{DATA}/icons/hicolor/scalable/apps/{APP_ID}.svg" in names
    assert f"{DATA}/metainfo/{APP_ID}.metainfo.xml" in names
    assert "amanuensis_desktop/cli.py" in names and "amanuensis_desktop/ui/first_run.py" in names
    assert [n for n in names if n.startswith("amanuensis_desktop/audio/data/") and n.endswith(".onnx")]  # the VAD
    top = {n.split("/")[0] for n in names}
    assert top == {"amanuensis_desktop", f"amanuensis_desktop-{__version__}.data",
                   f"amanuensis_desktop-{__version__}.dist-info"}, top  # fmt: skip
    assert not [n for n in names if "/tests/" in n or "devtools" in n or "__pycache__" in n or "kernels/" in n]


def test_sdist_has_the_packaging_recipes_and_no_tests(dist):
    names = tarfile.open(one(dist, "amanuensis_desktop-*.tar.gz")).getnames()
    root = f"amanuensis_desktop-{__version__}"
    for needed in ("pyproject.toml", "README.md", "requirements.lock", f"packaging/{APP_ID}.desktop",
                   f"packaging/{APP_ID}.metainfo.xml", f"resources/{APP_ID}.svg", "packaging/amanuensis.spec",
                   "amanuensis_desktop/cli.py"):  # fmt: skip
        assert f"{root}/{needed}" in names, needed
    assert not [n for n in names if n.startswith((f"{root}/tests", f"{root}/devtools", f"{root}/kernels"))]


def test_twine_check_passes(dist):
    files = [str(one(dist, "amanuensis_desktop-*.whl")), str(one(dist, "amanuensis_desktop-*.tar.gz"))]
    r = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("PASSED") == 2


@pytest.fixture(scope="module")
def fresh_venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment with only the wheel (and its dependencies from the package index) installed."""
    where = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=True).create(where / "venv")
    py = where / "venv" / "bin" / "python"
    env = clean_env(where / "home")
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))  # reuse downloads
    wheel = one(dist, "amanuensis_desktop-*.whl")
    r = run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], env, where, 900)
    assert r.returncode == 0, r.stderr[-3000:]
    return where / "venv"


def test_fresh_venv_runs_the_installed_package_not_the_source_tree(fresh_venv, tmp_path):
    env = clean_env(tmp_path / "home")
    r = run([str(fresh_venv / "bin/python"), "-c", "import amanuensis_desktop; print(amanuensis_desktop.__file__)"],
            env, tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).is_relative_to(fresh_venv), r.stdout
    assert (fresh_venv / "share/applications" / f"{APP_ID}.desktop").is_file()
    assert (fresh_venv / "share/metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    r = run([str(fresh_venv / "bin/amanuensis"), "--version"], env, tmp_path)
    assert r.returncode == 0 and r.stdout.startswith(f"amanuensis {__version__} (Python package)"), r.stderr
    assert "unavailable" not in r.stdout, r.stdout


def test_fresh_venv_transcribes(fresh_venv, tmp_path, shared_audio):
    env = clean_env(tmp_path / "home")
    r = run([str(fresh_venv / "bin/amanuensis"), "transcribe", str(shared_audio / "jfk.wav")], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert wer(JFK, r.stdout) < 0.1, r.stdout


def test_fresh_venv_starts_the_window_offscreen(fresh_venv, tmp_path):
    env = clean_env(tmp_path / "home", QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([str(fresh_venv / "bin/amanuensis")], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        time.sleep(8)  # the window is up and the engine loads in the background
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)  # quits like the Quit menu
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "missing" not in err, err
