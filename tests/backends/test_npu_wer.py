"""Proof of numerics here: the whole engine, with every NPU-bound op computed by the kernel emulator
(bit-faithful except the summation order inside one K-block, which is bounded; see kernels/README.md),
transcribes the shared clips within 0.5 WER point of the fp32 numpy reference — and, as
kernels/README.md states, with transcripts identical to it.

Both engines share the numpy decoder, so any difference comes from the NPU encoder path (bf16 GEMM inputs,
fp32 accumulation per K-block, the kernels' exp/erf/rsqrt, bf16 outputs of the row kernels)."""

from __future__ import annotations

import pytest

from amanuensis_desktop.whisper.wer import wer

MAX_WER_POINTS = 0.5


@pytest.fixture(scope="module")
def npu_engine(cpu_engine):
    from amanuensis_desktop.backends import npu
    from amanuensis_desktop.backends.numpy_backend import NumpyBackend
    from amanuensis_desktop.engine import Engine

    w = cpu_engine.weights
    backend = npu.create(w, npu_device="emulator", fallback=NumpyBackend(w))
    assert backend.label.startswith("CPU · XDNA kernel emulator")
    return Engine(w, backend, tokenizer=cpu_engine.tokenizer, model_folder=cpu_engine.model_folder)


@pytest.fixture(scope="module")
def transcripts(request, shared_audio, manifest, cpu_engine, npu_engine):
    from amanuensis_desktop.bench.corpus import load_clip

    try:  # fp32 transcripts shared with the other WER tests when conftest provides them
        fp32 = dict(request.getfixturevalue("cpu_transcripts"))
    except pytest.FixtureLookupError:
        fp32 = {}
    rows = []
    for name, reference in manifest:
        audio = load_clip(name, shared_audio)
        ref_text = fp32.get(name)
        if ref_text is None:
            ref_text = cpu_engine.transcribe(audio).text
        rows.append((name, reference, ref_text, npu_engine.transcribe(audio).text))
    assert npu_engine.backend.windows_on_npu >= len(manifest)
    assert npu_engine.backend.failure is None
    return rows


def test_every_shared_clip_within_half_a_wer_point(transcripts):
    refs = [r[1] for r in transcripts]
    fp32 = wer(refs, [r[2] for r in transcripts])
    emulated = wer(refs, [r[3] for r in transcripts])
    report = "\n".join(f"{n}: fp32={a!r} npu={b!r}" for n, _r, a, b in transcripts)
    same = sum(a == b for _n, _r, a, b in transcripts)
    print(
        f"\nWER over {len(transcripts)} clips: fp32 {fp32:.2%}, emulated NPU {emulated:.2%}; "
        f"{same}/{len(transcripts)} transcripts identical"
    )
    assert emulated - fp32 <= MAX_WER_POINTS / 100, f"WER fp32 {fp32:.2%} vs emulated NPU {emulated:.2%}\n{report}"


def test_no_clip_is_worse_by_more_than_half_a_point(transcripts):
    for name, ref, a, b in transcripts:
        assert wer(ref, b) - wer(ref, a) <= MAX_WER_POINTS / 100, f"{name}: fp32={a!r} npu={b!r}"


def test_transcripts_are_identical_to_fp32(transcripts):
    """kernels/README.md says that in practice the transcripts are identical: hold it to that."""
    differ = [f"{n}: fp32={a!r} npu={b!r}" for n, _r, a, b in transcripts if a != b]
    assert not differ, f"{len(differ)}/{len(transcripts)} transcripts differ from fp32:\n" + "\n".join(differ)
