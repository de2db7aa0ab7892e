"""``amanuensis dictate``: live dictation in a terminal.

Partials are rewritten on one line (``\\r``; grey on a terminal), finals get their own lines. The microphone
opens before the model loads, so nothing said during start-up is lost. Ctrl-C stops cleanly: everything
already heard is transcribed and printed before exit (a second Ctrl-C quits at once). Errors are one
sentence on stderr with a non-zero exit code, never a traceback.

Wiring (cli.py): ``p = sub.add_parser("dictate", help=...); add_arguments(p)``, then ``return run(args)``.
"""

from __future__ import annotations

import argparse
import sys
import threading

from ..audio.speech_gate import DEFAULT_THRESHOLD, threshold_argument
from ..errors import UserError, one_sentence

GREY, RESET, CLEAR = "\x1b[90m", "\x1b[0m", "\x1b[2K"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="input device: a name (or part of one) or an index; see --list-devices")
    parser.add_argument("--list-devices", action="store_true", help="list the input devices and exit")
    parser.add_argument("--backend", default="auto", help="auto (fastest available), openvino, npu or cpu")
    parser.add_argument("--model", default=None, help="a catalog name, a downloaded OWNER/REPO, or a model folder")
    parser.add_argument(
        "--vad-aggressiveness",
        type=int,
        choices=(0, 1, 2, 3),
        default=2,
        help="how strictly the voice detector rejects non-speech (0-3, default 2)",
    )
    parser.add_argument(
        "--vad-threshold",
        type=threshold_argument,
        default=DEFAULT_THRESHOLD,
        metavar="P",
        help=f"speech probability (0-1) from which the neural speech gate hears speech (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--no-vad",
        action="store_true",
        help="no neural speech gate: transcribe every segment the voice detector cuts, noise included",
    )
    parser.add_argument(
        "--input", metavar="FILE", help="play FILE through the live pipeline in real time instead of the microphone"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="with --input: playback speed (default 1.0)")
    parser.add_argument("--no-partials", action="store_true", help="print final text only")
    parser.add_argument("--no-prompt", action="store_true", help="do not use the previous text as context")
    parser.add_argument("--timestamps", action="store_true", help="prefix finals with [start - end] seconds")


class _Printer:
    def __init__(self, out, err, partials: bool, timestamps: bool):
        self.out, self.err = out, err
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.partials, self.timestamps = partials, timestamps
        self.lock = threading.Lock()
        self.shown = 0  # length of the partial on the current line
        self.failed = False
        self.backend = ""

    def _clear(self) -> str:
        shown, self.shown = self.shown, 0
        if not shown:
            return ""
        return "\r" + CLEAR if self.tty else "\r" + " " * shown + "\r"

    def __call__(self, ev) -> None:
        from .events import BackendInfo, Error, Final, Partial

        with self.lock:
            if isinstance(ev, Partial) and self.partials:
                text = ev.text.strip()
                if self.tty:
                    width = 0
                    try:
                        import shutil

                        width = shutil.get_terminal_size().columns - 1
                    except Exception:
                        pass
                    if width > 10 and len(text) > width:
                        text = "…" + text[-(width - 1) :]
                    line = (
                        f"\r{CLEAR}{ev.stable}{GREY}{ev.unstable}{RESET}"
                        if len(text) == len(ev.text.strip())
                        else f"\r{CLEAR}{GREY}{text}{RESET}"
                    )
                else:
                    line = "\r" + text + " " * max(0, self.shown - len(text))
                self.out.write(line)
                self.out.flush()
                self.shown = max(len(text), 1)
            elif isinstance(ev, Final):
                shown, self.shown = self.shown, 0
                text = ev.text.strip()
                stamp = f"[{ev.start:7.2f} - {ev.end:7.2f}] " if self.timestamps and text else ""
                if self.tty:
                    line = ("\r" + CLEAR if shown else "") + (f"{stamp}{text}\n" if text else "")
                elif text:  # overwrite the partial with spaces where the final is shorter
                    line = ("\r" if shown else "") + f"{stamp}{text}".ljust(shown) + "\n"
                else:
                    line = "\r" + " " * shown + "\r" if shown else ""
                self.out.write(line)
                self.out.flush()
            elif isinstance(ev, Error):
                self.out.write(self._clear())
                self.out.flush()
                self.err.write(f"amanuensis: {ev.message}\n")
                self.err.flush()
                if ev.fatal:
                    self.failed = True
            elif isinstance(ev, BackendInfo) and ev.label and ev.label != self.backend:
                self.backend = ev.label
                self.err.write(f"amanuensis: transcribing with {ev.label}\n")
                self.err.flush()


def _list(out) -> int:
    from ..audio.devices import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("No input device found.", file=out)
        return 1
    for d in devices:
        mark = "*" if d["is_default"] else " "
        print(f"{mark} {d['index']:>3}  {d['name']}  ({d['channels']} ch, {d['default_samplerate']:.0f} Hz)", file=out)
    return 0


def run(args: argparse.Namespace, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(args, out, err)
    except UserError as exc:
        err.write(f"amanuensis: {one_sentence(exc)}\n")
        return 1
    except KeyboardInterrupt:
        err.write("amanuensis: interrupted.\n")
        return 130
    except Exception as exc:  # never a traceback
        err.write(f"amanuensis: {one_sentence(exc, 'Dictation failed unexpectedly')}\n")
        return 1


def _run(args, out, err) -> int:
    if getattr(args, "list_devices", False):
        return _list(out)
    from ..audio.sources import AudioSource, FileSource
    from .confirm import GateOptions
    from .pipeline import LiveOptions, LivePipeline
    from .vad import VadOptions

    speed = getattr(args, "speed", 1.0) or 1.0
    if speed <= 0:
        raise UserError("--speed must be a positive number.")
    source: AudioSource | None = None
    if getattr(args, "input", None):
        source = FileSource(args.input, speed=speed)
    opts = LiveOptions(
        device=getattr(args, "device", None),
        vad=VadOptions(aggressiveness=getattr(args, "vad_aggressiveness", 2)),
        use_prompt=not getattr(args, "no_prompt", False),
        partials=not getattr(args, "no_partials", False),
        language=getattr(args, "language", None),
        task=getattr(args, "task", "transcribe") or "transcribe",
        gate=GateOptions(
            enabled=not getattr(args, "no_vad", False),
            threshold=getattr(args, "vad_threshold", DEFAULT_THRESHOLD),
        ),
    )
    backend, model = getattr(args, "backend", "auto") or "auto", getattr(args, "model", None)

    def load_engine():
        from ..engine import Engine
        from ..whisper.language import check_request, model_can_translate

        engine = Engine.load(backend, model, notify=lambda note: err.write(f"amanuensis: {note}\n"))
        tok = getattr(engine, "tokenizer", None)  # a language or task the model cannot do: one sentence, early
        if tok is not None:
            can_translate = model_can_translate(
                tok, getattr(engine, "model_folder", None), getattr(engine, "dims", None)
            )
            check_request(tok, opts.language, opts.task, can_translate=can_translate, model_name="This model")
        return engine

    printer = _Printer(out, err, partials=opts.partials, timestamps=getattr(args, "timestamps", False))
    # The source opens first (the engine loads on the worker thread): speech during start-up is kept.
    pipeline = LivePipeline(load_engine, opts, printer, source=source)
    pipeline.start()
    if source is None and pipeline.source is not None:
        err.write(f"amanuensis: listening on '{pipeline.source.label}' — press Ctrl-C to stop.\n")
        err.flush()
    try:
        while not pipeline.wait(0.25):
            pass
    except KeyboardInterrupt:
        err.write("\namanuensis: stopping — finishing the transcription (Ctrl-C again to quit now).\n")
        err.flush()
        try:
            pipeline.stop()
        except KeyboardInterrupt:
            return 130
    pipeline.stop()
    return 1 if printer.failed else 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience for `python -m`
    parser = argparse.ArgumentParser(prog="amanuensis dictate", description="Live dictation.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
