"""Run by the peer-bench venv's Python (torch, transformers, optimum-intel), never by the app: completes the Hugging
Face checkpoint our safetensors writer produced (full ``WhisperConfig``, ``GenerationConfig``, feature extractor,
tokenizer with the 1501 timestamp tokens), checks it transcribes a clip with transformers, and exports the OpenVINO
GenAI folder with optimum-intel (int8 weights, stateful decoder).

``python devtools/peers_export.py HF_DIR CT2_CONFIG OV_DIR [--check WAV]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np


def _special(tok: dict, name: str) -> int | None:
    for a in tok["added_tokens"]:
        if a["content"] == name:
            return int(a["id"])
    return None


def complete_checkpoint(hf: Path, ct2_config: Path) -> None:
    from tokenizers import AddedToken
    from transformers import (  # type: ignore[import-not-found]
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperTokenizerFast,
    )

    partial = json.loads((hf / "config.json").read_text())
    ct2 = json.loads(ct2_config.read_text())
    tok = json.loads((hf / "tokenizer.json").read_text(encoding="utf-8"))
    eot = _special(tok, "<|endoftext|>")
    sot = _special(tok, "<|startoftranscript|>")
    no_ts = _special(tok, "<|notimestamps|>")
    transcribe, translate = _special(tok, "<|transcribe|>"), _special(tok, "<|translate|>")
    prev = _special(tok, "<|startofprev|>")
    multilingual = partial["vocab_size"] >= 51865
    langs = {a["content"]: a["id"] for a in tok["added_tokens"] if a["id"] in set(ct2.get("lang_ids", ()))}
    suppress = list(ct2.get("suppress_ids", ()))
    begin = list(ct2.get("suppress_ids_begin", [220, eot]))
    cfg = WhisperConfig(
        vocab_size=partial["vocab_size"],
        num_mel_bins=partial["num_mel_bins"],
        encoder_layers=partial["encoder_layers"],
        decoder_layers=partial["decoder_layers"],
        encoder_attention_heads=partial["encoder_attention_heads"],
        decoder_attention_heads=partial["decoder_attention_heads"],
        encoder_ffn_dim=4 * partial["d_model"],
        decoder_ffn_dim=4 * partial["d_model"],
        d_model=partial["d_model"],
        max_source_positions=partial["max_source_positions"],
        max_target_positions=partial["max_target_positions"],
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
        suppress_tokens=suppress,
        begin_suppress_tokens=begin,
        tie_word_embeddings=True,
    )
    cfg.architectures = ["WhisperForConditionalGeneration"]
    cfg.save_pretrained(hf)
    gen = GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=partial["max_target_positions"],
        no_timestamps_token_id=no_ts,
        prev_sot_token_id=prev,
        suppress_tokens=suppress,
        begin_suppress_tokens=begin,
        is_multilingual=multilingual,
        max_initial_timestamp_index=50,
        return_timestamps=False,
        alignment_heads=ct2.get("alignment_heads"),
    )
    if multilingual:
        gen.lang_to_id = langs
        gen.task_to_id = {"transcribe": transcribe, "translate": translate}
        gen.forced_decoder_ids = [[1, None], [2, transcribe]]
    else:
        gen.forced_decoder_ids = [[1, no_ts]]
    gen.save_pretrained(hf)
    WhisperFeatureExtractor(feature_size=partial["num_mel_bins"]).save_pretrained(hf)
    fast = WhisperTokenizerFast(tokenizer_file=str(hf / "tokenizer.json"), unk_token="<|endoftext|>")
    stamps = [AddedToken(f"<|{i * 0.02:.2f}|>", lstrip=False, rstrip=False) for i in range(1501)]
    have = set(fast.get_vocab())
    fast.add_tokens([t for t in stamps if t.content not in have], special_tokens=False)
    fast.save_pretrained(hf)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise SystemExit(f"{path} is not 16 kHz mono 16-bit")
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0


def check(hf: Path, wav: Path) -> str:
    """transformers' own decoding of ``wav`` with the checkpoint (proves the weights and files agree)."""
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    proc = WhisperProcessor.from_pretrained(hf)
    model = WhisperForConditionalGeneration.from_pretrained(hf)
    feats = proc(read_wav(wav), sampling_rate=16000, return_tensors="pt").input_features
    ids = model.generate(feats, max_new_tokens=100)
    return proc.batch_decode(ids, skip_special_tokens=True)[0].strip()


def export(hf: Path, ov: Path) -> None:
    cli = Path(sys.executable).with_name("optimum-cli")
    cmd = [str(cli), "export", "openvino", "--model", str(hf), "--task", "automatic-speech-recognition-with-past"]
    cmd += ["--weight-format", "int8", str(ov)]
    subprocess.run(cmd, check=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("hf", type=Path)
    p.add_argument("ct2_config", type=Path)
    p.add_argument("ov", type=Path)
    p.add_argument("--check", type=Path, default=None, help="a 16 kHz wav to transcribe with transformers first")
    args = p.parse_args()
    complete_checkpoint(args.hf, args.ct2_config)
    if args.check is not None:
        print(f"transformers on {args.check.name}: {check(args.hf, args.check)}", flush=True)
    export(args.hf, args.ov)
    return 0


if __name__ == "__main__":
    sys.exit(main())
