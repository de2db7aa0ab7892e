"""Audio decoding: every container the issue names, any rate and channel count, to 16 kHz mono float32."""

import numpy as np
import pytest
import soundfile as sf

from amanuensis_desktop.audio.files import load_audio, truncation_warning
from amanuensis_desktop.errors import AudioError


def _tone(sr, seconds=1.0, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def _encode_av(path, sr, container_fmt, codec, video=False):
    import av

    with av.open(str(path), "w", format=container_fmt) as out:
        if video:
            vs = out.add_stream("mpeg4", rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        stream = out.add_stream(codec, rate=sr)
        stream.layout = "stereo"
        x = _tone(sr, 2.0, channels=2).astype(np.float32)
        frame_len = 1024
        for i in range(0, len(x) - frame_len, frame_len):
            chunk = np.ascontiguousarray(x[i : i + frame_len].T)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = sr
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
            if video and i % 4096 == 0:
                img = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
                for packet in vs.encode(img):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if video:
            for packet in vs.encode():
                out.mux(packet)


@pytest.mark.parametrize(
    "sr,channels,fmt", [(16000, 1, "WAV"), (44100, 2, "WAV"), (48000, 2, "FLAC"), (22050, 1, "OGG")]
)
def test_soundfile_formats(tmp_path, sr, channels, fmt):
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, _tone(sr, 1.0, channels), sr, format=fmt)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 16000) <= 16
    assert 0.4 < np.abs(audio[1000:-1000]).max() < 0.6


@pytest.mark.parametrize(
    "name,fmt,codec,video",
    [("a.m4a", "mp4", "aac", False), ("v.mp4", "mp4", "aac", True), ("v.mkv", "matroska", "aac", True)],
)
def test_pyav_formats(tmp_path, name, fmt, codec, video):
    path = tmp_path / name
    try:
        _encode_av(path, 44100, fmt, codec, video)
    except Exception as exc:  # an FFmpeg build without this encoder
        pytest.skip(f"cannot encode {codec} here: {exc}")
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 1.8 * 16000 < audio.size < 2.2 * 16000
    assert 0.3 < np.abs(audio[4000:-4000]).max() < 0.7


def test_shared_formats_agree(shared_audio):
    wav = load_audio(shared_audio / "jfk.wav")
    for other in ("jfk.flac", "jfk.mp3"):
        audio = load_audio(shared_audio / other)
        assert abs(audio.size - wav.size) < 1600
        n = min(audio.size, wav.size)
        assert np.corrcoef(audio[:n], wav[:n])[0, 1] > 0.9


def test_stereo_channels(shared_audio):
    left = load_audio(shared_audio / "stereo_two_speakers.wav", channel=0)
    right = load_audio(shared_audio / "stereo_two_speakers.wav", channel=1)
    assert left.size == right.size == 80000
    assert not np.allclose(left, right)
    with pytest.raises(AudioError, match="channel 2 does not exist"):
        load_audio(shared_audio / "stereo_two_speakers.wav", channel=2)


def test_bad_inputs(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="is empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "notes.txt").write_text("not audio at all\n" * 10)
    with pytest.raises(AudioError, match="not a readable audio"):
        load_audio(tmp_path / "notes.txt")
    sf.write(tmp_path / "zero.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(tmp_path / "zero.wav")


def test_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    sf.write(path, _tone(16000), 16000)
    # Tests run as root in CI, where chmod 000 does not stop reading: simulate the permission check's answer.
    monkeypatch.setattr("amanuensis_desktop.audio.files.os.access", lambda *_: False)
    with pytest.raises(AudioError, match="permission denied"):
        load_audio(path)


def test_truncated_keeps_what_decodes(tmp_path, shared_audio):
    data = (shared_audio / "jfk.wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    audio = load_audio(path)
    assert 5.0 < audio.size / 16000 < 6.0
    assert "truncated" in truncation_warning(path, audio)
    assert truncation_warning(shared_audio / "jfk.wav", load_audio(shared_audio / "jfk.wav")) is None
