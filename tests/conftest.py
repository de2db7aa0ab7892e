"""Shared fixtures: the shared recordings (``shared_audio``: the one way tests find ../shared/audio, skipped with a
reason when absent), their manifest, the CPU and default engines, Whisper base, the virtual microphone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the pytest-qt ini option does not take effect here

from amanuensis_desktop.bench.corpus import shared_audio_dir

from .virtual_mic import virtual_mic as virtual_mic  # the fixture (a private PulseAudio microphone), re-exported


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """../shared/audio beside the checkout, or $AMANUENSIS_SHARED_AUDIO."""
    folder = shared_audio_dir()
    if not (folder / "MANIFEST.tsv").is_file():
        pytest.skip(f"shared recordings not found at {folder} (the ../shared folder beside the checkout)")
    return folder


@pytest.fixture(scope="session")
def manifest(shared_audio) -> list[tuple[str, str]]:
    from amanuensis_desktop.bench.corpus import manifest as read_manifest

    return read_manifest(shared_audio)


@pytest.fixture(scope="session")
def cpu_engine():
    from amanuensis_desktop.engine import Engine

    return Engine.load("cpu")


@pytest.fixture(scope="module")
def engine():
    """The engine a user gets by default ("auto"), loaded once per test module."""
    from amanuensis_desktop.engine import Engine

    eng = Engine.load("auto")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def base_dir():
    """Whisper base (multilingual), assembled from the PyPI wheels; skipped with a reason when absent."""
    from devtools.base_model import base_model_dir, missing_reason

    folder = base_model_dir()
    if folder is None:
        pytest.skip(missing_reason() or "Whisper base could not be assembled")
    return folder


@pytest.fixture(scope="session")
def cpu_transcripts(cpu_engine, manifest, shared_audio) -> dict[str, str]:
    """fp32 (numpy) transcript of every manifest clip, computed once per session."""
    from amanuensis_desktop.bench.corpus import load_clip as _load

    return {name: cpu_engine.transcribe(_load(name, shared_audio)).text for name, _ in manifest}
