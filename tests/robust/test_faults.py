"""Faults while writing: a full disk, a read-only folder, a file-size limit, a damaged autosave at start, a
process killed while writing a transcript. Every word already recognised is kept, the user gets one sentence,
and no half file ever looks complete. A full disk and a read-only folder are real: a small tmpfs mounted here
(as root; skipped otherwise)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amanuensis_desktop.formats import format_transcript, write_transcript
from amanuensis_desktop.ui.autosave import Seg, Transcript, find_orphans

REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "48k"):
    where.mkdir(parents=True, exist_ok=True)
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
        ).returncode
    ):
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder: Path) -> None:
    """Fill the file system holding ``folder`` to the last byte."""
    with open(folder / "ballast", "wb", buffering=0) as fh:
        for size in (4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * size)


def _words(n: int, start: int = 0) -> list[str]:
    return [f"sentence number {i} with some words in it." for i in range(start, start + n)]


def test_disk_full_while_autosaving_keeps_every_word(tmp_path):
    with tmpfs(tmp_path / "small") as small:
        folder = small / "autosave"
        t = Transcript(folder)
        for i, s in enumerate(_words(5)):
            t.add(s, i, i + 1)
            assert t.save() is None
        saved = json.loads(t.autosave.path.read_text())
        assert len(saved["segments"]) == 5
        _fill(small)
        error = None
        for i, s in enumerate(_words(400, 5), 5):  # the file outgrows the disk
            t.add(s, i, i + 1)
            error = t.save() or error
        assert error and error.startswith(f"Cannot autosave to {folder}") and error.endswith(".")
        assert "\n" not in error
        on_disk = json.loads(t.autosave.path.read_text())  # the last good file is whole, not half written
        assert len(on_disk["segments"]) >= 5
        assert not [p for p in folder.iterdir() if p.name.endswith(".part")]  # no debris left on the full disk
        assert len(t.segments) == 405  # every word is still in the window
        (small / "ballast").unlink()  # space again: the next save has everything
        assert t.save() is None
        assert len(json.loads(t.autosave.path.read_text())["segments"]) == 405


def test_read_only_data_folder_says_one_sentence(tmp_path):
    with tmpfs(tmp_path / "ro") as ro:
        folder = ro / "autosave"
        folder.mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        t = Transcript(folder)
        t.add("hello there.", 0, 1)
        error = t.save()
        assert error and "Read-only file system" in error and error.endswith(".") and "\n" not in error
        assert t.segments[0].text == "hello there."


def test_file_size_limit_while_autosaving(tmp_path):
    """``ulimit -f`` in a child: the write fails with EFBIG (SIGXFSZ ignored), the child says one sentence."""
    code = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from amanuensis_desktop.ui.autosave import Transcript
t = Transcript({str(tmp_path / "as")!r})
t.add("first words.", 0, 1)
assert t.save() is None
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
for i in range(200):
    t.add("more words in sentence %d." % i, i + 1, i + 2)
    err = t.save()
print(err)
print(len(t.segments))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert out.returncode == 0, out.stderr
    err, n = out.stdout.strip().splitlines()
    assert err.startswith("Cannot autosave") and "too large" in err.lower() and n == "201"
    saved = json.loads(next((tmp_path / "as").glob("session-*.json")).read_text())
    assert saved["segments"][0]["text"] == "first words."


def test_damaged_autosave_files_at_start(tmp_path):
    """Cut short, overwritten with garbage, wrong types, not UTF-8, a folder in its place: the start goes
    on, and whatever text survives is offered back."""
    folder = tmp_path / "autosave"
    t = Transcript(folder)
    for i, s in enumerate(_words(6)):
        t.add(s, i, i + 1)
    t.save()
    good = t.autosave.path.read_bytes()
    data = json.loads(good)
    data["pid"] = 999_999_999  # a process that is gone
    good = json.dumps(data).encode()
    (folder / "session-a-cut.json").write_bytes(good[: len(good) * 2 // 3])
    (folder / "session-b-garbage.json").write_bytes(os.urandom(3000))
    (folder / "session-c-types.json").write_text(
        json.dumps(
            {
                "closed": False,
                "pid": "abc",
                "pid_started": "x",
                "segments": [{"start": "nan?", "end": None, "text": "typed text kept."}, 5, None],
            }
        )
    )
    (folder / "session-d-latin1.json").write_bytes(good.replace(b"sentence number 0", b"caf\xe9 \xff number 0"))
    (folder / "session-e-folder.json").mkdir()
    (folder / "session-f-list.json").write_text("[1, 2, 3]")
    t.autosave.path.unlink()
    orphans = {o.path.name: o for o in find_orphans(folder)}
    assert "sentence number 0" in orphans["session-a-cut.json"].text  # the first part of a cut file survives
    assert orphans["session-a-cut.json"].words >= 10
    assert orphans["session-c-types.json"].text == "typed text kept."
    assert "number 5" in orphans["session-d-latin1.json"].text
    assert "session-b-garbage.json" not in orphans and "session-e-folder.json" not in orphans


def _writer(path: Path, n: int) -> str:
    return f"""
import sys
from amanuensis_desktop.formats import write_transcript
from amanuensis_desktop.ui.autosave import Seg
segs = [Seg(i, i + 1, "word " * 50 + str(i)) for i in range({n})]
print("ready", flush=True)
while True:
    for fmt in ("json", "srt"):
        write_transcript(segs, fmt, {str(path)!r} + "." + fmt)
"""


def test_killed_while_writing_a_transcript_leaves_no_half_file(tmp_path):
    out = tmp_path / "talk"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    segs = [Seg(i, i + 1, "word " * 50 + str(i)) for i in range(3000)]
    want = {fmt: format_transcript(segs, fmt) for fmt in ("json", "srt")}
    for round_ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", _writer(out, 3000)], env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + 0.17 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for fmt in ("json", "srt"):
            p = Path(f"{out}.{fmt}")
            if p.exists():
                assert p.read_text() == want[fmt]  # complete or absent, never half
    write_transcript(segs, "json", f"{out}.json")  # the debris of killed writers is hidden, never a result
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")} <= {"talk.json", "talk.srt"}
