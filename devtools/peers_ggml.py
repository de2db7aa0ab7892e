"""Our Whisper weights as a whisper.cpp model file (the classic ``ggml`` container), and a reader for tests.

Layout (little endian): magic ``ggml``; 11 int32 hyper-parameters (n_vocab, n_audio_ctx, n_audio_state,
n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype); the mel
filter bank (int32 n_mels, int32 n_freq, float32 data); the byte-level vocabulary below the first special token
(int32 count, then int32 length + raw bytes each); then every tensor: int32 n_dims, int32 name length, int32 type
(0 f32, 1 f16), the dims innermost first, the name, the data. Matrices are f16, vectors, conv biases (as
``[n, 1]``) and the positional embeddings f32, which is what whisper.cpp expects of an f16 file.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from amanuensis_desktop.whisper.audio import mel_filters
from amanuensis_desktop.whisper.model import Weights

MAGIC = 0x67676D6C
F32, F16 = 0, 1
_KEEP_F32 = ("encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding")


def byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet backwards: the printable character that stands for each byte -> the byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def vocab_bytes(tokenizer_json: str | os.PathLike) -> list[bytes]:
    """The ordinary tokens of ``tokenizer.json`` as raw bytes, by id, up to ``<|endoftext|>`` (excluded)."""
    tok = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    specials = {a["content"]: a["id"] for a in tok.get("added_tokens", ())}
    eot = specials["<|endoftext|>"]
    dec = byte_decoder()
    out: list[bytes | None] = [None] * eot
    for text, i in tok["model"]["vocab"].items():
        if i < eot:
            out[i] = bytes(dec[c] for c in text)
    missing = [i for i, b in enumerate(out) if b is None]
    if missing:
        raise ValueError(f"tokenizer.json has no token for ids {missing[:5]}")
    return [b for b in out if b is not None]


def _tensor(name: str, arr: np.ndarray) -> tuple[np.ndarray, int]:
    data = np.asarray(arr)
    if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
        data = data.reshape(data.shape[0], 1)
    if data.ndim < 2 or name in _KEEP_F32:
        return np.ascontiguousarray(data, np.float32), F32
    return np.ascontiguousarray(data, np.float16), F16


def write_ggml(weights: Weights, tokenizer_json: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Write ``weights`` (OpenAI tensor names) as a whisper.cpp f16 model file at ``path`` (atomically)."""
    d = weights.dims
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<I", MAGIC))
        hparams: tuple[int, ...] = (
            d.n_vocab,
            d.n_audio_ctx,
            d.n_audio_state,
            d.n_audio_head,
            d.n_audio_layer,
            d.n_text_ctx,
        )
        hparams += (d.n_text_state, d.n_text_head, d.n_text_layer, d.n_mels, F16)
        f.write(struct.pack("<11i", *hparams))
        filters = np.ascontiguousarray(mel_filters(d.n_mels), np.float32)
        f.write(struct.pack("<2i", *filters.shape))
        f.write(filters.tobytes())
        tokens = vocab_bytes(tokenizer_json)
        f.write(struct.pack("<i", len(tokens)))
        for t in tokens:
            f.write(struct.pack("<i", len(t)) + t)
        for name, arr in weights.tensors.items():
            data, ftype = _tensor(name, arr)
            raw = name.encode()
            f.write(struct.pack("<3i", data.ndim, len(raw), ftype))
            f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
            f.write(raw)
            f.write(data.tobytes())
    os.replace(tmp, path)
    return path


def read_ggml(path: str | os.PathLike) -> tuple[tuple[int, ...], np.ndarray, list[bytes], dict[str, np.ndarray]]:
    """``(hparams, mel filters, tokens, tensors)`` of a file written by :func:`write_ggml` (tests)."""
    buf = memoryview(Path(path).read_bytes())
    pos = 0

    def ints(n: int) -> tuple[int, ...]:
        nonlocal pos
        vals = struct.unpack_from(f"<{n}i", buf, pos)
        pos += 4 * n
        return vals

    def take(n: int) -> memoryview:
        nonlocal pos
        pos += n
        return buf[pos - n : pos]

    if struct.unpack_from("<I", buf, 0)[0] != MAGIC:
        raise ValueError(f"{path} is not a ggml file")
    pos = 4
    hparams = ints(11)
    n_mels, n_freq = ints(2)
    filters = np.frombuffer(take(4 * n_mels * n_freq), np.float32).reshape(n_mels, n_freq)
    tokens = [bytes(take(ints(1)[0])) for _ in range(ints(1)[0])]
    tensors: dict[str, np.ndarray] = {}
    while pos < len(buf):
        n_dims, name_len, ftype = ints(3)
        shape = tuple(reversed(ints(n_dims)))
        name = bytes(take(name_len)).decode()
        dtype = np.float16 if ftype == F16 else np.float32
        count = int(np.prod(shape))
        tensors[name] = np.frombuffer(take(count * np.dtype(dtype).itemsize), dtype).reshape(shape)
    return hparams, filters, tokens, tensors
