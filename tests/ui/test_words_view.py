"""Unsure words (probability under the setting) get a dotted underline in finals and in file results; the text
stays exactly the final's text."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtGui import QTextCharFormat, QTextCursor  # noqa: E402

from amanuensis_desktop.live.events import Final  # noqa: E402
from amanuensis_desktop.live.worker import session_words  # noqa: E402
from amanuensis_desktop.whisper.words import Word  # noqa: E402
from tests.ui.support import make_window  # noqa: E402

WORDS = (Word(" Ask", 1.0, 1.3, 0.95), Word(" not", 1.3, 1.6, 0.2), Word(" what.", 1.6, 2.0, 0.9))
DOT = QTextCharFormat.UnderlineStyle.DotLine


def underlined(view) -> list[str]:
    """The words of the view drawn with a dotted underline."""
    doc = view.document()
    out = []
    for word in view.toPlainText().split():
        pos = view.toPlainText().index(word)
        cur = QTextCursor(doc)
        cur.setPosition(pos + 1)
        if cur.charFormat().underlineStyle() == DOT:
            out.append(word)
    return out


def test_live_final_marks_unsure_words(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=True)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    assert window.view.toPlainText().strip() == "Ask not what."
    assert underlined(window.view) == ["not"]
    assert window.segments[-1].text == "Ask not what."


def test_marking_off_and_threshold_setting(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=False)
    assert window._live_options().word_timestamps is False
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    assert underlined(window.view) == []
    strict = make_window(qtbot, tmp_path / "b", show=False, mark_unsure_words=True, unsure_word_percent=92)
    assert strict._live_options().word_timestamps is True
    strict.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    assert underlined(strict.view) == ["not", "what."]


def test_file_result_marks_unsure_words(qtbot):
    from amanuensis_desktop.ui.file_jobs import FileJob, ResultDialog

    seg = SimpleNamespace(text="Ask not what.", start=1.0, end=2.0, words=list(WORDS))
    transcript = SimpleNamespace(segments=[seg], text=seg.text, duration=2.0, backend="test")
    job = FileJob(Path("talk.wav"), transcript=transcript, unsure_below=0.5)
    dialog = ResultDialog(job)
    qtbot.addWidget(dialog)
    assert dialog.text.toPlainText().strip() == "Ask not what."
    assert underlined(dialog.text) == ["not"]


def test_session_words_move_to_session_time():
    result = SimpleNamespace(segments=[SimpleNamespace(words=list(WORDS))])
    moved = session_words(result, 10.0)
    assert [(w.start, w.end) for w in moved] == [(11.0, 11.3), (11.3, 11.6), (11.6, 12.0)]
    assert session_words(SimpleNamespace(text="x"), 1.0) == ()


# -- click to listen (the sound card cannot exist here: playback itself is replaced by a recorder) -----------
def test_click_on_a_word_plays_its_audio_with_context(qtbot, tmp_path, monkeypatch):
    import numpy as np
    from PySide6.QtCore import QPoint, Qt

    from amanuensis_desktop.ui import word_review

    played = []
    monkeypatch.setattr(word_review, "play", lambda audio: played.append(audio.size) or None)
    window = make_window(qtbot, tmp_path, mark_unsure_words=True)
    audio = np.ones(3 * 16000, np.float32)  # the segment's audio, from its start (1.0 s) to 4.0 s
    window.dictation.route(Final(0, "Ask not what.", 1.0, 4.0, 0.1, WORDS, audio))
    view = window.view
    pos = view.toPlainText().index("not") + 1
    assert view.word_at(pos) == (1.3, 1.6)
    cur = QTextCursor(view.document())
    cur.setPosition(pos)
    point = view.cursorRect(cur).center()
    with qtbot.waitSignal(view.word_clicked, timeout=2000) as hit:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    assert hit.args == [1.3, 1.6]
    assert played and abs(played[-1] - int(0.7 * 16000)) <= 2  # 0.3 s word + 0.2 s context each side


def test_session_audio_is_bounded():
    import numpy as np

    from amanuensis_desktop.ui.playback import SessionAudio

    kept = SessionAudio(max_seconds=5.0)
    for i in range(10):
        kept.add(i * 2.0, np.full(32000, i, np.float32))
    assert kept.seconds <= 5.0
    assert kept.slice(1.0, 1.5) is None  # dropped
    clip = kept.slice(18.5, 19.0)
    assert clip is not None and clip.size == int(0.9 * 16000) and clip[0] == 9


def test_play_without_a_sound_card_is_one_sentence():
    import numpy as np

    from amanuensis_desktop.ui.playback import play

    error = play(np.zeros(1600, np.float32))  # real PortAudio: no output device on this machine
    assert error is None or (error.endswith(".") and "\n" not in error)


def test_correct_a_word_in_place_is_what_is_copied_and_exported(qtbot, tmp_path, monkeypatch):
    from amanuensis_desktop.ui import word_review

    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=True)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    window.dictation.route(Final(1, "Ask not what.", 3.0, 4.0, 0.1, WORDS))
    view = window.view
    index = view.span_at(view.toPlainText().index("not") + 1)
    monkeypatch.setattr(word_review.QInputDialog, "getText", staticmethod(lambda *a, **k: ("knot", True)))
    window._edit_word(index, "not")
    assert view.toPlainText().strip() == "Ask knot what. Ask not what."
    assert window.transcript_text() == "Ask knot what. Ask not what."
    assert [s.text for s in window.segments] == ["Ask knot what.", "Ask not what."]

    def dotted(at: int) -> bool:
        cur = QTextCursor(view.document())
        cur.setPosition(at + 1)
        return cur.charFormat().underlineStyle() == DOT

    text = view.toPlainText()  # the corrected word is no longer marked unsure; the other final's still is
    assert not dotted(text.index("knot")) and dotted(text.rindex(" not ") + 1)
    later = view.span_at(view.toPlainText().rindex("what.") + 1)  # spans after the correction moved along
    window._edit_word(later, "what.")  # unchanged text: nothing happens
    monkeypatch.setattr(word_review.QInputDialog, "getText", staticmethod(lambda *a, **k: ("that?", True)))
    window._edit_word(later, "what.")
    assert [s.text for s in window.segments] == ["Ask knot what.", "Ask not that?"]


def test_a_corrected_word_survives_copy_and_export_with_its_timings(qtbot, tmp_path, monkeypatch):
    """The real clipboard (Copy all) and real files in every export format carry the correction; the exports
    keep each final's times."""
    import json

    from PySide6.QtWidgets import QApplication

    from amanuensis_desktop.ui import word_review
    from tests.ui.support import parse_srt

    window = make_window(qtbot, tmp_path, show=False, mark_unsure_words=True)
    window.dictation.route(Final(0, "Ask not what.", 1.0, 2.0, 0.1, WORDS))
    window.dictation.route(Final(1, "Ask not what.", 3.0, 4.0, 0.1, WORDS))
    monkeypatch.setattr(word_review.QInputDialog, "getText", staticmethod(lambda *a, **k: ("knot", True)))
    window._edit_word(window.view.span_at(window.view.toPlainText().index("not") + 1), "not")
    window.copy_all()
    assert QApplication.clipboard().text() == "Ask knot what. Ask not what."
    for fmt in ("txt", "srt", "vtt", "json"):
        window._export(window.segments, str(tmp_path / f"out.{fmt}"), fmt)
    assert (tmp_path / "out.txt").read_text().split() == "Ask knot what. Ask not what.".split()
    want = [(1.0, 2.0, "Ask knot what."), (3.0, 4.0, "Ask not what.")]
    assert parse_srt((tmp_path / "out.srt").read_text()) == want
    vtt = (tmp_path / "out.vtt").read_text()
    assert "00:00:01.000 --> 00:00:02.000\nAsk knot what." in vtt and "Ask not what." in vtt
    rows = json.loads((tmp_path / "out.json").read_text())
    rows = rows.get("segments", rows) if isinstance(rows, dict) else rows
    assert [(r["start"], r["end"], r["text"]) for r in rows] == [
        (1.0, 2.0, "Ask knot what."),
        (3.0, 4.0, "Ask not what."),
    ]
