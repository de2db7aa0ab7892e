"""Log-mel features against an independent float64 computation (explicit DFT, filterbank from the formula)."""

import numpy as np
import pytest

from amanuensis_desktop.whisper.audio import N_FRAMES, log_mel_spectrogram, mel_filters, pad_or_trim


def _slaney_mel(hz):
    # linear below 1 kHz (3 mels per 200 Hz), log above (27 mels per factor 6.4)
    return hz * 3 / 200 if hz < 1000 else 15 + 27 * np.log(hz / 1000) / np.log(6.4)


def _slaney_hz(mel):
    return mel * 200 / 3 if mel < 15 else 1000 * np.exp((mel - 15) * np.log(6.4) / 27)


def _filterbank64(n_mels=80, sr=16000, n_fft=400):
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    edges = [_slaney_hz(m) for m in np.linspace(_slaney_mel(0.0), _slaney_mel(sr / 2), n_mels + 2)]
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        for j, f in enumerate(freqs):
            if lo < f < hi:
                fb[i, j] = (f - lo) / (mid - lo) if f <= mid else (hi - f) / (hi - mid)
        fb[i] *= 2.0 / (hi - lo)  # Slaney area normalisation
    return fb


def _log_mel64(audio):
    audio = audio.astype(np.float64)
    n_fft, hop = 400, 160
    x = np.pad(audio, n_fft // 2, mode="reflect")
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    k = np.arange(n_fft // 2 + 1)
    dft = np.exp(-2j * np.pi * np.outer(n, k) / n_fft)
    n_frames = 1 + (len(x) - n_fft) // hop
    frames = np.stack([x[i * hop : i * hop + n_fft] for i in range(n_frames)])[:-1]
    power = np.abs((frames * window) @ dft) ** 2
    mel = _filterbank64() @ power.T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def test_filterbank_matches_formula():
    np.testing.assert_allclose(mel_filters(80), _filterbank64(), atol=2e-6, rtol=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_log_mel_matches_float64(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(16000 * 2) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    ours = log_mel_spectrogram(audio)
    ref = _log_mel64(audio)
    assert ours.shape == ref.shape == (80, 200)
    assert np.abs(ours - ref).max() < 2e-3  # float32 STFT vs float64: a fraction of one dB


def test_log_mel_real_speech(shared_audio):
    from amanuensis_desktop.audio.files import load_audio

    audio = load_audio(shared_audio / "goforward.wav")
    ours = log_mel_spectrogram(audio)
    assert np.abs(ours - _log_mel64(audio)).max() < 2e-3


def test_window_padding():
    mel = log_mel_spectrogram(np.zeros(16000, np.float32), padding=480000)
    assert mel.shape == (80, 3100)
    assert pad_or_trim(mel).shape == (80, N_FRAMES)
    assert pad_or_trim(mel[:, :10]).shape == (80, N_FRAMES)


@pytest.mark.parametrize("n", [0, 1, 150, 16000, 16000 * 11 + 37, 480000, 500001])
def test_padding_shortcut_is_exact(n):
    """Frames of pure zero padding are filled, not computed: the result must equal the full computation."""

    rng = np.random.default_rng(n)
    audio = (0.1 * rng.standard_normal(n)).astype(np.float32)
    fast = log_mel_spectrogram(audio, padding=480000)
    x = np.pad(audio, (0, 480000))
    full = log_mel_spectrogram(x, padding=0)  # nothing skipped: every frame computed
    assert fast.shape == full.shape == (80, (n + 480000) // 160)
    np.testing.assert_allclose(fast, full, atol=1e-6)
