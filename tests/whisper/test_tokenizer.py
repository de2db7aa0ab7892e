import pytest

from amanuensis_desktop.whisper.audio import TIME_PRECISION
from amanuensis_desktop.whisper.model import default_model_path
from amanuensis_desktop.whisper.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tok():
    return Tokenizer(default_model_path() / "tokenizer.json", n_vocab=51864)


def test_special_tokens(tok):
    assert (tok.eot, tok.sot, tok.no_speech, tok.no_timestamps, tok.timestamp_begin) == (
        50256,
        50257,
        50361,
        50362,
        50363,
    )
    assert tok.sot_sequence == (tok.sot,)  # English-only model: no language or task token
    assert not tok.multilingual


def test_encode_decode_round_trip(tok):
    text = " And so my fellow Americans, ask not what your country can do for you."
    ids = tok.encode(text)
    assert all(i < tok.eot for i in ids)
    assert tok.decode(ids) == text
    assert tok.decode(ids + [tok.eot, tok.timestamp_begin + 5]) == text  # special tokens dropped


def test_timestamps(tok):
    ids = [tok.timestamp_begin] + tok.encode(" Hello") + [tok.timestamp_begin + 50]
    assert tok.decode(ids) == " Hello"  # timestamp tokens carry no text
    assert round((ids[-1] - tok.timestamp_begin) * TIME_PRECISION, 2) == 1.00
    assert tok.n_vocab - tok.timestamp_begin == 1501  # 0.00 .. 30.00 in 20 ms steps


def test_non_speech_tokens(tok):
    ns = tok.non_speech_tokens
    assert tok.encode(" [")[0] in ns or tok.encode("[")[0] in ns
    assert tok.encode(" hello")[0] not in ns
