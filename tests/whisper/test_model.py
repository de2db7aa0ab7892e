"""Weight readers: CTranslate2 model.bin (the embedded tiny.en) and Hugging Face safetensors."""

import shutil

import numpy as np
import pytest

from amanuensis_desktop.errors import ModelError
from amanuensis_desktop.whisper.model import (
    default_model_path,
    load_weights,
    read_ctranslate2_variables,
    read_safetensors,
    resolve_model_path,
    write_safetensors,
)


@pytest.fixture(scope="module")
def weights():
    return load_weights()


def test_embedded_tiny_en_dims(weights):
    d = weights.dims
    assert (d.n_mels, d.n_audio_ctx, d.n_audio_state, d.n_audio_head, d.n_audio_layer) == (80, 1500, 384, 6, 4)
    assert (d.n_vocab, d.n_text_ctx, d.n_text_state, d.n_text_head, d.n_text_layer) == (51864, 448, 384, 6, 4)
    assert not weights.is_multilingual
    assert weights["encoder.blocks.0.attn.query.weight"].dtype == np.float16  # kept as stored


def test_fused_qkv_split_matches_raw_variables(weights):
    raw = read_ctranslate2_variables(default_model_path() / "model.bin")
    fused = raw["encoder/layer_2/self_attention/linear_0/weight"]
    np.testing.assert_array_equal(weights["encoder.blocks.2.attn.key.weight"], fused[384:768])
    bias = raw["encoder/layer_2/self_attention/linear_0/bias"]
    assert np.all(bias[384:768] == 0), "the key projection has no bias"
    kv = raw["decoder/layer_1/attention/linear_1/weight"]
    np.testing.assert_array_equal(weights["decoder.blocks.1.cross_attn.value.weight"], kv[384:])
    assert "encoder.blocks.0.attn.key.bias" not in weights


def test_safetensors_round_trip(weights, tmp_path):
    write_safetensors(weights, tmp_path, tokenizer_json=default_model_path() / "tokenizer.json")
    back = read_safetensors(tmp_path / "model.safetensors")
    assert back.dims == weights.dims
    assert set(back.tensors) == set(weights.tensors)
    for name, arr in weights.tensors.items():
        np.testing.assert_array_equal(back[name], arr, err_msg=name)
    # and the folder loads like any model folder
    assert load_weights(tmp_path).dims == weights.dims


def test_model_folder_errors(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_path(tmp_path / "nope")
    with pytest.raises(ModelError, match="neither model.bin"):
        resolve_model_path(tmp_path)
    src = default_model_path()
    shutil.copy(src / "model.bin", tmp_path / "model.bin")
    shutil.copy(src / "config.json", tmp_path / "config.json")
    with pytest.raises(ModelError, match="missing tokenizer.json"):
        resolve_model_path(tmp_path)


def test_truncated_model_bin(tmp_path):
    data = (default_model_path() / "model.bin").read_bytes()
    (tmp_path / "model.bin").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match="truncated"):
        read_ctranslate2_variables(tmp_path / "model.bin")
