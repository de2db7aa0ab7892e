"""Reviewed words reach the exports: a word corrected in a window final or in a file-result dialog lands in the
segment's text and in its timed word (times kept, probability 1.0); window and file-job exports write word-level
JSON and SRT/VTT cues of the chosen number of words; autosave and recovery keep the words and the correction.

The save dialog (QFileDialog) and the correction prompt (QInputDialog) are modal: they are answered by
replacing ``ask_export_path`` / ``QInputDialog.getText``; everything after them runs for real."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

from amanuensis_desktop.live.events import Final  # noqa: E402
from amanuensis_desktop.whisper.words import Word  # noqa: E402
from tests.ui.support import make_window, parse_srt  # noqa: E402

WORDS = (Word(" Ask", 1.0, 1.3, 0.95), Word(" not", 1.3, 1.6, 0.2), Word(" what.", 1.6, 2.0, 0.9))


def answer(monkeypatch, text: str) -> None:
    """The correction prompt answers ``text`` (OK)."""
    from amanuensis_desktop.ui import word_review

    monkeypatch.setattr(word_review.QInputDialog, "getText", staticmethod(lambda *a, **k: (text, True)))


def double_click_word(owner, view, word: str, nth: int = 0) -> None:
    """What a double-click on the ``nth`` occurrence of ``word`` in ``view`` does (word_edit_requested)."""
    text, at = view.toPlainText(), -1
    for _ in range(nth + 1):
        at = text.index(word, at + 1)
    index = view.span_at(at + 1)
    assert index is not None, f"{word!r} is not a timed word"
    view.word_edit_requested.emit(index, text[at : at + len(word)])


def vtt_cues(text: str) -> list[tuple[str, str]]:
    assert text.startswith("WEBVTT\n\n")
    return [tuple(block.split("\n", 1)) for block in text[8:].strip().split("\n\n")]  # type: ignore[misc]


def assert_words_in_segments(rows: list[dict]) -> None:
    """Every segment's words: inside it, increasing, and spelling its text."""
    last = -1.0
    for row in rows:
        words = row["words"]
        assert "".join(w["word"] for w in words).split() == row["text"].split()
        for w in words:
            assert row["start"] - 1e-3 <= w["start"] <= w["end"] <= row["end"] + 1e-3, (w, row)
            assert w["start"] >= last
            last = w["start"]


def test_window_corrected_word_in_every_export_with_word_cues(qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=True, words_per_cue=2)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    # a second dictation starts 1 s after the first one's end: its words move onto the transcript's time with it
    window._offset = window.transcript.next_start()
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    first, second = window.segments
    assert [(w.word, w.start, w.end) for w in second.words] == [
        (" Ask", 4.0, 4.3),
        (" not", 4.3, 4.6),
        (" what.", 4.6, 5.0),
    ]
    answer(monkeypatch, "knot")
    double_click_word(window, window.view, "not", nth=1)
    assert [s.text for s in window.segments] == ["Ask not what.", "Ask knot what."]
    assert (second.words[1].word, second.words[1].start, second.words[1].end) == (" knot", 4.3, 4.6)
    assert second.words[1].probability == 1.0 and first.words[1].word == " not"
    assert window.view.toPlainText().strip() == "Ask not what. Ask knot what."

    for fmt in ("txt", "srt", "vtt", "json"):
        window._export(window.segments, str(tmp_path / f"out.{fmt}"), fmt)
    assert (tmp_path / "out.txt").read_text().split() == "Ask not what. Ask knot what.".split()
    assert parse_srt((tmp_path / "out.srt").read_text()) == [
        (1.0, 1.6, "Ask not"),
        (1.6, 2.0, "what."),
        (4.0, 4.6, "Ask knot"),
        (4.6, 5.0, "what."),
    ]
    assert vtt_cues((tmp_path / "out.vtt").read_text())[2] == ("00:00:04.000 --> 00:00:04.600", "Ask knot")
    rows = json.loads((tmp_path / "out.json").read_text())["segments"]
    assert rows[1]["words"][1] == {"word": " knot", "start": 4.3, "end": 4.6, "probability": 1.0}
    assert rows[0]["words"][1]["probability"] == 0.2
    assert_words_in_segments(rows)

    # whole segments when the setting says so (the default)
    window.store.set("words_per_cue", 0)
    window._export(window.segments, str(tmp_path / "whole.srt"), "srt")
    whole = parse_srt((tmp_path / "whole.srt").read_text())
    assert whole == [(1.0, 2.0, "Ask not what."), (4.0, 5.0, "Ask knot what.")]


def test_autosave_and_recovery_keep_words_and_corrections(qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=True)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    answer(monkeypatch, "knot")
    double_click_word(window, window.view, "not")
    saved = json.loads(window.autosave.path.read_text())
    assert saved["segments"][0]["text"] == "Ask knot what."
    assert saved["segments"][0]["words"][1] == [" knot", 1.3, 1.6, 1.0]

    # the same file left behind by a process that is gone is offered back in another data folder
    other = tmp_path / "b"
    (other / "data" / "autosave").mkdir(parents=True)
    orphan = {**saved, "pid": 999999999, "pid_started": None, "closed": False}
    (other / "data" / "autosave" / "session-20200101-000000-1.json").write_text(json.dumps(orphan))
    restored = make_window(qtbot, other, show=False, mark_unsure_words=True)
    restored.restore_orphans()
    (seg,) = restored.segments
    assert seg.text == "Ask knot what." and [w.word for w in seg.words] == [" Ask", " knot", " what."]
    assert [(w.start, w.end, w.probability) for w in seg.words][1] == (1.3, 1.6, 1.0)
    answer(monkeypatch, "what?")
    double_click_word(restored, restored.view, "what.")  # restored words stay reviewable
    assert seg.text == "Ask knot what?" and seg.words[2].word == " what?"
    assert json.loads(restored.autosave.path.read_text())["segments"][0]["words"][2][0] == " what?"


def test_a_damaged_word_list_keeps_the_text(tmp_path):
    from amanuensis_desktop.ui.autosave import find_orphans

    rows = [[" a", 0.0, 0.5, 0.9], [" b", "x", 1.0, 0.9]]
    segments = [{"start": 0, "end": 1, "text": "a b", "words": rows}]
    (tmp_path / "session-1.json").write_text(json.dumps({"pid": 999999999, "closed": False, "segments": segments}))
    (orphan,) = find_orphans(tmp_path)
    assert orphan.segments[0].text == "a b" and orphan.segments[0].words == []


def test_file_result_dialog_corrects_the_job_transcript(qtbot, tmp_path, monkeypatch):
    """The dialog's correction goes into the job's segments (a whisper Segment's text has a leading space):
    Copy in the dialog and every format of the job's export carry it, with the word's times."""
    from PySide6.QtWidgets import QApplication

    from amanuensis_desktop.ui import export
    from amanuensis_desktop.ui.file_jobs import FileJob, JobState, ResultDialog

    later = [Word(w.word, w.start + 2, w.end + 2, 0.9) for w in WORDS]
    segs = [
        SimpleNamespace(text=" Ask not what.", start=1.0, end=2.0, words=list(WORDS)),
        SimpleNamespace(text=" Ask not what.", start=3.0, end=4.0, words=later),
    ]
    transcript = SimpleNamespace(segments=segs, duration=4.0, backend="test", language="en", task="transcribe")
    window = make_window(qtbot, tmp_path, show=False, words_per_cue=1)
    job = FileJob(Path("talk.wav"), transcript=transcript, unsure_below=0.5)
    job.state = JobState.DONE
    window.jobs.jobs[job.id] = job
    dialog = ResultDialog(job, window)
    qtbot.addWidget(dialog)
    answer(monkeypatch, "knot")
    double_click_word(dialog, dialog.text, "not", nth=1)
    assert [s.text for s in segs] == [" Ask not what.", " Ask knot what."]
    assert (segs[1].words[1].word, segs[1].words[1].start, segs[1].words[1].probability) == (" knot", 3.3, 1.0)
    dialog._copy()
    assert QApplication.clipboard().text().split() == "Ask not what. Ask knot what.".split()

    for fmt in ("txt", "srt", "vtt", "json"):
        path = tmp_path / f"job.{fmt}"
        monkeypatch.setattr(export, "ask_export_path", lambda *a, p=path, f=fmt: (str(p), f))
        window.export_job_result(job.id)
    assert "knot" in (tmp_path / "job.txt").read_text().split()
    cues = parse_srt((tmp_path / "job.srt").read_text())
    assert len(cues) == 6 and cues[4] == (3.3, 3.6, "knot")
    assert vtt_cues((tmp_path / "job.vtt").read_text())[4] == ("00:00:03.300 --> 00:00:03.600", "knot")
    data = json.loads((tmp_path / "job.json").read_text())
    assert data["language"] == "en" and data["text"] == "Ask not what. Ask knot what."
    assert data["segments"][1]["words"][1] == {"word": " knot", "start": 3.3, "end": 3.6, "probability": 1.0}
    assert_words_in_segments(data["segments"])


def test_real_file_job_words_corrected_and_exported(qtbot, tmp_path, engine, shared_audio, monkeypatch):
    """jfk.wav through a real file job (the default engine, words on): a word corrected in its dialog is in the
    job's JSON words with its times, and the SRT cues hold at most 3 words."""
    from amanuensis_desktop.ui import export
    from amanuensis_desktop.ui.file_jobs import JobState, ResultDialog

    window = make_window(qtbot, tmp_path, engine, show=False, mark_unsure_words=True, words_per_cue=3)
    (job,) = window.add_files([shared_audio / "jfk.wav"])
    qtbot.waitUntil(lambda: job.state in (JobState.DONE, JobState.FAILED), timeout=60000)
    assert job.state is JobState.DONE
    dialog = ResultDialog(job, window)
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "country" in text
    before = next(w for s in job.transcript.segments for w in s.words if "country" in w.word)
    answer(monkeypatch, "nation")
    double_click_word(dialog, dialog.text, text[text.index("country") :].split()[0])
    after = next(w for s in job.transcript.segments for w in s.words if "nation" in w.word)
    assert (after.start, after.end, after.probability) == (before.start, before.end, 1.0)
    for fmt in ("srt", "json"):
        path = tmp_path / f"jfk.{fmt}"
        monkeypatch.setattr(export, "ask_export_path", lambda *a, p=path, f=fmt: (str(p), f))
        window.export_job_result(job.id)
    rows = json.loads((tmp_path / "jfk.json").read_text())["segments"]
    assert_words_in_segments(rows)
    assert any(w["word"].strip().startswith("nation") and w["probability"] == 1.0 for r in rows for w in r["words"])
    cues = parse_srt((tmp_path / "jfk.srt").read_text())
    assert all(len(t.split()) <= 3 for _, _, t in cues) and len(cues) >= 7
    assert " ".join(t for _, _, t in cues).split() == " ".join(r["text"] for r in rows).split()
    assert "nation" in " ".join(t for _, _, t in cues)


def test_restored_text_moves_this_sessions_audio_with_its_words(qtbot, tmp_path):
    """Restored text goes before this session's: a click on this session's words still plays their audio, and a
    click on a restored word (whose audio was never kept) plays nothing rather than this session's audio."""
    import numpy as np

    other = tmp_path / "b"
    (other / "data" / "autosave").mkdir(parents=True)
    orphan = {"pid": 999999999, "closed": False, "segments": [{"start": 1.0, "end": 2.0, "text": "Old words."}]}
    (other / "data" / "autosave" / "session-20200101-000000-1.json").write_text(json.dumps(orphan))
    window = make_window(qtbot, other, show=False, mark_unsure_words=True)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    window.session_audio.add(1.0, np.ones(16000, np.float32))
    window.restore_orphans()
    old, new = window.segments
    assert old.text == "Old words." and new.start > old.end
    assert window.session_audio.slice(old.start, old.end) is None
    clip = window.session_audio.slice(new.words[1].start, new.words[1].end)
    assert clip is not None and clip.size > 0
