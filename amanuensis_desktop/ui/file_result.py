"""A finished file job's transcript in a dialog of its own: selectable, click a word to hear it, double-click
to correct it (in the job's transcript: Copy and the job's export carry it), Copy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from ..display import shown
from .playback import play, word_slice
from .threads import sentence
from .widgets import TranscriptView
from .word_review import ask_correction, correct_segment

if TYPE_CHECKING:
    from .file_jobs import FileJob


class ResultDialog(QDialog):
    """The transcript of one file, selectable, with Copy."""

    def __init__(self, job: FileJob, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"{shown(job.name)} — transcript")
        self.resize(620, 420)
        lay = QVBoxLayout(self)
        info = QLabel(
            f"{shown(job.path)}\n{job.transcript.duration:.1f} s of audio, transcribed by "
            f"{job.transcript.backend or 'unknown backend'} in {job.elapsed:.1f} s."
        )
        info.setStyleSheet("color: #555555;")
        lay.addWidget(info)
        self.text = TranscriptView()
        self.text.setPlaceholderText("")
        self._shown: dict[int, Any] = {}  # the view's final number → the job's segment it shows
        for seg in job.transcript.segments:
            words = getattr(seg, "words", ())
            self._shown[self.text.add_final(seg.text, seg.start, seg.end, words, job.unsure_below)] = seg
        self.text.word_clicked.connect(self._play_word)
        self.text.word_edit_requested.connect(lambda index, word: ask_correction(self, self.text, index, word))
        self.text.word_corrected.connect(self._word_corrected)
        self._audio: Any = None
        self._path = job.path
        lay.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _play_word(self, start: float, end: float) -> None:
        """Click to listen: the word's audio (the file is read again on the first click)."""
        from ..audio.files import load_audio
        from ..errors import UserError

        try:
            if self._audio is None:
                self._audio = load_audio(self._path)
            error = play(word_slice(self._audio, start, end))
        except (UserError, OSError) as exc:
            error = sentence(exc)
        if error:
            self.setToolTip(error)

    def _word_corrected(self, number: int, offset: int, length: int, text: str) -> None:
        correct_segment(self._shown.get(number), offset, length, text)

    def _copy(self) -> None:
        from .clipboard import copy_text
        from .settings_store import Key, SettingsStore

        copy_text(self.text.toPlainText(), secret=bool(SettingsStore().get(Key.CLIPBOARD_SECRET)))
