"""A fake Hub (devtools.fakehub, a real HTTP server on 127.0.0.1) serving a small synthetic model repository,
and a private models folder for every test."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

import pytest

from devtools.fakehub import FakeHub
from tests.models.constants import MODEL_BIN_SIZE, REPO


@pytest.fixture(scope="session")
def synth_repo(tmp_path_factory) -> Path:
    """A folder laid out like a CTranslate2 Whisper repository (the weights are random bytes)."""
    folder = tmp_path_factory.mktemp("synth-repo")
    (folder / "model.bin").write_bytes(os.urandom(MODEL_BIN_SIZE))
    (folder / "config.json").write_text(json.dumps({"alignment_heads": [[1, 0]], "lang_ids": []}))
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"a": 0}}}))
    (folder / "vocabulary.txt").write_text("a\nb\n")
    (folder / "README.md").write_text("not downloaded\n")
    (folder / "flax_model.msgpack").write_bytes(b"\0" * 1000)  # another format: skipped
    return folder


@pytest.fixture
def models_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("AMANUENSIS_MODELS_DIR", str(root))
    return root


@pytest.fixture
def hub(synth_repo, monkeypatch, models_root):
    with FakeHub({REPO: synth_repo}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def network_gone():
    """``with network_gone() as attempts:`` every socket connection fails and HF_ENDPOINT points nowhere;
    ``attempts`` lists the addresses something tried to reach."""

    @contextlib.contextmanager
    def gone():
        attempts: list[object] = []

        def refuse(self, address):
            attempts.append(address)
            raise OSError("network disabled by the test")

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(socket.socket, "connect", refuse)
            mp.setattr(socket.socket, "connect_ex", refuse)
            mp.setenv("HF_ENDPOINT", "http://192.0.2.1:9")  # TEST-NET-1: unroutable
            yield attempts

    return gone
