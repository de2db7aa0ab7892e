"""A seeded generator of hostile media files made from the shared recordings (a test rig; not shipped).

``generate(folder, seed, count)`` writes ``count`` cases and returns them: truncated at random points,
bit-flipped, WAV headers rewritten (absurd rates, channel counts, sizes, durations), wrong extensions,
zero-length and one-sample files, unusual encodings (8/24-bit, float, ADPCM, μ-law, A-law, 32 channels,
192 kHz), video without audio, containers with several audio streams, ten hours declared but two seconds
present, random bytes behind a real magic number, a folder named like a file and a FIFO. The same seed gives
the same files. ``python -m devtools.fuzzmedia OUT --seed 1 --count 500`` writes them for a look.
"""

from __future__ import annotations

import argparse
import os
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SR = 16000


@dataclass(frozen=True)
class Case:
    path: Path
    kind: str  # the category, e.g. "truncate", "bitflip", "header"
    detail: str  # what exactly was done (for the failure list)


def _speech(shared: Path) -> np.ndarray:
    """A short speech clip (goforward, else jfk's first 3 s, else a tone) at 16 kHz mono float32."""
    import soundfile as sf

    for name in ("goforward.wav", "jfk.wav"):
        p = shared / name
        if p.is_file():
            data, sr = sf.read(str(p), dtype="float32", always_2d=True)
            return data[: 3 * sr, 0].copy()
    t = np.arange(3 * SR) / SR
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _sf_bytes(x: np.ndarray, sr: int, fmt: str, subtype: str | None) -> bytes:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def _av_bytes(x: np.ndarray, sr: int, container: str, codec: str, audio_streams: int = 1, video: bool = False) -> bytes:
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        vs = None
        if video:
            vs = out.add_stream("mpeg4", rate=10)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        streams: list[Any] = [out.add_stream(codec, rate=sr) for _ in range(audio_streams)]
        for s in streams:
            s.layout = "mono"
        frame_len = 1024
        for i in range(0, max(0, len(x) - frame_len), frame_len):
            for s in streams:
                frame = av.AudioFrame.from_ndarray(
                    x[None, i : i + frame_len].astype(np.float32), format="flt", layout="mono"
                )
                frame.sample_rate, frame.pts = sr, i
                for packet in s.encode(frame):
                    out.mux(packet)
        for s in streams:
            for packet in s.encode():
                out.mux(packet)
        if vs is not None:
            for k in range(5):
                img = av.VideoFrame.from_ndarray(np.full((48, 64, 3), k * 40, np.uint8), format="rgb24")
                for packet in vs.encode(img):
                    out.mux(packet)
            for packet in vs.encode():
                out.mux(packet)
    return buf.getvalue()


def _video_only() -> bytes:
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vs = out.add_stream("mpeg4", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for k in range(10):
            img = av.VideoFrame.from_ndarray(np.full((48, 64, 3), k * 20, np.uint8), format="rgb24")
            for packet in vs.encode(img):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
    return buf.getvalue()


def bases(shared: Path) -> dict[str, bytes]:
    """Well-formed files of every encoding the cases start from: name (with extension) → bytes."""
    x = _speech(shared)
    x2 = x[: 2 * SR]
    out: dict[str, bytes] = {
        "pcm16.wav": _sf_bytes(x, SR, "WAV", "PCM_16"),
        "u8.wav": _sf_bytes(x2, SR, "WAV", "PCM_U8"),
        "pcm24.wav": _sf_bytes(x2, SR, "WAV", "PCM_24"),
        "float.wav": _sf_bytes(x2, SR, "WAV", "FLOAT"),
        "double.wav": _sf_bytes(x2, SR, "WAV", "DOUBLE"),
        "ima_adpcm.wav": _sf_bytes(x2, SR, "WAV", "IMA_ADPCM"),
        "ms_adpcm.wav": _sf_bytes(x2, SR, "WAV", "MS_ADPCM"),
        "ulaw.wav": _sf_bytes(x2, SR, "WAV", "ULAW"),
        "alaw.wav": _sf_bytes(x2, SR, "WAV", "ALAW"),
        "ch32.wav": _sf_bytes(np.repeat(x2[:SR, None], 32, axis=1), SR, "WAV", "PCM_16"),
        "r192k.wav": _sf_bytes(np.repeat(x2[:SR], 12), 192000, "WAV", "PCM_24"),
        "pcm24.flac": _sf_bytes(x2, SR, "FLAC", "PCM_24"),
        "vorbis.ogg": _sf_bytes(x2, SR, "OGG", "VORBIS"),
        "aiff.aiff": _sf_bytes(x2, SR, "AIFF", "PCM_16"),
        "one_sample.wav": _sf_bytes(x[:1], SR, "WAV", "PCM_16"),
        "one_sample.flac": _sf_bytes(x[:1], SR, "FLAC", "PCM_16"),
        "aac.m4a": _av_bytes(x2, SR, "mp4", "aac"),
        "two_streams.mkv": _av_bytes(x2, SR, "matroska", "aac", audio_streams=2),
        "with_video.mp4": _av_bytes(x2, SR, "mp4", "aac", video=True),
        "opus.webm": _av_bytes(np.repeat(x2, 3), 48000, "webm", "libopus") if _has_codec("libopus") else b"",
        "video_only.mp4": _video_only(),
    }
    try:
        out["mpeg.mp3"] = _sf_bytes(x2, SR, "MP3", "MPEG_LAYER_III")
    except Exception:  # libsndfile built without MPEG
        pass
    return {k: v for k, v in out.items() if v}


def _has_codec(name: str) -> bool:
    try:
        import av

        av.codec.Codec(name, "w")
        return True
    except Exception:
        return False


# -- mutations ---------------------------------------------------------------------------------------
def _truncate(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    cut = rng.randrange(0, len(data))
    return name, data[:cut], f"{name} cut at {cut}/{len(data)}"


def _bitflip(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    b = bytearray(data)
    n = rng.choice((1, 4, 32, 256))
    head = rng.random() < 0.5  # half the time aim at the first 256 bytes, where the headers are
    for _ in range(n):
        i = rng.randrange(0, min(len(b), 256) if head else len(b))
        b[i] ^= 1 << rng.randrange(8)
    return name, bytes(b), f"{name} {n} bits flipped{' in the header' if head else ''}"


def _wav_header(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    """Rewrite one field of a WAV's fmt/data chunks with an absurd value (the file must start RIFF/WAVE)."""
    b = bytearray(data)
    fields = {  # offset in a canonical 44-byte header: (struct format, absurd values)
        "channels": (22, "<H", (0, 1, 2, 32, 255, 65535)),
        "rate": (24, "<I", (0, 1, 7, 8000, 192000, 384000, 2**31 - 1, 2**32 - 1)),
        "byte_rate": (28, "<I", (0, 1, 2**32 - 1)),
        "block_align": (32, "<H", (0, 1, 3, 65535)),
        "bits": (34, "<H", (0, 1, 7, 12, 64, 65535)),
        "riff_size": (4, "<I", (0, 4, 2**32 - 1)),
        "data_size": (40, "<I", (0, 1, 3, 2**31, 2**32 - 2, 2**32 - 1)),
        "format_tag": (20, "<H", (0, 2, 3, 6, 7, 0xFFFE, 0x1234)),
    }
    key = rng.choice(sorted(fields))
    off, fmt, values = fields[key]
    v = rng.choice(values)
    if b[:4] == b"RIFF" and len(b) >= 44:
        struct.pack_into(fmt, b, off, v)
    return name, bytes(b), f"{name} {key}={v}"


def _wrong_ext(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    ext = rng.choice((".wav", ".mp3", ".flac", ".ogg", ".m4a", ".mp4", ".mkv", ".webm", ".txt", ".aiff", ""))
    stem = name.rsplit(".", 1)[0]
    return stem + "_as" + (ext or "_noext"), data, f"{name} named {ext or '(no extension)'}"


def _magic_garbage(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    magic = rng.choice(
        (
            b"RIFF\xff\xff\xff\xffWAVEfmt ",
            b"fLaC\x00\x00\x00\x22",
            b"OggS\x00\x02",
            b"ID3\x04\x00\x00\x00\x00\x00\x00",
            b"\x00\x00\x00\x20ftypM4A ",
            b"\x1aE\xdf\xa3",
            b"FORM\x00\x00\x00\x00AIFF",
            b"\xff\xfb\x90\x00",
        )
    )
    size = rng.choice((1, 16, 1000, 50_000))
    body = bytes(rng.getrandbits(8) for _ in range(min(size, 4096))) * (size // 4096 + 1)
    ext = {b"R": ".wav", b"f": ".flac", b"O": ".ogg", b"I": ".mp3", b"\x00": ".m4a", b"\x1a": ".mkv", b"F": ".aiff"}
    return "garbage" + ext.get(magic[:1], ".mp3"), magic + body[:size], f"{magic[:4]!r} + {size} random bytes"


MUTATIONS: dict[str, Callable[[random.Random, str, bytes], tuple[str, bytes, str]]] = {
    "truncate": _truncate,
    "bitflip": _bitflip,
    "header": _wav_header,
    "wrong_ext": _wrong_ext,
    "garbage": _magic_garbage,
}


def _ten_hours_declared(x: bytes) -> bytes:
    """A 16-bit mono WAV whose header promises ten hours; two seconds of samples follow."""
    n = len(x)
    declared = 10 * 3600 * SR * 2
    header = (
        b"RIFF" + struct.pack("<I", 36 + declared) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, SR, SR * 2, 2, 16)
    )
    return header + b"data" + struct.pack("<I", declared) + x[:n]


def specials(folder: Path, base: dict[str, bytes]) -> list[Case]:
    """The cases that are not mutations of bytes: fixed shapes every run has."""
    out: list[Case] = []

    def put(name: str, data: bytes, kind: str, detail: str) -> None:
        p = folder / name
        p.write_bytes(data)
        out.append(Case(p, kind, detail))

    pcm = base["pcm16.wav"]
    put("zero.wav", b"", "zero_length", "an empty .wav")
    put("zero.mp3", b"", "zero_length", "an empty .mp3")
    put(
        "ten_hours_declared.wav",
        _ten_hours_declared(pcm[44 : 44 + 2 * SR * 2]),
        "declared_long",
        "ten hours declared, two seconds present",
    )
    put("header_only.wav", pcm[:44], "truncate", "a WAV header and no samples")
    for name, data in base.items():
        put("base_" + name, data, "encoding", f"well-formed {name}")
    d = folder / "a_folder.wav"
    d.mkdir(exist_ok=True)
    out.append(Case(d, "not_a_file", "a folder named like a .wav"))
    fifo = folder / "a_fifo.wav"
    if not fifo.exists():
        os.mkfifo(fifo)
    out.append(Case(fifo, "not_a_file", "a FIFO named like a .wav"))
    out.append(Case(folder / "missing.wav", "not_a_file", "a path that does not exist"))
    return out


def generate(folder: str | os.PathLike, seed: int, count: int, shared: Path | None = None) -> list[Case]:
    """``count`` cases (at least the specials) in ``folder``, the same for the same seed."""
    from amanuensis_desktop.bench.corpus import shared_audio_dir

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = bases(shared or shared_audio_dir())
    cases = specials(folder, base)
    rng = random.Random(seed)
    wavs = [k for k in base if k.endswith(".wav")]
    kinds = sorted(MUTATIONS)
    i = 0
    while len(cases) < count:
        kind = kinds[i % len(kinds)]
        src = rng.choice(wavs if kind == "header" else sorted(base))
        name, data, detail = MUTATIONS[kind](rng, src, base[src])
        p = folder / f"{i:05d}_{kind}_{name}"
        p.write_bytes(data)
        cases.append(Case(p, kind, detail))
        i += 1
    return cases


def grow_while_read(path: Path, data: bytes, seconds: float = 3.0) -> None:
    """Write ``data`` (a WAV) slowly to ``path`` from a thread, as a recorder would (a file that grows)."""
    import threading
    import time

    def run() -> None:
        step = max(1, len(data) // 30)
        with open(path, "wb") as fh:
            for i in range(0, len(data), step):
                fh.write(data[i : i + step])
                fh.flush()
                time.sleep(seconds / 30)

    with open(path, "wb") as fh:
        fh.write(data[:4096])
    threading.Thread(target=run, daemon=True).start()


@dataclass
class Outcome:
    case: Case
    seconds: float
    error: str | None  # the one sentence, or None when text (audio) came out
    bad: str | None  # why this outcome breaks the rules (a traceback, a multi-line error, a hang...), or None


def check(cases: list[Case], time_bound: float = 30.0) -> list[Outcome]:
    """Decode every case through the app's entry point for untrusted files; judge each outcome."""
    import time

    from amanuensis_desktop.audio.isolated import DecodeLimits, decode_file
    from amanuensis_desktop.errors import AudioError

    limits = DecodeLimits(seconds=time_bound, seconds_per_mb=0.0)
    out: list[Outcome] = []
    for case in cases:
        t0 = time.monotonic()
        error = bad = None
        try:
            audio = decode_file(case.path, limits=limits).audio
            if audio.dtype != np.float32 or audio.ndim != 1 or not audio.size or not np.isfinite(audio).all():
                bad = f"bad audio {audio.dtype} {audio.shape}"
        except AudioError as exc:
            error = str(exc)
            if "\n" in error or not error.endswith(".") or "Traceback" in error:
                bad = f"not one sentence: {error!r}"
        except Exception as exc:  # anything else escaping is a failure of the rules
            bad = f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - t0
        if seconds > time_bound + 5:
            bad = bad or f"took {seconds:.1f} s"
        out.append(Outcome(case, seconds, error, bad))
    return out


def summary(outcomes: list[Outcome]) -> str:
    """One row per category: cases, text, one-sentence errors, rule breaks, slowest."""
    rows: dict[str, list[Outcome]] = {}
    for o in outcomes:
        rows.setdefault(o.case.kind, []).append(o)
    lines = [f"{'category':<14}{'cases':>6}{'text':>6}{'error':>7}{'broken':>8}{'max s':>8}"]
    for kind, os_ in sorted(rows.items()):
        text = sum(o.error is None and o.bad is None for o in os_)
        err = sum(o.error is not None for o in os_)
        lines.append(
            f"{kind:<14}{len(os_):>6}{text:>6}{err:>7}{sum(o.bad is not None for o in os_):>8}"
            f"{max(o.seconds for o in os_):>8.2f}"
        )
    for o in sorted(outcomes, key=lambda o: -o.seconds)[:3]:
        lines.append(f"slowest: {o.seconds:.2f} s {o.case.path.name} ({o.case.detail})")
    for o in outcomes:
        if o.bad:
            lines.append(f"BROKEN {o.case.path.name} ({o.case.detail}): {o.bad}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--run", action="store_true", help="also decode every case and print a summary")
    args = ap.parse_args(argv)
    cases = generate(args.out, args.seed, args.count)
    if not args.run:
        for c in cases:
            print(f"{c.kind}\t{c.path.name}\t{c.detail}")
        return 0
    import resource
    import time

    t0 = time.monotonic()
    outcomes = check(cases)
    print(summary(outcomes))
    from amanuensis_desktop.audio import isolated

    child = isolated.peak_child_rss / 2**20
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(outcomes)} cases in {time.monotonic() - t0:.1f} s; peak RSS: this process {own:.0f} MB, "
        f"largest decoding child {child:.0f} MB"
    )
    return 1 if any(o.bad for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
