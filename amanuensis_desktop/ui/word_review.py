"""Reviewing words in the window: words of live finals, click to listen, correct in place, the unsure mark.

A mixin of :class:`~.main_window.MainWindow` (which provides ``view``, ``store``, ``session_audio``, ``_shown``,
``_final_words``, ``_final_audio``, ``_autosave_now`` and ``statusBar``), and the correction shared with the
file-result dialog (:func:`ask_correction`, :func:`correct_segment`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QInputDialog

from .playback import SessionAudio, play
from .settings_store import Key

logger = logging.getLogger(__name__)


def ask_correction(parent: Any, view: Any, index: int, word: str) -> None:
    """Double-click on timed word ``index`` of ``view`` (a TranscriptView): ask for its correction and put it
    in place (the view then sends ``word_corrected``)."""
    new, ok = QInputDialog.getText(parent, "Correct the word", "Word:", text=word)
    new = " ".join(new.split())
    if ok and new and new != word:
        view.replace_word(index, new)


def correct_segment(seg: Any, offset: int, length: int, text: str) -> bool:
    """Put a correction from a TranscriptView (``length`` characters at ``offset`` of the shown, stripped text
    become ``text``) into the segment it shows: its text and, where it has timed words, the word there — which
    keeps its times, gets probability 1.0 (the user vouched for it). False when the segment does not match."""
    if seg is None:
        return False
    lead = len(seg.text) - len(seg.text.lstrip())
    at = lead + offset
    if offset < 0 or length <= 0 or at + length > len(seg.text):
        return False
    words = list(getattr(seg, "words", None) or ())
    if words:
        i = _word_at(words, offset, length)
        if i is None:
            logger.warning("a correction does not match the timed words of its segment; not applied")
            return False
        space = len(words[i].word) - len(words[i].word.lstrip())
        words[i] = replace(words[i], word=words[i].word[:space] + text, probability=1.0)
        seg.words = words
    seg.text = seg.text[:at] + text + seg.text[at + length :]
    return True


def _word_at(words: list, offset: int, length: int) -> int | None:
    """The index of the word whose text (without its leading space) is ``length`` characters at ``offset`` of the
    words' joined, stripped text."""
    pos = -(len(words[0].word) - len(words[0].word.lstrip()))
    for i, w in enumerate(words):
        bare = w.word.lstrip()
        at = pos + len(w.word) - len(bare)
        if at == offset:
            return i if len(bare) == length else None
        if at > offset:
            return None
        pos += len(w.word)
    return None


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
        """Double-click on a timed word: correct it in place (what is copied, typed and exported then)."""
        ask_correction(self, self.view, index, word)

    def _word_corrected(self, number: int, offset: int, length: int, text: str) -> None:
        if correct_segment(self._shown.get(number), offset, length, text):
            self._autosave_now()

    def _show_segments(self, segments: list) -> None:
        """Show ``segments`` again (restored text); their timed words stay reviewable."""
        for seg in segments:
            self._shown_as(self.view.add_final(seg.text, seg.start, seg.end, seg.words, self._unsure_below()), seg)

    def _shown_as(self, number: int, seg: Any) -> None:
        """The view shows ``seg`` as final ``number``: its words' corrections go into it."""
        if seg is not None and seg.words:
            self._shown[number] = seg

    def _unsure_below(self) -> float | None:
        """The probability under which a word is marked unsure; None when marking is off."""
        if not self.store.get(Key.MARK_UNSURE_WORDS):
            return None
        return int(self.store.get(Key.UNSURE_WORD_PERCENT)) / 100.0
