"""Untrusted text and paths: file names with newlines, quotes, RTL marks, HTML and bytes that are not UTF-8
are shown on one line, escaped, and never break the CLI, the window or the transcript formats (SRT, VTT
and JSON are parsed back); settings files full of garbage give the defaults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amanuensis_desktop import settings as S
from amanuensis_desktop.display import shown
from amanuensis_desktop.formats import format_transcript, write_transcript
from amanuensis_desktop.ui.autosave import Seg

REPO = Path(__file__).resolve().parents[2]
HOSTILE_NAMES = [
    "two\nlines.wav",
    "quo\"te's.wav",
    "evil\u202egnp.wav",  # reads as "evilvaw.png"
    "\u05e9\u05dc\u05d5\u05dd \u200fhebrew.wav",
    "<b>bold<b><img src=x>.wav",  # (no "/": that is a folder)
    "esc\x1b[31mred.wav",
    "tab\there.wav",
    "-- --> 00:00:01,000.wav",
    os.fsdecode(b"latin1-caf\xe9-\xff.wav"),  # bytes that are not UTF-8 (surrogate-escaped)
]


def test_shown_is_one_unambiguous_line():
    for name in HOSTILE_NAMES:
        s = shown(name)
        assert "\n" not in s and "\x1b" not in s and "\u202e" not in s and "\u200f" not in s
        s.encode("utf-8")  # no lone surrogates left
    assert shown("evil\u202egnp.wav") == "evil\\u202egnp.wav"
    assert shown(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
    assert shown("Grüße, 你好, שלום.wav") == "Grüße, 你好, שלום.wav"


def _parse_srt(text: str) -> list[tuple[str, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0].isdigit() and " --> " in lines[1] and len(lines) == 3, block
        cues.append((lines[1], lines[2]))
    return cues


def _parse_vtt(text: str) -> list[tuple[str, str]]:
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text[8:].strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0].count("-->") == 1 and len(lines) == 2, block
        cues.append((lines[0], lines[1]))
    return cues


def test_formats_stay_valid_with_hostile_text(tmp_path):
    texts = HOSTILE_NAMES + ["line one\n\nline two", "a --> b", "  ", "\ud800 lone surrogate", "ok."]
    segs = [Seg(i, i + 1, t) for i, t in enumerate(texts)] + [Seg(float("nan"), float("inf"), "odd times")]
    n = sum(1 for t in texts if t.strip()) + 1
    srt, vtt = _parse_srt(format_transcript(segs, "srt")), _parse_vtt(format_transcript(segs, "vtt"))
    assert len(srt) == len(vtt) == n
    data = json.loads(format_transcript(segs, "json").encode("utf-8", "replace"))
    assert len(data["segments"]) == n
    for fmt in ("txt", "srt", "vtt", "json"):
        for name in HOSTILE_NAMES:
            path = write_transcript(segs, fmt, tmp_path / f"{name}.{fmt}")
            path.read_bytes().decode("utf-8")  # valid UTF-8 on disk


def test_cli_with_hostile_file_names(tmp_path, shared_audio):
    folder = tmp_path / "in"
    folder.mkdir()
    files = []
    for name in HOSTILE_NAMES:
        p = folder / name
        shutil.copy(shared_audio / "goforward.wav", p)
        files.append(p)
    broken = folder / "bro\nken\u202e.mp3"
    broken.write_bytes(b"ID3\x03" + bytes(range(256)) * 8)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "amanuensis_desktop",
            "transcribe",
            "--backend",
            "openvino",
            "--format",
            "srt",
            "--output-dir",
            str(out),
            *map(str, files),
            str(broken),
        ],
        capture_output=True,
        timeout=300,
        env=env,
    )
    err = proc.stderr.decode("utf-8")  # the CLI's output is valid UTF-8 whatever the names
    lines = err.strip().split("\n")
    assert "Traceback" not in err and proc.returncode == 1
    assert len(lines) == 1 + len(files) + 1, lines  # "transcribing on", one "wrote" per file, one error
    assert all("\u202e" not in line and "\x1b" not in line for line in lines)
    written = sorted(out.iterdir())
    assert len(written) == len(files)
    for p in written:
        cues = _parse_srt(p.read_text(encoding="utf-8"))
        assert cues and "forward" in " ".join(t for _, t in cues).lower()


def test_settings_files_with_garbage(tmp_path, qapp):
    from PySide6.QtCore import QSettings

    from amanuensis_desktop.ui.settings_store import SettingsStore

    ini = tmp_path / "amanuensis.ini"
    ini.write_bytes(
        b"[General]\nbackend=npu,cpu\nvad_aggressiveness=1e999\ncopy_finals_to_clipboard=@Invalid()\n"
        b'close_to_tray=maybe\nautosave_dir="/tmp/a\\0b"\nmodel=' + b"x" * 10000 + b"\ninput_device=\xff\xfe\n"
        b"\x00garbage line without equals\n[ui]\ngeometry=@ByteArray(\xff)\n"
    )
    store = SettingsStore(QSettings(str(ini), QSettings.Format.IniFormat))
    values = store.all()
    assert values["backend"] == "auto" and values["vad_aggressiveness"] == S.DEFAULTS["vad_aggressiveness"]
    assert values["model"] == "" and isinstance(values["input_device"], str)
    assert isinstance(values["close_to_tray"], bool) and isinstance(values["copy_finals_to_clipboard"], bool)
    assert "\x00" not in str(store.autosave_dir())


@pytest.mark.parametrize(
    "value", [None, "", "abc", "1e999", float("nan"), float("inf"), -(10**30), [1, 2], b"\x00", {"a": 1}, "\x00", 3.7]
)
def test_coerce_never_raises(value):
    for key in S.DEFAULTS:
        got = S.validate({key: value})
        assert type(got[key]) is type(S.DEFAULTS[key])


def test_window_rows_show_hostile_names_as_plain_text(qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from amanuensis_desktop.ui.file_jobs import FileJobQueue, FileJobsPanel, JobRow, JobState

    queue = FileJobQueue(lambda job: None)
    panel = FileJobsPanel(queue, lambda job_id: None)
    qtbot.addWidget(panel)
    jobs = []
    for name in HOSTILE_NAMES:
        p = tmp_path / name
        p.write_bytes(b"not audio at all " * 10)
        jobs.append(queue.add(p))
    qtbot.waitUntil(lambda: not any(j.state.active for j in jobs), timeout=60_000)
    rows = {r.job_id: r for r in panel.findChildren(JobRow)}
    for job in jobs:
        assert job.state is JobState.FAILED
        row = rows[job.id]
        assert row.name.textFormat() == Qt.TextFormat.PlainText and row.status.textFormat() == Qt.TextFormat.PlainText
        assert row.name.text() == shown(job.name) and "\n" not in row.status.text()
        assert row.status.text().endswith(".")
