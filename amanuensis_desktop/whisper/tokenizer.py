"""Whisper's tokenizer from ``tokenizer.json`` (Hugging Face ``tokenizers``), with special and timestamp tokens.

Timestamp tokens are not in tokenizer.json: they follow ``<|notimestamps|>``, one per 20 ms from 0.00 to 30.00.
"""

from __future__ import annotations

import json
import os
import string
from functools import cached_property
from pathlib import Path

from ..errors import ModelError


class Tokenizer:
    def __init__(self, path: str | os.PathLike, n_vocab: int | None = None):
        from tokenizers import Tokenizer as HFTokenizer

        path = Path(path)
        try:
            self.hf = HFTokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelError(f"Cannot read tokenizer {path}: {str(exc).splitlines()[0] if str(exc) else exc}.") from exc
        self.path = path

        def tid(*names: str) -> int:
            for name in names:
                i = self.hf.token_to_id(name)
                if i is not None:
                    return i
            raise ModelError(f"Tokenizer {path} has no {names[0]} token; it is not a Whisper tokenizer.")

        self.eot = tid("<|endoftext|>")
        self.sot = tid("<|startoftranscript|>")
        self.translate = tid("<|translate|>")
        self.transcribe = tid("<|transcribe|>")
        self.sot_lm = tid("<|startoflm|>")
        self.sot_prev = tid("<|startofprev|>")
        self.no_speech = tid("<|nospeech|>", "<|nocaptions|>")
        self.no_timestamps = tid("<|notimestamps|>")
        self.timestamp_begin = self.no_timestamps + 1
        self.n_vocab = n_vocab or (self.timestamp_begin + 1501)
        en = self.hf.token_to_id("<|en|>")
        # English-only models (n_vocab 51864) have no language/task tokens in their start sequence.
        self.multilingual = self.n_vocab >= 51865
        self.sot_sequence: tuple[int, ...] = (
            (self.sot, en, self.transcribe) if self.multilingual and en else (self.sot,)
        )

    # -- text -------------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self.hf.encode(text, add_special_tokens=False).ids

    def decode(self, tokens) -> str:
        """Text of ``tokens`` without special or timestamp tokens."""
        return self.hf.decode([int(t) for t in tokens if int(t) < self.eot], skip_special_tokens=False)

    # -- suppression --------------------------------------------------------------------------------
    @cached_property
    def non_speech_tokens(self) -> tuple[int, ...]:
        """Tokens for symbols that are not speech (as Whisper's ``suppress_tokens="-1"``), for models
        whose config does not list them."""
        symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
        symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
        miscellaneous = set("♩♪♫♬♭♮♯")
        result = {self.encode(" -")[0], self.encode(" '")[0]}
        for symbol in symbols + list(miscellaneous):
            for tokens in (self.encode(symbol), self.encode(" " + symbol)):
                if len(tokens) == 1 or symbol in miscellaneous:
                    result.add(tokens[0])
        return tuple(sorted(result))

    def is_punctuation_only(self, text: str) -> bool:
        return all(ch in string.punctuation or ch.isspace() for ch in text)


def load_suppress_config(model_folder: str | os.PathLike) -> tuple[list[int] | None, list[int] | None]:
    """``(suppress_ids, suppress_ids_begin)`` from a model folder's config.json, where it lists them
    (CTranslate2: suppress_ids / suppress_ids_begin; Hugging Face: suppress_tokens / begin_suppress_tokens)."""
    path = Path(model_folder) / "config.json"
    if not path.is_file():
        return None, None
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"Model config {path} is not valid JSON.") from exc
    suppress = cfg.get("suppress_ids", cfg.get("suppress_tokens"))
    begin = cfg.get("suppress_ids_begin", cfg.get("begin_suppress_tokens"))
    return (list(suppress) if suppress else None), (list(begin) if begin else None)
