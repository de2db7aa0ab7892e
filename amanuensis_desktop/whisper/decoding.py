"""Decoding one 30 s window: greedy or beam search over a backend's :class:`DecoderSession`.

The rules follow Whisper's: suppress blank at the start, suppress non-speech tokens, timestamp-token rules
(pairs, monotonic, an initial timestamp within the first second, timestamps win when their total probability
beats any text token), no-speech probability read at the start-of-transcript position, and the quality
measures that drive temperature fallback (compression ratio, mean log-probability).
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from .inference import Backend
from .tokenizer import Tokenizer

NEG_INF = np.float32(-np.inf)


class Cancelled(Exception):
    """The caller's cancel event was set while transcribing."""


@dataclass(frozen=True)
class DecodingOptions:
    temperature: float = 0.0
    sample_len: int | None = None  # max tokens to sample; default n_text_ctx // 2
    best_of: int | None = None  # independent samples when temperature > 0
    beam_size: int | None = None  # beam search when temperature == 0
    patience: float | None = None
    length_penalty: float | None = None
    prompt: list[int] | None = None  # previous-text tokens (already encoded)
    suppress_tokens: tuple[int, ...] | None = None  # None → the model's configured list
    suppress_blank: bool = True
    without_timestamps: bool = False
    max_initial_timestamp: float | None = 1.0
    seed: int = 0
    # When sampling (temperature > 0): stop a sample as soon as its text is this repetitive. Such a sample
    # would be rejected by the fallback rule anyway; looping samples otherwise run to the token limit.
    abort_compression_ratio: float | None = None
    sot_sequence: tuple[int, ...] | None = None  # language/task start tokens; None → the tokenizer's default


@dataclass
class DecodingResult:
    tokens: list[int]
    text: str
    avg_logprob: float
    no_speech_prob: float
    temperature: float
    compression_ratio: float
    timings: dict[str, float] = field(default_factory=dict)
    #: the log-probability of each of ``tokens`` when it was chosen (word confidence reads it)
    token_logprobs: list[float] = field(default_factory=list)


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64, copy=False) if x.dtype == np.float64 else x.astype(np.float32)
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


class LogitRules:
    """Every logit filter of one decode, applied in place to ``logits [batch, vocab]``."""

    def __init__(
        self,
        tok: Tokenizer,
        opts: DecodingOptions,
        sample_begin: int,
        suppress: tuple[int, ...],
        begin_suppress: tuple[int, ...],
    ):
        self.tok = tok
        self.sample_begin = sample_begin
        self.suppress = np.array(sorted(set(suppress)), dtype=np.int64)
        self.begin_suppress = np.array(sorted(set(begin_suppress)), dtype=np.int64) if opts.suppress_blank else None
        self.timestamps = not opts.without_timestamps
        self.max_initial = None
        if self.timestamps and opts.max_initial_timestamp is not None:
            self.max_initial = int(round(opts.max_initial_timestamp / 0.02))

    def apply(self, logits: np.ndarray, seqs: list[list[int]]) -> np.ndarray | None:
        """Filter ``logits`` in place; returns their log-softmax when computing it was part of the rules and the
        logits did not change after (so the caller need not compute it again), else None."""
        tok = self.tok
        n = len(seqs[0])
        if self.begin_suppress is not None and n == self.sample_begin and self.begin_suppress.size:
            logits[:, self.begin_suppress] = NEG_INF
        if self.suppress.size:
            logits[:, self.suppress] = NEG_INF
        if not self.timestamps:
            return None
        tb = tok.timestamp_begin
        logits[:, tok.no_timestamps] = NEG_INF
        for k, seq in enumerate(seqs):
            sampled = seq[self.sample_begin :]
            last_ts = len(sampled) >= 1 and sampled[-1] >= tb
            prev_ts = len(sampled) < 2 or sampled[-2] >= tb
            if last_ts:
                if prev_ts:  # two timestamps in a row: the next must be text (or the end)
                    logits[k, tb:] = NEG_INF
                else:  # a lone timestamp: the next must be a timestamp (or the end)
                    logits[k, : tok.eot] = NEG_INF
            stamps = [t for t in sampled if t >= tb]
            if stamps:
                # timestamps never go backwards; after a closed pair they move strictly forward
                floor = stamps[-1] if (last_ts and not prev_ts) else stamps[-1] + 1
                logits[k, tb:floor] = NEG_INF
        if n == self.sample_begin:
            logits[:, :tb] = NEG_INF  # the first sampled token is a timestamp
            if self.max_initial is not None:
                logits[:, tb + self.max_initial + 1 :] = NEG_INF
        logprobs = log_softmax(logits)
        changed = False
        for k in range(logits.shape[0]):
            ts_mass = np.logaddexp.reduce(logprobs[k, tb:])
            if ts_mass > logprobs[k, :tb].max():
                logits[k, :tb] = NEG_INF
                changed = True
        return None if changed else logprobs


class WindowDecoder:
    """Decodes one window of audio features with a backend; stateless between windows."""

    def __init__(
        self,
        backend: Backend,
        tokenizer: Tokenizer,
        n_text_ctx: int,
        suppress_ids: tuple[int, ...],
        begin_suppress_ids: tuple[int, ...],
    ):
        self.backend = backend
        self.tok = tokenizer
        self.n_text_ctx = n_text_ctx
        self.suppress_ids = suppress_ids
        self.begin_suppress_ids = begin_suppress_ids
        self._cancel = None

    # -- prompt ---------------------------------------------------------------------------------------
    def initial_tokens(self, opts: DecodingOptions) -> tuple[list[int], int]:
        """Tokens fed before sampling, and the index of the start-of-transcript token."""
        tokens: list[int] = []
        if opts.prompt:
            tokens = [self.tok.sot_prev] + list(opts.prompt)[-(self.n_text_ctx // 2 - 1) :]
        sot_index = len(tokens)
        tokens += list(opts.sot_sequence or self.tok.sot_sequence)
        if opts.without_timestamps:
            tokens.append(self.tok.no_timestamps)
        return tokens, sot_index

    def decode(self, features: np.ndarray, opts: DecodingOptions, cancel=None) -> DecodingResult:
        """Decode one window. ``cancel`` (a threading.Event) is checked every few tokens: set, it raises
        :class:`Cancelled`."""
        t0 = time.perf_counter()
        self._cancel = cancel
        tok = self.tok
        initial, sot_index = self.initial_tokens(opts)
        sample_len = opts.sample_len or self.n_text_ctx // 2
        sample_len = min(sample_len, self.n_text_ctx - len(initial))
        suppress = self.suppress_ids if opts.suppress_tokens is None else opts.suppress_tokens
        rules = LogitRules(tok, opts, len(initial), suppress, self.begin_suppress_ids)

        use_beam = opts.temperature == 0 and (opts.beam_size or 1) > 1
        n_group = (opts.beam_size or 1) if use_beam else (opts.best_of or 1) if opts.temperature > 0 else 1

        session = self.backend.decoder(features, batch=1)
        # Feed the prompt up to start-of-transcript: its logits give the no-speech probability.
        logits = session.step(np.array([initial[: sot_index + 1]], dtype=np.int64))
        no_speech_prob = float(np.exp(log_softmax(logits[0])[tok.no_speech]))
        if len(initial) > sot_index + 1:
            logits = session.step(np.array([initial[sot_index + 1 :]], dtype=np.int64))
        if n_group > 1:
            session.reorder(np.zeros(n_group, dtype=np.int64))
            logits = np.repeat(logits, n_group, axis=0)

        if use_beam:
            seqs, scores, steps, token_lps = self._beam(session, logits, initial, rules, sample_len, opts)
        else:
            seqs, scores, steps, token_lps = self._sample(session, logits, initial, rules, sample_len, opts, n_group)

        # Rank candidates: mean log-prob (or Google NMT length penalty) per Whisper.
        best, best_rank = 0, -np.inf
        lengths = [len(s) for s in seqs]
        for i, (length, score) in enumerate(zip(lengths, scores)):
            if opts.length_penalty is None:
                rank = score / max(length, 1)
            else:
                rank = score / (((5 + length) / 6) ** opts.length_penalty)
            if rank > best_rank:
                best, best_rank = i, rank
        tokens = seqs[best]
        text = tok.decode(tokens).strip()
        return DecodingResult(
            tokens=tokens,
            text=text,
            avg_logprob=float(scores[best] / (len(tokens) + 1)),
            no_speech_prob=no_speech_prob,
            temperature=opts.temperature,
            compression_ratio=compression_ratio(text),
            timings={"decode_s": time.perf_counter() - t0, "steps": steps},
            token_logprobs=token_lps[best][: len(tokens)],
        )

    # -- greedy / sampling ----------------------------------------------------------------------------
    def _sample(self, session, logits, initial, rules, sample_len, opts, n):
        tok = self.tok
        rng = np.random.default_rng(opts.seed)
        seqs = [list(initial) for _ in range(n)]
        sum_lp = np.zeros(n)
        token_lps: list[list[float]] = [[] for _ in range(n)]
        done = np.zeros(n, dtype=bool)
        abort = opts.abort_compression_ratio if opts.temperature > 0 else None
        steps = 0
        for _ in range(sample_len):
            logits = logits.astype(np.float32, copy=True)
            lp = rules.apply(logits, seqs)
            if lp is None:
                lp = log_softmax(logits)
            if opts.temperature == 0:
                nxt = lp.argmax(axis=-1)
            else:
                gumbel = -np.log(-np.log(rng.random(logits.shape, dtype=np.float32) + 1e-20) + 1e-20)
                nxt = (logits / np.float32(opts.temperature) + gumbel).argmax(axis=-1)  # Gumbel-max sampling
            for k in range(n):
                if done[k]:
                    continue
                sum_lp[k] += lp[k, nxt[k]]
                token_lps[k].append(float(lp[k, nxt[k]]))
                seqs[k].append(int(nxt[k]))
                done[k] = nxt[k] == tok.eot
            steps += 1
            self._check_cancel(steps)
            if abort is not None and steps % 16 == 0:
                for k in map(int, np.flatnonzero(~done)):
                    if compression_ratio(tok.decode(seqs[k][len(initial) :])) > abort:
                        done[k] = True  # already too repetitive: rejected whatever follows
            if done.all() or len(seqs[0]) >= len(initial) + sample_len:
                break
            feed = np.array([[s[-1] if not d else tok.eot] for s, d in zip(seqs, done)], dtype=np.int64)
            logits = session.step(feed)
        out = [self._strip(s[len(initial) :]) for s in seqs]
        return out, list(sum_lp), steps, token_lps

    def _check_cancel(self, steps: int) -> None:
        if steps % 8 == 0 and self._cancel is not None and self._cancel.is_set():
            raise Cancelled()

    def _strip(self, sampled: list[int]) -> list[int]:
        return sampled[: sampled.index(self.tok.eot)] if self.tok.eot in sampled else sampled

    # -- beam search ----------------------------------------------------------------------------------
    def _beam(self, session, logits, initial, rules, sample_len, opts):
        tok = self.tok
        beam = opts.beam_size
        max_finished = max(1, round(beam * (opts.patience or 1.0)))
        seqs = [list(initial) for _ in range(beam)]
        sum_lp = [0.0] * beam
        token_lps: list[list[float]] = [[] for _ in range(beam)]
        finished: dict[tuple[int, ...], float] = {}
        finished_lps: dict[tuple[int, ...], list[float]] = {}
        steps = 0
        for _ in range(sample_len):
            logits = logits.astype(np.float32, copy=True)
            lp = rules.apply(logits, seqs)
            if lp is None:
                lp = log_softmax(logits)
            candidates: dict[tuple[int, ...], tuple[float, int, float]] = {}
            for k in range(len(seqs)):
                top = np.argsort(-lp[k])[: beam + 1]
                for t in top:
                    if not np.isfinite(lp[k, t]):
                        continue
                    seq = tuple(seqs[k]) + (int(t),)
                    score = sum_lp[k] + float(lp[k, t])
                    if seq not in candidates or candidates[seq][0] < score:
                        candidates[seq] = (score, k, float(lp[k, t]))
            new_seqs, new_lp, source, new_tlp = [], [], [], []
            for seq, (score, k, step_lp) in sorted(candidates.items(), key=lambda kv: -kv[1][0]):
                if seq[-1] == tok.eot:
                    if len(finished) < max_finished:
                        finished[seq[:-1]] = score
                        finished_lps[seq[:-1]] = token_lps[k]
                else:
                    new_seqs.append(list(seq))
                    new_lp.append(score)
                    source.append(k)
                    new_tlp.append(token_lps[k] + [step_lp])
                if len(new_seqs) >= beam:
                    break
            steps += 1
            self._check_cancel(steps)
            if len(finished) >= max_finished or not new_seqs:
                break
            if len(new_seqs[0]) >= len(initial) + sample_len:
                for s, sc, tl in zip(new_seqs, new_lp, new_tlp):
                    finished.setdefault(tuple(s), sc)
                    finished_lps.setdefault(tuple(s), tl)
                break
            session.reorder(np.array(source, dtype=np.int64))
            seqs, sum_lp, token_lps = new_seqs, new_lp, new_tlp
            logits = session.step(np.array([[s[-1]] for s in seqs], dtype=np.int64))
        if not finished:
            finished = {tuple(s): sc for s, sc in zip(seqs, sum_lp)}
            finished_lps = {tuple(s): tl for s, tl in zip(seqs, token_lps)}
        out = [list(s[len(initial) :]) for s in finished]
        return out, list(finished.values()), steps, [finished_lps.get(s, []) for s in finished]


def with_temperature(opts: DecodingOptions, t: float) -> DecodingOptions:
    if t > 0:
        return replace(opts, temperature=t, beam_size=None, best_of=opts.best_of or 1)
    return replace(opts, temperature=0.0, best_of=None)
