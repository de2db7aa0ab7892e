"""Whisper's log-mel features, exactly as Whisper defines them, in numpy.

16 kHz audio, n_fft 400, hop 160, periodic Hann window, 80 Slaney-scale mel bins (computed here, no files),
log10 of max(power, 1e-10), floor at max - 8, then (x + 4) / 4. Windows are 30 s (3000 frames).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_LENGTH = 30
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE  # 480000 samples in a 30 s window
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames in a window
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100
N_SAMPLES_PER_TOKEN = HOP_LENGTH * 2  # the encoder halves the frame rate
TIME_PRECISION = N_SAMPLES_PER_TOKEN / SAMPLE_RATE  # 0.02 s per timestamp token


# Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (27 mels per factor 6.4).
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    return np.where(f >= _MIN_LOG_HZ, _MIN_LOG_MEL + np.log(np.maximum(f, 1e-10) / _MIN_LOG_HZ) / _LOGSTEP, f / _F_SP)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), _F_SP * m)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int = 80, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-normalised triangular mel filterbank ``[n_mels, n_fft // 2 + 1]`` (float32)."""
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_pts = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2)
    hz_pts = _mel_to_hz(mel_pts)
    fdiff = np.diff(hz_pts)
    ramps = hz_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_pts[2 : n_mels + 2] - hz_pts[:n_mels]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic


def log_mel_spectrogram(audio: np.ndarray, n_mels: int = 80, padding: int = 0) -> np.ndarray:
    """``float32 [n_samples]`` at 16 kHz → ``float32 [n_mels, n_frames]`` (``n_frames = (n + padding) // 160``).

    Like Whisper: ``padding`` zeros appended, a centred STFT with reflect padding, the last frame dropped.
    Frames that lie wholly in the appended zeros are not computed: their mel power is exactly 0, so their
    value is the log of the 1e-10 floor (the 30 s of padding Whisper appends cost more than the audio).
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    total = audio.size + padding
    computed = min(padding, 2 * N_FFT)  # enough zeros that every computed frame sees what the full one sees
    x = np.pad(audio, (0, computed)) if computed else audio
    if x.size < N_FFT // 2 + 1:  # reflect padding needs a few samples
        x = np.pad(x, (0, N_FFT // 2 + 1 - x.size))
    x = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")
    n_frames = 1 + (x.size - N_FFT) // HOP_LENGTH
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, N_FFT), strides=(x.strides[0] * HOP_LENGTH, x.strides[0]), writeable=False
    )
    spec = np.fft.rfft(frames * _hann(), axis=-1)[:-1]  # drop the last frame, as torch.stft + [..., :-1]
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    log_spec = np.log10(np.maximum(mel_filters(n_mels) @ power.T, 1e-10))
    n_total = max(total // HOP_LENGTH, log_spec.shape[1]) if padding else log_spec.shape[1]
    if n_total > log_spec.shape[1]:  # the frames of pure padding
        log_spec = np.concatenate([log_spec, np.full((n_mels, n_total - log_spec.shape[1]), -10.0, log_spec.dtype)], 1)
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


def pad_or_trim(array: np.ndarray, length: int = N_FRAMES, axis: int = -1) -> np.ndarray:
    if array.shape[axis] > length:
        return np.take(array, np.arange(length), axis=axis)
    if array.shape[axis] < length:
        pad = [(0, 0)] * array.ndim
        pad[axis] = (0, length - array.shape[axis])
        return np.pad(array, pad)
    return array
