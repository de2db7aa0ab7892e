"""Long-form transcription: 30 s windows with seeking on timestamp tokens, temperature fallback, the
no-speech gate and optional conditioning on previous text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .audio import (
    FRAMES_PER_SECOND,
    HOP_LENGTH,
    N_FRAMES,
    N_SAMPLES,
    SAMPLE_RATE,
    TIME_PRECISION,
    log_mel_spectrogram,
    pad_or_trim,
)
from .decoding import Cancelled, DecodingOptions, DecodingResult, WindowDecoder, with_temperature
from .language import LanguageTracker, check_request, model_can_translate
from .words import Word, add_word_timestamps

__all__ = ["Cancelled", "Segment", "Transcript", "TranscribeOptions", "Word", "transcribe"]

INPUT_STRIDE = 2  # mel frames per audio-feature frame


@dataclass
class TranscribeOptions:
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    beam_size: int | None = None
    best_of: int | None = 5
    patience: float | None = None
    compression_ratio_threshold: float | None = 2.4
    logprob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    condition_on_previous_text: bool = True
    initial_prompt: str | None = None
    without_timestamps: bool = False
    # Quiet guard: a window whose loudest 100 ms is below this RMS is silence; no decoder runs on it.
    silence_rms: float = 1e-3
    # Time and weigh every word (one teacher-forced decoder pass per window; see whisper/alignment.py).
    word_timestamps: bool = False
    language: str | None = None  # a code ("en", "de"...); None or "auto": detected per 30 s window
    task: str = "transcribe"  # or "translate" (into English)
    # None: every window is padded to 30 s, as Whisper was trained. A number: the encoder sees only the window's
    # audio plus this much padding, rounded up to whole seconds (live segments: a shorter, faster encode; the
    # measured accuracy is in docs/decisions/live.md).
    encoder_pad_s: float | None = None


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float
    words: list[Word] = field(default_factory=list)  # filled when word timestamps are asked for
    language: str = ""

    def as_dict(self) -> dict:
        out = {
            k: getattr(self, k)
            for k in (
                "id",
                "start",
                "end",
                "text",
                "avg_logprob",
                "no_speech_prob",
                "compression_ratio",
                "temperature",
                "language",
            )
        }
        if self.words:
            out["words"] = [w.as_dict() for w in self.words]
        return out


@dataclass
class Transcript:
    segments: list[Segment]
    duration: float
    backend: str = ""
    language: str = "en"
    timings: dict[str, float] = field(default_factory=dict)
    prompted: bool = False  # decoded with an initial prompt (the live pipeline's prompting rule reads it)
    language_probability: float = 1.0
    task: str = "transcribe"

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip()).strip()


def encoder_frames(content_frames: int, pad_s: float | None) -> int:
    """Mel frames the encoder sees for a window holding ``content_frames``: 3000 (30 s) when ``pad_s`` is None,
    else the content plus ``pad_s``, rounded up to whole seconds (few distinct shapes for the compiled encoder)."""
    if pad_s is None:
        return N_FRAMES
    wanted = content_frames + int(round(pad_s * FRAMES_PER_SECOND))
    return min(N_FRAMES, -(-wanted // FRAMES_PER_SECOND) * FRAMES_PER_SECOND)


def _is_silent(audio: np.ndarray, threshold: float) -> bool:
    """True when no 100 ms block of ``audio`` is louder than ``threshold`` RMS."""
    if audio.size == 0:
        return True
    block = SAMPLE_RATE // 10
    n = audio.size // block
    if n == 0:
        return float(np.sqrt(np.mean(audio**2))) < threshold
    rms = np.sqrt(np.mean(audio[: n * block].reshape(n, block) ** 2, axis=1))
    return float(rms.max()) < threshold


def _is_no_speech(result: DecodingResult, opts: TranscribeOptions) -> bool:
    """Whisper's gate (no-speech likely and low confidence), widened: a likely-silent window whose output is
    repetitive (compression ratio over the threshold) is silence too. Invented text is worse than none."""
    if opts.no_speech_threshold is None or result.no_speech_prob <= opts.no_speech_threshold:
        return False
    unsure = opts.logprob_threshold is None or result.avg_logprob < opts.logprob_threshold
    repetitive = (
        opts.compression_ratio_threshold is not None and result.compression_ratio > opts.compression_ratio_threshold
    )
    return unsure or repetitive


def _acceptable(result: DecodingResult, opts: TranscribeOptions) -> bool:
    """Whisper's fallback rule: a result is kept when it is silence or neither too repetitive nor too unsure."""
    too_repetitive = (
        opts.compression_ratio_threshold is not None and result.compression_ratio > opts.compression_ratio_threshold
    )
    too_unsure = opts.logprob_threshold is not None and result.avg_logprob < opts.logprob_threshold
    silence = opts.no_speech_threshold is not None and result.no_speech_prob > opts.no_speech_threshold
    return silence or not (too_repetitive or too_unsure)


def _short_window(
    decoder: WindowDecoder,
    features: np.ndarray,
    seconds: float,
    base: DecodingOptions,
    opts: TranscribeOptions,
    cancel,
    timings: dict,
) -> DecodingResult | None:
    """A window encoded without the 30 s padding, decoded at the first temperature with a budget of 30 tokens + 8
    per second of audio (without padding to see, tiny.en sometimes repeats a short phrase to the token limit). None
    when the result ran out of budget or fails Whisper's fallback rule: the caller then decodes the padded window."""
    budget = 30 + int(8 * seconds)
    quick = decoder.decode(features, replace(base, temperature=opts.temperature[0], sample_len=budget), cancel=cancel)
    quick.timings["attempts"] = 1
    if int(quick.timings.get("steps", 0)) < budget and _acceptable(quick, opts):
        return quick
    timings["short_failed"] = timings.get("short_failed", 0) + 1  # its cost still counts
    timings["decode_s"] += quick.timings.get("decode_s", 0.0)
    timings["steps"] += int(quick.timings.get("steps", 0))
    return None


def decode_with_fallback(
    decoder: WindowDecoder,
    features: np.ndarray,
    base: DecodingOptions,
    opts: TranscribeOptions,
    cancel: threading.Event | None = None,
) -> DecodingResult:
    """Decode at the first temperature; retry hotter while the result is too repetitive or too unsure.

    When every temperature fails, keep the most confident result that is not repetitive (else the greedy
    one): the last, hottest sample is usually the worst (Whisper keeps that one)."""
    base = replace(base, abort_compression_ratio=opts.compression_ratio_threshold)
    tried: list[DecodingResult] = []
    spent = {"decode_s": 0.0, "steps": 0, "attempts": 0}
    for t in opts.temperature:
        result = decoder.decode(features, with_temperature(base, t), cancel=cancel)
        tried.append(result)
        spent["decode_s"] += result.timings.get("decode_s", 0.0)
        spent["steps"] += int(result.timings.get("steps", 0))
        spent["attempts"] += 1
        result.timings = dict(spent)  # what this window cost, every attempt included
        if _acceptable(result, opts):
            return result
    not_repetitive = [
        r
        for r in tried
        if opts.compression_ratio_threshold is None or r.compression_ratio <= opts.compression_ratio_threshold
    ]
    best = max(not_repetitive, key=lambda r: r.avg_logprob) if not_repetitive else tried[0]
    best.timings = dict(spent)
    return best


def transcribe(
    engine,
    audio: np.ndarray,
    opts: TranscribeOptions | None = None,
    *,
    progress: Callable[[float, float], None] | None = None,
    cancel: threading.Event | None = None,
    on_segment: Callable[[Segment], None] | None = None,
) -> Transcript:
    """Transcribe 16 kHz mono float32 ``audio`` with ``engine`` (an :class:`~amanuensis_desktop.engine.Engine`)."""
    opts = opts or TranscribeOptions()
    tok = engine.tokenizer
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    mel = log_mel_spectrogram(audio, engine.dims.n_mels, padding=N_SAMPLES)
    content_frames = mel.shape[-1] - N_FRAMES
    decoder = engine.window_decoder()
    forced = check_request(
        tok,
        opts.language,
        opts.task,
        can_translate=model_can_translate(tok, getattr(engine, "model_folder", None), engine.dims),
    )
    languages = LanguageTracker(tok, forced, opts.task)
    base = DecodingOptions(
        beam_size=opts.beam_size,
        best_of=opts.best_of,
        patience=opts.patience,
        without_timestamps=opts.without_timestamps,
    )
    prompt_tokens: list[int] = tok.encode(" " + opts.initial_prompt.strip()) if opts.initial_prompt else []
    all_tokens: list[int] = list(prompt_tokens)
    prompt_reset_since = 0
    segments: list[Segment] = []
    timings = {"encode_s": 0.0, "decode_s": 0.0, "windows": 0, "steps": 0, "fallbacks": 0}
    t_start = time.perf_counter()
    seek = 0
    while seek < content_frames:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        time_offset = seek * HOP_LENGTH / SAMPLE_RATE
        segment_size = min(N_FRAMES, content_frames - seek)
        window_end = seek + segment_size
        segment_duration = segment_size * HOP_LENGTH / SAMPLE_RATE
        window_audio = audio[seek * HOP_LENGTH : (seek + segment_size) * HOP_LENGTH]
        if segment_size < 10 or _is_silent(window_audio, opts.silence_rms):
            seek += segment_size
            if progress:
                progress(min(seek / FRAMES_PER_SECOND, duration), duration)
            continue
        content = mel[:, seek : seek + segment_size]
        static = getattr(engine.backend, "static", False)  # a static-shape encoder (Intel NPU) takes 30 s only
        frames = N_FRAMES if static else encoder_frames(segment_size, opts.encoder_pad_s)
        t0 = time.perf_counter()
        features = engine.backend.encode(pad_or_trim(content, frames))
        timings["encode_s"] += time.perf_counter() - t0
        timings["windows"] += 1
        previous = languages.current
        language, sot_sequence = languages.window(engine.backend, features, segment_duration)
        if previous is not None and language != previous:
            prompt_reset_since = len(all_tokens)  # another language: the previous text would mislead
        prompt = all_tokens[prompt_reset_since:]
        window_base = replace(base, prompt=prompt or None, sot_sequence=sot_sequence)
        short = frames < N_FRAMES
        result = None
        if short:
            result = _short_window(decoder, features, segment_duration, window_base, opts, cancel, timings)
        if result is None:
            if short:  # the short window's result failed: the padded 30 s window, as Whisper was trained
                t0 = time.perf_counter()
                features = engine.backend.encode(pad_or_trim(content, N_FRAMES))
                timings["encode_s"] += time.perf_counter() - t0
            result = decode_with_fallback(decoder, features, window_base, opts, cancel)
        timings["decode_s"] += result.timings.get("decode_s", 0.0)
        timings["steps"] += int(result.timings.get("steps", 0))
        timings["fallbacks"] += int(result.timings.get("attempts", 1)) - 1

        if _is_no_speech(result, opts):
            seek += segment_size  # silence: no text from this window
            if progress:
                progress(min(seek / FRAMES_PER_SECOND, duration), duration)
            continue

        tokens = result.tokens
        new: list[tuple[float, float, list[int]]] = []
        ts = [t >= tok.timestamp_begin for t in tokens]
        single_ending = len(ts) >= 2 and ts[-1] and not ts[-2]
        cuts = [i + 1 for i in range(len(ts) - 1) if ts[i] and ts[i + 1]]
        if cuts:
            slices = cuts + ([len(tokens)] if single_ending else [])
            last = 0
            for cut in slices:
                part = tokens[last:cut]
                start = (part[0] - tok.timestamp_begin) * TIME_PRECISION
                end = (part[-1] - tok.timestamp_begin) * TIME_PRECISION
                new.append((time_offset + start, time_offset + end, part))
                last = cut
            if single_ending:
                seek += segment_size
            else:
                seek += (tokens[last - 1] - tok.timestamp_begin) * INPUT_STRIDE
        else:
            end = segment_duration
            stamps = [t for t in tokens if t >= tok.timestamp_begin]
            if stamps and stamps[-1] != tok.timestamp_begin:
                end = (stamps[-1] - tok.timestamp_begin) * TIME_PRECISION
            new.append((time_offset, time_offset + end, tokens))
            seek += segment_size

        texts = [tok.decode(part).strip() for _, _, part in new]
        offsets = np.cumsum([0] + [len(part) for _, _, part in new])  # the parts are consecutive slices of tokens
        window_segments: list[Segment] = []
        window_logprobs: list[list[float]] = []
        if not any(t and not tok.is_punctuation_only(t) for t in texts):
            seek = max(seek, window_end)  # nothing but dots or blanks: move past the whole window
        for (start, end, part), text, first in zip(new, texts, offsets):
            if not text or tok.is_punctuation_only(text) or end <= start:
                continue
            seg = Segment(
                id=len(segments),
                start=round(start, 3),
                end=round(min(end, duration), 3),
                text=text,
                tokens=[t for t in part if t < tok.eot],
                avg_logprob=result.avg_logprob,
                no_speech_prob=result.no_speech_prob,
                compression_ratio=result.compression_ratio,
                temperature=result.temperature,
                language=language,
            )
            window_segments.append(seg)
            part_lps = result.token_logprobs[first : first + len(part)]
            window_logprobs.append([lp for t, lp in zip(part, part_lps) if t < tok.eot])
        if opts.word_timestamps and window_segments:
            t0 = time.perf_counter()
            add_word_timestamps(
                engine.backend,
                tok,
                features,
                window_segments,
                window_logprobs,
                segment_size,
                time_offset,
                engine.alignment_heads,
                language or "en",
                window_audio,
                sot_sequence,
            )
            timings["words_s"] = timings.get("words_s", 0.0) + time.perf_counter() - t0
        for seg in window_segments:
            segments.append(seg)
            if on_segment:
                on_segment(seg)
        all_tokens.extend(t for t in tokens if t < tok.eot or t >= tok.timestamp_begin)  # text and times, as Whisper
        if not opts.condition_on_previous_text or result.temperature > 0.5:
            prompt_reset_since = len(all_tokens)
        if progress:
            progress(min(seek / FRAMES_PER_SECOND, duration), duration)
    timings["total_s"] = time.perf_counter() - t_start
    code, probability = languages.file_language(segments)
    return Transcript(
        segments=segments,
        duration=duration,
        backend=engine.backend.label,
        timings=timings,
        prompted=opts.initial_prompt is not None,
        language=code,
        language_probability=probability,
        task=opts.task,
    )
