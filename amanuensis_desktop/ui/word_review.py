"""Reviewing words in the window: words of live finals, click to listen, correct in place, the unsure mark.

A mixin of :class:`~.main_window.MainWindow` (which provides ``view``, ``store``, ``session_audio``, ``_shown``,
``_final_words``, ``_final_audio``, ``_autosave_now`` and ``statusBar``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QInputDialog

from .playback import SessionAudio, play
from .settings_store import Key


class WordReview:
    view: Any
    store: Any
    session_audio: Any
    _shown: dict[int, Any]
    _final_words: tuple
    _final_audio: Any

    if TYPE_CHECKING:  # provided by MainWindow / QMainWindow (declared only for the type checker)

        def statusBar(self) -> Any: ...

        def _autosave_now(self) -> None: ...

    def _init_word_review(self) -> None:
        self._final_words = ()  # the words of the final about to be shown (word timestamps on)
        self._final_audio = None  # and its audio
        self.session_audio = SessionAudio()  # finals' audio for click-to-listen, bounded
        self._shown = {}  # the view's final number → the transcript segment it shows

    def _connect_word_review(self) -> None:
        self.view.word_clicked.connect(self._play_word)
        self.view.word_edit_requested.connect(self._edit_word)
        self.view.word_corrected.connect(self._word_corrected)

    def _pending_words(self, start: float, offset: float) -> tuple:
        """The words of the final about to be shown, on the transcript's time (its audio kept from ``start``)."""
        words, self._final_words = self._final_words, ()
        audio, self._final_audio = self._final_audio, None
        if audio is not None:
            self.session_audio.add(start, audio)
        return tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in words)

    def _take_final_words(self, words_audio: tuple) -> None:
        self._final_words, self._final_audio = tuple(words_audio[0] or ()), words_audio[1]

    def _play_word(self, start: float, end: float) -> None:
        """Click to listen: the word's audio with a little context, when this session still holds it."""
        clip = self.session_audio.slice(start, end)
        if clip is None:
            self.statusBar().showMessage("The audio of this word is no longer kept.", 4000)
        elif error := play(clip):
            self.statusBar().showMessage(error, 6000)

    def _edit_word(self, index: int, word: str) -> None:
        """Double-click on a timed word: correct it in place (what is copied and exported then)."""
        new, ok = QInputDialog.getText(self, "Correct the word", "Word:", text=word)  # type: ignore[arg-type]
        if ok and new.strip() and new.strip() != word:
            self.view.replace_word(index, new.strip())

    def _word_corrected(self, number: int, offset: int, length: int, text: str) -> None:
        seg = self._shown.get(number)
        if seg is not None and seg.text[offset : offset + length]:
            seg.text = seg.text[:offset] + text + seg.text[offset + length :]
            self._autosave_now()

    def _unsure_below(self) -> float | None:
        """The probability under which a word is marked unsure; None when marking is off."""
        if not self.store.get(Key.MARK_UNSURE_WORDS):
            return None
        return int(self.store.get(Key.UNSURE_WORD_PERCENT)) / 100.0
