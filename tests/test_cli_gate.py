"""`amanuensis transcribe` behind the neural speech gate (default) and without it (`--no-vad`); the threshold
flag of `transcribe` and `dictate`."""

from __future__ import annotations

import pytest

from amanuensis_desktop.cli import build_parser, main


@pytest.mark.parametrize("command", ["transcribe", "dictate"])
def test_threshold_flag(command, capsys):
    args = build_parser().parse_args(
        [command, "--vad-threshold", "0.7"] + (["x.wav"] if command == "transcribe" else [])
    )
    assert args.vad_threshold == 0.7 and args.no_vad is False
    for bad in ("1.5", "0", "half"):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([command, "--vad-threshold", bad, "x.wav"])
        assert exc.value.code == 2
        assert "is not a speech probability between 0 and 1" in capsys.readouterr().err


def test_transcribe_gives_nothing_from_noise_and_the_speech_at_its_time(shared_audio, tmp_path, capsys):
    import json

    snoring = shared_audio / "noise" / "noise_snoring.wav"
    if not snoring.is_file():
        pytest.skip("the shared noise clips are missing")
    rc = main(
        ["transcribe", "--format", "json", "--output-dir", str(tmp_path), str(snoring), str(shared_audio / "jfk.wav")]
    )
    assert rc == 0
    assert json.loads((tmp_path / "noise_snoring.json").read_text())["segments"] == []
    jfk = json.loads((tmp_path / "jfk.json").read_text())["segments"]
    assert jfk and "fellow Americans" in jfk[0]["text"] and jfk[0]["start"] < 0.5
