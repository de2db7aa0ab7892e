"""Private by default: the data folder and everything the app keeps in it are readable by the user alone
(0700 folders, 0600 files), checked and repaired at start; autosaves are written 0600 whatever the umask; no
transcript text in the logs unless -vv; copied text can be marked secret for clipboard managers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from amanuensis_desktop import settings as S
from amanuensis_desktop.ui.autosave import Transcript

REPO = Path(__file__).resolve().parents[2]


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("AMANUENSIS_DATA_DIR", str(folder))
    return folder


def test_data_folder_is_created_private_and_repaired_at_start(data, tmp_path):
    old = os.umask(0o022)
    try:
        (data / "autosave" / "nested").mkdir(parents=True)
        (data / "autosave" / "session-1.json").write_text("{}")
        (data / "audio.wav").write_bytes(b"x")
        os.chmod(data / "audio.wav", 0o644)
        outside = tmp_path / "outside.txt"
        outside.write_text("not ours")
        os.chmod(outside, 0o644)
        (data / "link").symlink_to(outside)
        assert _mode(data) == 0o755 and _mode(data / "autosave" / "session-1.json") == 0o644
        S.ensure_private_data_dir()
    finally:
        os.umask(old)
    for p in (data, data / "autosave", data / "autosave" / "nested"):
        assert _mode(p) == 0o700, p
    for p in (data / "autosave" / "session-1.json", data / "audio.wav"):
        assert _mode(p) == 0o600, p
    assert _mode(outside) == 0o644  # a symbolic link is not followed


def test_new_data_folder_and_autosaves_are_private_whatever_the_umask(data, tmp_path):
    old = os.umask(0o000)
    try:
        t = Transcript(S.autosave_dir())
        t.add("a private sentence.", 0, 1)
        assert t.save() is None
        chosen = tmp_path / "Documents"
        chosen.mkdir(mode=0o755)
        os.chmod(chosen, 0o755)
        u = Transcript(chosen)  # a folder the user chose keeps its mode; the file is still theirs alone
        u.add("another.", 0, 1)
        assert u.save() is None
    finally:
        os.umask(old)
    assert _mode(S.autosave_dir()) == 0o700 and _mode(t.autosave.path) == 0o600
    assert _mode(chosen) == 0o755 and _mode(u.autosave.path) == 0o600


def test_no_transcript_text_in_the_logs_unless_very_verbose(shared_audio, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), AMANUENSIS_DATA_DIR=str(tmp_path / "data"))
    cmd = [
        sys.executable,
        "-m",
        "amanuensis_desktop",
        "dictate",
        "-v",
        "--backend",
        "openvino",
        "--no-partials",
        "--input",
        str(shared_audio / "jfk.wav"),
        "--speed",
        "inf",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "country" in proc.stdout.lower()  # the text is the output...
    logs = [line for line in proc.stderr.splitlines() if line.startswith("amanuensis: ")]
    for word in ("americans", "country", "fellow"):  # ...and never a log line
        assert not [line for line in logs if word in line.lower()], logs


def test_copied_text_can_be_marked_secret(qapp):
    from PySide6.QtWidgets import QApplication

    from amanuensis_desktop.ui.clipboard import SECRET_HINT, copy_text
    from amanuensis_desktop.ui.settings_store import Key

    assert S.DEFAULTS[str(Key.CLIPBOARD_SECRET)] is False  # opt-in
    copy_text("my secret words", secret=True)
    mime = QApplication.clipboard().mimeData()
    assert mime.text() == "my secret words" and bytes(mime.data(SECRET_HINT)) == b"secret"
    copy_text("plain words")
    mime = QApplication.clipboard().mimeData()
    assert mime.text() == "plain words" and not mime.hasFormat(SECRET_HINT)
