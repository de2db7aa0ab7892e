"""Where the peer bench's throwaway environment lives (``make bench-peers`` writes it, ``bench --peers`` reads it):
``build/peers/`` beside the checkout (or ``$AMANUENSIS_PEERS_DIR``) with ``venv/`` (torch CPU, optimum-intel,
OpenVINO GenAI, faster-whisper, pywhispercpp) and ``models/NAME/peers.json`` naming each peer's model files."""

from __future__ import annotations

import json
import os
from pathlib import Path

MODELS = ("tiny.en", "base")
SETUP_HINT = "run 'make bench-peers' first"


def peers_dir() -> Path:
    env = os.environ.get("AMANUENSIS_PEERS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "build" / "peers"


def venv_python(root: Path | None = None) -> Path:
    return (root or peers_dir()) / "venv" / "bin" / "python"


def manifest_path(model: str, root: Path | None = None) -> Path:
    return (root or peers_dir()) / "models" / model / "peers.json"


def read_manifest(model: str, root: Path | None = None) -> dict[str, str] | None:
    """``{"ct2", "hf", "ov", "ggml"}`` folders/files of ``model``'s peers, or ``None`` when not set up."""
    path = manifest_path(model, root)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def missing(models: tuple[str, ...] | list[str], root: Path | None = None) -> str | None:
    """One sentence saying what of the peer environment is missing for ``models``, or ``None``."""
    root = root or peers_dir()
    if not venv_python(root).exists():
        return f"The peer bench environment is missing ({root / 'venv'}); {SETUP_HINT}."
    absent = [m for m in models if read_manifest(m, root) is None]
    if absent:
        return f"The peer models for {', '.join(absent)} are missing under {root / 'models'}; {SETUP_HINT}."
    return None
