"""Memory and first-load notes before loading a model (real model folders, psutil's real available memory)."""

from __future__ import annotations

from amanuensis_desktop.whisper import footprint
from amanuensis_desktop.whisper.model import default_model_path


def test_estimates_scale_with_the_weights_file(tmp_path):
    tiny = default_model_path()
    cpu, ov = footprint.estimate(tiny, "cpu"), footprint.estimate(tiny, "openvino", first_load=False)
    assert cpu.file_bytes == (tiny / "model.bin").stat().st_size
    assert 400 << 20 < cpu.need_bytes < 800 << 20  # measured peak 553 MB
    assert 250 << 20 < ov.need_bytes < 500 << 20  # measured peak 358 MB (warm cache)
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "model.bin", "wb") as f:  # a sparse 3 GB file: large-v3's size, no disk used
        f.truncate(3 << 30)
    assert footprint.estimate(big, "cpu").need_bytes > 12 << 30


def test_notes_only_when_they_matter(tmp_path):
    tiny = default_model_path()
    assert footprint.memory_note(tiny, "cpu") is None  # fits in this machine's memory
    note = footprint.memory_note(tiny, "cpu", available=100 << 20)
    assert note is not None and note.startswith("This model needs about") and note.endswith(".")
    assert footprint.first_load_note(tiny, "openvino") is None  # tiny.en's first load is short
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "model.bin", "wb") as f:
        f.truncate(3 << 30)
    note = footprint.first_load_note(big, "openvino")
    assert note is not None and "minutes" in note and "cache" in note
    assert footprint.first_load_note(big, "cpu") is None  # numpy compiles nothing
    told: list[str] = []
    footprint.tell(note, told.append)
    footprint.tell(None, told.append)
    assert told == [note]
