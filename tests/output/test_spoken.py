"""Spoken commands inside dictated text (pure)."""

from __future__ import annotations

import pytest

from amanuensis_desktop.output.spoken import Command, split_commands


@pytest.mark.parametrize(
    "text, language, expected",
    [
        (
            "Dear Anna, new paragraph. Thanks for the call.",
            "en",
            ["Dear Anna", Command.NEW_PARAGRAPH, "Thanks for the call."],
        ),
        ("Hello world. New line. How are you?", "en", ["Hello world.", Command.NEW_LINE, "How are you?"]),
        ("New line.", "en", [Command.NEW_LINE]),
        ("Scratch that.", "en", [Command.SCRATCH]),
        ("I like apples, scratch that, pears.", "en", ["I like apples,", Command.SCRATCH, "pears."]),
        ("Hallo Welt, neue Zeile. Wie geht es?", "de", ["Hallo Welt", Command.NEW_LINE, "Wie geht es?"]),
        ("Neuer Absatz.", "de-DE", [Command.NEW_PARAGRAPH]),
        ("Streich das!", "de", [Command.SCRATCH]),
        ("Bonjour, à la ligne, merci.", "fr", ["Bonjour", Command.NEW_LINE, "merci."]),
        ("Nueva línea", "es", [Command.NEW_LINE]),
        ("Hallo Welt, new line.", "de", ["Hallo Welt", Command.NEW_LINE]),  # English always works
    ],
)
def test_commands_are_recognised(text, language, expected):
    assert split_commands(text, language) == expected


@pytest.mark.parametrize("text", ["Newlines are fine.", "The linen was new.", "Scratching that itch."])
def test_words_inside_other_words_are_not_commands(text):
    assert split_commands(text) == [text]


def test_other_languages_phrases_need_that_language():
    assert split_commands("Neue Zeile.", "en") == ["Neue Zeile."]
    assert split_commands("", "en") == []
