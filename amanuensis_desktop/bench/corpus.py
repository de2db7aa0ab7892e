"""The shared recordings (../shared/audio beside the checkout) with their references, and a long clip made
by joining them with pauses. Used by benchmarks and tests; nothing is copied into the repository."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from ..whisper.audio import SAMPLE_RATE


def shared_audio_dir() -> Path:
    """``$AMANUENSIS_SHARED_AUDIO`` or ``../shared/audio`` beside the project checkout."""
    env = os.environ.get("AMANUENSIS_SHARED_AUDIO")
    if env:
        return Path(env)
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "audio"
    if beside_checkout.is_dir():
        return beside_checkout
    return Path.cwd().parent / "shared" / "audio"


def _is_noisy(name: str) -> bool:
    """Speech recorded or mixed in noise (the ``noise/`` folder), scored apart from the clean clips."""
    return name.startswith("noise/") or Path(name).name.startswith("noisy_")


def _rows(folder: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with open(folder / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rows.append((row["file"], (row.get("reference transcript") or "").strip()))
    return rows


def manifest(folder: Path | None = None, *, noisy: bool = False) -> list[tuple[str, str]]:
    """(clip, reference) for every speech clip with an exact reference; a stereo file with one speaker per
    channel gives two entries, ``file#0`` and ``file#1``. Clean clips by default; ``noisy=True`` gives the
    speech recorded in noise instead. Non-speech recordings are never listed here (see :func:`non_speech`)."""
    folder = folder or shared_audio_dir()
    out: list[tuple[str, str]] = []
    refs: dict[str, str] = {}
    for name, ref in _rows(folder):
        if ref.startswith("(same as "):
            ref = refs[ref[len("(same as ") :].rstrip(")").strip()]
        refs[name] = ref
        if "no exact reference" in ref or ref.startswith("(non-speech") or _is_noisy(name) != noisy:
            continue
        if ref.startswith("left:") and "| right:" in ref:
            left, right = ref[len("left:") :].split("| right:")
            out += [(name + "#0", left.strip()), (name + "#1", right.strip())]
        else:
            out.append((name, ref))
    return out


def non_speech(folder: Path | None = None) -> list[str]:
    """The recordings that hold no speech at all (their reference says "(non-speech: …)")."""
    folder = folder or shared_audio_dir()
    return [name for name, ref in _rows(folder) if ref.startswith("(non-speech")]


def load_clip(name: str, folder: Path | None = None) -> np.ndarray:
    """``file`` or ``file#channel`` from the shared folder as 16 kHz mono float32."""
    from ..audio.files import load_audio

    folder = folder or shared_audio_dir()
    if "#" in name:
        file, ch = name.split("#")
        return load_audio(folder / file, channel=int(ch))
    return load_audio(folder / name)


# One instance of each recording (jfk.flac/mp3 repeat jfk.wav), in a fixed order.
LONG_CLIP_ORDER = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "goforward.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "turn_on_the_living_room_lamp.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "stereo_two_speakers.wav#0",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
    "stereo_two_speakers.wav#1",
)


def join_clips(
    names,
    pause_s: float = 1.0,
    lead_s: float = 0.0,
    folder: Path | None = None,
    loaded: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """The clips ``names`` (``file`` or ``file#channel``) joined with ``pause_s`` of silence after each, after
    ``lead_s`` of leading silence (``loaded``: clips already decoded, by name). Returns (audio, [(start, end,
    reference or "")] per clip)."""
    folder = folder or shared_audio_dir()
    refs = dict(manifest(folder))
    pause = np.zeros(int(pause_s * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = [np.zeros(int(lead_s * SAMPLE_RATE), np.float32)]
    spans: list[tuple[float, float, str]] = []
    t = lead_s
    cache: dict[str, np.ndarray] = dict(loaded or {})
    for name in names:
        audio = cache.get(name)
        if audio is None:
            audio = cache[name] = load_clip(name, folder)
        spans.append((t, t + audio.size / SAMPLE_RATE, refs.get(name, "")))
        parts += [audio, pause]
        t += (audio.size + pause.size) / SAMPLE_RATE
    return np.concatenate(parts), spans


def long_clip(
    min_seconds: float = 60.0, pause_s: float = 1.0, folder: Path | None = None
) -> tuple[np.ndarray, str, list[tuple[float, float, str]]]:
    """The shared clips (:data:`LONG_CLIP_ORDER`, repeated as needed) joined with pauses, at least
    ``min_seconds`` long. Returns (audio, reference text, [(start, end, reference)] per clip)."""
    folder = folder or shared_audio_dir()
    clips = {n: load_clip(n, folder) for n in LONG_CLIP_ORDER}
    names, t = [], 0.0
    while t < min_seconds:
        for name in LONG_CLIP_ORDER:
            names.append(name)
            t += clips[name].size / SAMPLE_RATE + pause_s
            if t >= min_seconds:
                break
    audio, spans = join_clips(names, pause_s, folder=folder, loaded=clips)
    return audio, " ".join(s[2] for s in spans), spans
