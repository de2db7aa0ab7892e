"""Languages and tasks: which languages a model knows, spoken-language detection, the start-of-transcript sequence.

Everything is read from the model's own tokenizer: the language tokens are the special tokens ``<|xx|>``
between ``<|startoftranscript|>`` and ``<|translate|>`` (no hard-coded ids; 99 for most models, 100 for
large-v3). Detection is Whisper's: one decoder step over ``<|startoftranscript|>`` on a window's features,
softmax over the language tokens only. :class:`LanguageTracker` does it per 30 s window so that a file that
switches language is transcribed in each of its languages, and names the language of the file as a whole.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .tokenizer import Tokenizer

logger = logging.getLogger(__name__)

AUTO = "auto"
TASKS = ("transcribe", "translate")

#: Whisper's language names (code → English name), for messages and pickers; the codes a model accepts come
#: from its tokenizer (:func:`language_tokens`).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "Chinese",
    "de": "German",
    "es": "Spanish",
    "ru": "Russian",
    "ko": "Korean",
    "fr": "French",
    "ja": "Japanese",
    "pt": "Portuguese",
    "tr": "Turkish",
    "pl": "Polish",
    "ca": "Catalan",
    "nl": "Dutch",
    "ar": "Arabic",
    "sv": "Swedish",
    "it": "Italian",
    "id": "Indonesian",
    "hi": "Hindi",
    "fi": "Finnish",
    "vi": "Vietnamese",
    "he": "Hebrew",
    "uk": "Ukrainian",
    "el": "Greek",
    "ms": "Malay",
    "cs": "Czech",
    "ro": "Romanian",
    "da": "Danish",
    "hu": "Hungarian",
    "ta": "Tamil",
    "no": "Norwegian",
    "th": "Thai",
    "ur": "Urdu",
    "hr": "Croatian",
    "bg": "Bulgarian",
    "lt": "Lithuanian",
    "la": "Latin",
    "mi": "Maori",
    "ml": "Malayalam",
    "cy": "Welsh",
    "sk": "Slovak",
    "te": "Telugu",
    "fa": "Persian",
    "lv": "Latvian",
    "bn": "Bengali",
    "sr": "Serbian",
    "az": "Azerbaijani",
    "sl": "Slovenian",
    "kn": "Kannada",
    "et": "Estonian",
    "mk": "Macedonian",
    "br": "Breton",
    "eu": "Basque",
    "is": "Icelandic",
    "hy": "Armenian",
    "ne": "Nepali",
    "mn": "Mongolian",
    "bs": "Bosnian",
    "kk": "Kazakh",
    "sq": "Albanian",
    "sw": "Swahili",
    "gl": "Galician",
    "mr": "Marathi",
    "pa": "Punjabi",
    "si": "Sinhala",
    "km": "Khmer",
    "sn": "Shona",
    "yo": "Yoruba",
    "so": "Somali",
    "af": "Afrikaans",
    "oc": "Occitan",
    "ka": "Georgian",
    "be": "Belarusian",
    "tg": "Tajik",
    "sd": "Sindhi",
    "gu": "Gujarati",
    "am": "Amharic",
    "yi": "Yiddish",
    "lo": "Lao",
    "uz": "Uzbek",
    "fo": "Faroese",
    "ht": "Haitian Creole",
    "ps": "Pashto",
    "tk": "Turkmen",
    "nn": "Nynorsk",
    "mt": "Maltese",
    "sa": "Sanskrit",
    "lb": "Luxembourgish",
    "my": "Myanmar",
    "bo": "Tibetan",
    "tl": "Tagalog",
    "mg": "Malagasy",
    "as": "Assamese",
    "tt": "Tatar",
    "haw": "Hawaiian",
    "ln": "Lingala",
    "ha": "Hausa",
    "ba": "Bashkir",
    "jw": "Javanese",
    "su": "Sundanese",
    "yue": "Cantonese",
}

# Per-window detection: a window whose best language is less likely than this keeps the previous window's
# language (short or noisy windows give flat distributions); the first window always takes its best guess.
SWITCH_PROBABILITY = 0.5


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def language_tokens(tok: Tokenizer) -> dict[str, int]:
    """``{code: token id}`` of the model's language tokens, in token order (empty for English-only models)."""
    if not tok.multilingual:
        return {}
    cached = getattr(tok, "_language_tokens", None)
    if cached is not None:
        return cached
    found: dict[str, int] = {}
    for i in range(tok.sot + 1, tok.translate):
        name = tok.hf.id_to_token(i) or ""
        if name.startswith("<|") and name.endswith("|>"):
            found[name[2:-2]] = i
    tok._language_tokens = found  # type: ignore[attr-defined]
    return found


def model_can_translate(tok: Tokenizer, model_folder: str | os.PathLike | None = None, dims=None) -> bool:
    """Whether the model was trained to translate into English.

    English-only models cannot. A model folder's config.json may say so explicitly (``"can_translate":
    false``); a model installed from the catalogue is looked up there by its repository (large-v3-turbo
    cannot); otherwise a multilingual model with 128 mel bins and 4 decoder layers is large-v3-turbo,
    fine-tuned without translation data.
    """
    if not tok.multilingual:
        return False
    if model_folder is not None:
        for name in ("config.json", CATALOG_MANIFEST):
            path = Path(model_folder) / name
            try:
                cfg = json.loads(path.read_text()) if path.is_file() else {}
            except (OSError, ValueError):
                cfg = {}
            if not isinstance(cfg, dict):
                continue
            if "can_translate" in cfg:
                return bool(cfg["can_translate"])
            entry = _catalog_entry(str(cfg.get("repo", ""))) if name == CATALOG_MANIFEST else None
            if entry is not None:
                return bool(entry.can_translate)
    if dims is not None and dims.n_mels == 128 and dims.n_text_layer == 4:
        return False
    return True


CATALOG_MANIFEST = ".amanuensis-model.json"  # written beside a model installed from the catalogue


def _catalog_entry(repo: str):
    """The model catalogue's entry for ``repo`` (which knows whether the model can translate), if any."""
    if not repo:
        return None
    from ..models.catalog import by_repo

    return by_repo(repo)


def normalise_language(language: str | None) -> str | None:
    """``None``/"auto"/"" → None (detect); otherwise the lower-case code ("EN" → "en", "German" → "de")."""
    if language is None:
        return None
    text = language.strip().lower()
    if text in ("", AUTO):
        return None
    by_name = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}
    return by_name.get(text, text)


def check_request(
    tok: Tokenizer, language: str | None, task: str, *, can_translate: bool = True, model_name: str = "This model"
) -> str | None:
    """Validate a language/task request against the model; the language code to force, or None to detect.

    Raises :class:`ModelError` (one sentence) for a task that does not exist, a language the model does not
    know, another language than English on an English-only model, or translation on a model without it.
    """
    if task not in TASKS:
        raise ModelError(f"Unknown task '{task}'; choose transcribe or translate.")
    code = normalise_language(language)
    if not tok.multilingual:
        if code not in (None, "en"):
            raise ModelError(
                f"{model_name} is English-only and cannot transcribe {language_name(code)}; "
                "choose a multilingual model (without .en) or --language en."
            )
        if task == "translate":
            raise ModelError(f"{model_name} is English-only and cannot translate; choose a multilingual model.")
        return "en" if code else None
    if task == "translate" and not can_translate:
        raise ModelError(
            f"{model_name} was not trained to translate; choose another multilingual model or --task transcribe."
        )
    if code is not None and code not in language_tokens(tok):
        raise ModelError(
            f"{model_name} does not know the language '{language}'; use a language code such as en, de or fr, or auto."
        )
    return code


def start_sequence(tok: Tokenizer, language: str | None, task: str = "transcribe") -> tuple[int, ...]:
    """``<|startoftranscript|>`` [``<|xx|>`` ``<|transcribe|>`` or ``<|translate|>``] for ``language``."""
    if not tok.multilingual:
        return (tok.sot,)
    tokens = language_tokens(tok)
    lang = tokens.get(language or "en", tokens.get("en", tok.sot + 1))
    return (tok.sot, lang, tok.translate if task == "translate" else tok.transcribe)


@dataclass(frozen=True)
class LanguageGuess:
    code: str
    probability: float
    ranking: tuple[tuple[str, float], ...] = ()  # the five most likely languages, best first


def detect_language(backend, tok: Tokenizer, features: np.ndarray) -> LanguageGuess:
    """The language spoken in one window: one decoder step over ``<|startoftranscript|>`` on its features."""
    tokens = language_tokens(tok)
    if not tokens:
        return LanguageGuess("en", 1.0, (("en", 1.0),))
    session = backend.decoder(features, batch=1)
    logits = np.asarray(session.step(np.array([[tok.sot]], dtype=np.int64))[0], dtype=np.float64)
    codes = list(tokens)
    sub = logits[[tokens[c] for c in codes]]
    probs = np.exp(sub - sub.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    ranking = tuple((codes[i], float(probs[i])) for i in order[:5])
    return LanguageGuess(codes[order[0]], float(probs[order[0]]), ranking)


@dataclass
class LanguageTracker:
    """Chooses each window's language (forced, or detected per window) and the file's language."""

    tok: Tokenizer
    forced: str | None = None  # a code, or None to detect
    task: str = "transcribe"
    switch_probability: float = SWITCH_PROBABILITY
    current: str | None = None
    current_probability: float = 0.0
    _seconds: dict[str, float] = field(default_factory=dict)
    _probabilities: dict[str, list[float]] = field(default_factory=dict)

    @property
    def detects(self) -> bool:
        return self.forced is None and self.tok.multilingual

    def window(self, backend, features: np.ndarray, seconds: float) -> tuple[str, tuple[int, ...]]:
        """The language of one window (``seconds`` of audio) and the start sequence to decode it with."""
        if not self.tok.multilingual:
            code, prob = "en", 1.0
        elif self.forced is not None:
            code, prob = self.forced, 1.0
        else:
            guess = detect_language(backend, self.tok, features)
            code, prob = guess.code, guess.probability
            if self.current is not None and code != self.current and prob < self.switch_probability:
                logger.debug("window language %s (%.2f) unsure: keeping %s", code, prob, self.current)
                code = self.current
                prob = dict(guess.ranking).get(code, 0.0)
        self.current, self.current_probability = code, prob
        self._seconds[code] = self._seconds.get(code, 0.0) + max(seconds, 0.0)
        self._probabilities.setdefault(code, []).append(prob)
        return code, start_sequence(self.tok, code, self.task)

    def file_language(self, segments=()) -> tuple[str, float]:
        """The file's language: the one with the most transcribed speech (``segments``' durations; else the
        most window time), and its mean per-window detection probability."""
        seconds: dict[str, float] = {}
        for seg in segments:
            if getattr(seg, "language", ""):
                seconds[seg.language] = seconds.get(seg.language, 0.0) + max(seg.end - seg.start, 0.0)
        seconds = seconds or self._seconds
        if not seconds:
            if self.forced is not None:
                return self.forced, 1.0
            return ("en", 1.0) if not self.tok.multilingual else ("", 0.0)
        code = max(seconds, key=lambda c: seconds[c])
        probs = self._probabilities.get(code) or [1.0]
        return code, float(np.mean(probs))
