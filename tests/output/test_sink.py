"""The output sink with a recording typer and clipboard (pure logic; the real routes are tested on Xvfb)."""

from __future__ import annotations

import io

import pytest

from amanuensis_desktop.output.clipboard import Paster
from amanuensis_desktop.output.errors import OutputError
from amanuensis_desktop.output.sink import OutputMode, OutputOptions, OutputSink


class Keys:
    """Stands in for the focused app: what the typer sends, applied to a text."""

    name = "test"

    def __init__(self, terminal: bool = False) -> None:
        self.text, self.terminal, self.clipboard, self.pastes = "", terminal, None, []

    def type_text(self, text):
        self.text += text

    def backspace(self, count):
        self.text = self.text[:-count]

    def paste(self, terminal):
        self.pastes.append(terminal)
        self.text += self.clipboard.value

    def focused_is_terminal(self):
        return self.terminal

    def close(self):
        pass


class Board:
    def __init__(self, value=None):
        self.value = value

    def text(self):
        return self.value

    def save(self):
        return self.value

    def set_text(self, text):
        self.value = text

    def restore(self, saved):
        self.value = saved


def test_type_mode_with_commands():
    keys = Keys()
    sink = OutputSink(OutputOptions(OutputMode.TYPE), typer=keys)
    for final in [
        "dear anna, new paragraph.",
        "thanks for the call.",
        "it was great",
        "scratch that.",
        "see you soon. New line. Bob",
    ]:
        sink.final(final)
    assert keys.text == "Dear anna\n\nThanks for the call. See you soon.\nBob"


def test_commands_off_types_them_as_words():
    keys = Keys()
    sink = OutputSink(OutputOptions(OutputMode.TYPE, commands=False), typer=keys)
    sink.final("hello new line.")
    assert keys.text == "Hello new line."


def test_paste_mode_restores_the_clipboard_later_and_uses_the_terminal_chord():
    keys, board, later = Keys(terminal=True), Board("user's"), []
    keys.clipboard = board
    paster = Paster(board, keys, 1.0, schedule=lambda delay, action: later.append(action))
    sink = OutputSink(OutputOptions(OutputMode.PASTE), typer=keys, clipboard=board, paster=paster)
    sink.final("one.")
    sink.final("two.")
    assert keys.text == "One. Two." and keys.pastes == [True, True]
    assert board.value == " Two."
    later[0]()  # the first restore was superseded by the second paste
    assert board.value == " Two."
    later[1]()
    assert board.value == "user's"


def test_paste_mode_leaves_a_clipboard_the_user_changed():
    keys, board, later = Keys(), Board("user's"), []
    keys.clipboard = board
    sink = OutputSink(
        OutputOptions(OutputMode.PASTE),
        typer=keys,
        clipboard=board,
        paster=Paster(board, keys, 1.0, schedule=lambda d, a: later.append(a)),
    )
    sink.final("hello")
    board.value = "copied meanwhile"
    later[-1]()
    assert board.value == "copied meanwhile"


def test_clipboard_mode_holds_the_dictation_so_far():
    board = Board()
    sink = OutputSink(OutputOptions(OutputMode.CLIPBOARD), clipboard=board)
    sink.final("first.")
    sink.final("second")
    sink.final("scratch that")
    assert board.value == "First."


def test_type_mode_without_a_typer_falls_back_to_the_clipboard():
    board = Board()
    sink = OutputSink(OutputOptions(OutputMode.TYPE), clipboard=board)
    sink.final("hello.")
    sink.final("world")
    assert board.value == "Hello. World"


def test_stdout_mode_and_window_mode():
    out = io.StringIO()
    sink = OutputSink(OutputOptions(OutputMode.STDOUT), stream=out)
    sink.final("hello.")
    sink.final("world")
    sink.stop()
    assert out.getvalue() == "Hello. World\n"
    assert OutputSink(OutputOptions(OutputMode.WINDOW)).final("x") == "X"


def test_missing_parts_are_one_sentence_errors():
    with pytest.raises(OutputError, match="Paste mode needs"):
        OutputSink(OutputOptions(OutputMode.PASTE), typer=Keys())
    with pytest.raises(OutputError, match="Clipboard mode needs"):
        OutputSink(OutputOptions(OutputMode.CLIPBOARD))
