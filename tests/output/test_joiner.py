"""The joiner: spacing and capitals between finals (pure)."""

from __future__ import annotations

from amanuensis_desktop.output.joiner import Joiner


def test_first_final_is_capitalised_and_not_indented():
    assert Joiner().text("  hello   there. ") == "Hello there."


def test_space_between_finals_and_capital_after_sentence_end():
    j = Joiner()
    assert [j.text("hello there."), j.text("and then"), j.text("we left")] == ["Hello there.", " And then", " we left"]
    assert j.typed == "Hello there. And then we left"


def test_no_space_before_punctuation_or_after_line_break():
    j = Joiner()
    j.text("well")
    assert j.text(", then") == ", then"
    assert j.newline() == "\n"
    assert j.text("next line") == "Next line"
    assert j.newline(2) == "\n\n"
    assert j.text("“quoted” start") == "“Quoted” start"


def test_question_and_exclamation_end_sentences_digits_stay():
    j = Joiner()
    j.text("Really?")
    assert j.text("yes!") == " Yes!"
    assert j.text("42 is the answer") == " 42 is the answer"


def test_capitalise_off_and_empty_final():
    j = Joiner(capitalise=False)
    assert j.text("") == ""
    assert j.text("lower case") == "lower case"
    assert j.typed == "lower case"


def test_scratch_removes_exactly_the_last_piece():
    j = Joiner()
    j.text("first sentence.")
    j.text("second one")
    assert j.scratch() == " Second one"
    assert j.typed == "First sentence."
    assert j.text("another.") == " Another."  # spacing follows what is really there now
    j.reset()
    assert j.scratch() == ""
    assert j.text("fresh start") == "Fresh start"
