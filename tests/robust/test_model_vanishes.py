"""The model folder removed or damaged while the app runs: the loaded engine keeps transcribing (the weights
are in memory); loading it again says one sentence. The OpenVINO cache's embedding table, read row by row from
disk, cut short in place while in use: one sentence (no traceback), and the next start rewrites it."""

from __future__ import annotations

import logging
import os
import shutil

import pytest

pytest.importorskip("openvino")

from amanuensis_desktop.audio.files import load_audio  # noqa: E402
from amanuensis_desktop.engine import Engine  # noqa: E402
from amanuensis_desktop.errors import ModelError  # noqa: E402
from amanuensis_desktop.whisper.model import default_model_path  # noqa: E402
from amanuensis_desktop.whisper.wer import wer  # noqa: E402

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def test_model_folder_removed_or_damaged_while_running(cache_copy, monkeypatch, shared_audio, tmp_path, caplog):
    monkeypatch.setenv("AMANUENSIS_CACHE_DIR", str(cache_copy))
    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)
    engine = Engine.load("openvino", model)
    audio = load_audio(shared_audio / "jfk.wav")
    (model / "model.bin").write_bytes(os.urandom(4096))  # damaged in place
    assert wer(JFK, engine.transcribe(audio).text) < 0.15
    shutil.rmtree(model)  # removed
    assert wer(JFK, engine.transcribe(audio).text) < 0.15
    with pytest.raises(ModelError) as err:
        Engine.load("openvino", model)
    assert str(err.value).endswith(".") and "\n" not in str(err.value)

    table = engine.backend._table_path  # type: ignore[attr-defined]
    os.truncate(table, 1000)  # the cache file it reads rows from, cut short in place
    with pytest.raises(ModelError, match="changed while in use"):
        engine.transcribe(audio)
    engine.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = Engine.load("openvino")  # the next start: the damaged table is rewritten, with one line
    assert [r for r in caplog.records if "damaged" in r.getMessage()]
    assert wer(JFK, again.transcribe(audio).text) < 0.15
    assert os.path.getsize(table) > 1_000_000
    again.close()
