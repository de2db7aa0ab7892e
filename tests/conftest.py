"""Shared fixtures: the shared recordings (skipped with a reason when ../shared is absent), the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the pytest-qt ini option does not take effect here

from amanuensis_desktop.bench.corpus import shared_audio_dir

SHARED_AUDIO = shared_audio_dir()  # ../shared/audio beside the checkout, or $AMANUENSIS_SHARED_AUDIO


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    if not (SHARED_AUDIO / "MANIFEST.tsv").is_file():
        pytest.skip(f"shared recordings not found at {SHARED_AUDIO} (the ../shared folder beside the checkout)")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def manifest(shared_audio) -> list[tuple[str, str]]:
    from amanuensis_desktop.bench.corpus import manifest as read_manifest

    return read_manifest(shared_audio)


def load_clip(shared_audio: Path, name: str):
    """Load 'file' or 'file#channel' from the shared folder as 16 kHz mono float32."""
    from amanuensis_desktop.bench.corpus import load_clip as _load

    return _load(name, shared_audio)


@pytest.fixture(scope="session")
def cpu_engine():
    from amanuensis_desktop.engine import Engine

    return Engine.load("cpu")


@pytest.fixture(scope="session")
def cpu_transcripts(cpu_engine, manifest, shared_audio) -> dict[str, str]:
    """fp32 (numpy) transcript of every manifest clip, computed once per session."""
    from amanuensis_desktop.bench.corpus import load_clip as _load

    return {name: cpu_engine.transcribe(_load(name, shared_audio)).text for name, _ in manifest}


try:  # the virtual microphone (private PulseAudio), provided by tests/virtual_mic.py
    from virtual_mic import virtual_mic  # noqa: F401
except ImportError:
    pass
