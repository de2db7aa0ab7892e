"""The peer bench's figures: medians, paired ratios (ours / each peer, round by round) and the Markdown tables."""

from __future__ import annotations

import statistics
from typing import Any

FILES = ("jfk", "long")
KINDS = ("whole", "inproc")
OURS = ("ours", "ours-default")
PEERS = ("genai", "faster-whisper", "whisper.cpp")
NAMES = {
    "ours": "amanuensis, same decoding",
    "ours-default": "amanuensis, default mode",
    "genai": "OpenVINO GenAI",
    "faster-whisper": "faster-whisper",
    "whisper.cpp": "whisper.cpp",
}


def median(values: list[float] | None) -> float | None:
    vals = [v for v in values or () if v is not None]
    return statistics.median(vals) if vals else None


def paired_ratio(ours: list[float | None], peer: list[float | None]) -> float | None:
    """The median over rounds of ours[r] / peer[r] (< 1: we are faster); rounds missing either side are skipped."""
    ratios = [a / b for a, b in zip(ours, peer) if a is not None and b is not None and b > 0]
    return statistics.median(ratios) if ratios else None


def _s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _x(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def times_table(result: dict[str, Any]) -> str:
    """One row per engine: median times per file (whole process, in process), peak RSS, WER."""
    dur = result.get("durations", {})
    head = ["engine"]
    for f in FILES:
        d = dur.get(f)
        name = f"{f} {d:.0f} s" if d else f
        head += [f"{name} whole", f"{name} in process"]
    head += ["peak RSS (long, whole)", "WER jfk", "WER long", "WER long (whole process)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, e in result["engines"].items():
        label = e.get("label") or NAMES.get(key, key)
        if e.get("error"):
            lines.append(f"| {label} | error: {e['error']} |")
            continue
        row = [f"{NAMES.get(key, key)} ({label})" if key in OURS else label]
        for f in FILES:
            row += [_s(median(e.get("whole", {}).get(f))), _s(median(e.get("inproc", {}).get(f)))]
        rss = median(e.get("rss_mb"))
        row += ["–" if rss is None else f"{rss:.0f} MB"]
        row += [_pct(e.get("wer", {}).get(f)) for f in FILES]
        row += [_pct(e.get("wer_whole", {}).get("long"))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def ratios(result: dict[str, Any]) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{ours key: {peer: {"jfk whole": r, …}}}``, paired per round."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    engines = result["engines"]
    for o in OURS:
        if o not in engines or engines[o].get("error"):
            continue
        out[o] = {}
        for p in PEERS:
            if p not in engines or engines[p].get("error"):
                continue
            out[o][p] = {
                f"{f} {k}": paired_ratio(engines[o].get(k, {}).get(f, []), engines[p].get(k, {}).get(f, []))
                for f in FILES
                for k in KINDS
            }
    return out


def ratio_table(result: dict[str, Any]) -> str:
    cols = [f"{f} {k}" for f in FILES for k in KINDS]
    pretty = [c.replace("inproc", "in process") for c in cols]
    lines = ["| ours / peer (< 1: ours faster) | " + " | ".join(pretty) + " |", "|" + "---|" * (len(cols) + 1)]
    for o, peers in ratios(result).items():
        for p, r in peers.items():
            lines.append(f"| {NAMES[o]} / {NAMES[p]} | " + " | ".join(_x(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    load = result.get("load", {})
    hog = ", one core busy (a busy loop pinned to CPU 0)" if result.get("hog") else ""
    head = (
        f"### {result['model']}: medians of {result['rounds']} interleaved rounds{hog}; "
        f"load average before {load.get('before', '?')}, after {load.get('after', '?')}"
    )
    return "\n\n".join([head, times_table(result), ratio_table(result)])
