"""``amanuensis``: the window (no subcommand), ``transcribe``, ``dictate``, ``backends``, ``bench``.

Every error a user can cause is one sentence on stderr and a non-zero exit, never a traceback. The library
logs through ``logging``; :func:`main` shows WARNING and above, ``-v`` INFO, ``-vv`` DEBUG.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends.names import PRECISIONS
from .errors import UserError, one_sentence
from .formats import FORMATS
from .versions import VersionAction

if TYPE_CHECKING:
    from .audio.isolated import Decoded
    from .engine import Engine

logger = logging.getLogger(__name__)

LOG_FORMAT = "amanuensis: %(levelname)s %(name)s: %(message)s"
MODEL_HELP = "a catalog name (see `amanuensis models`), a downloaded OWNER/REPO, or a model folder (default: tiny.en)"


def _say(message: str) -> None:
    """One line for the user on stderr (the CLI's own output, not a log record). File names in it may hold
    newlines, escapes, RTL marks or bytes that are not UTF-8: they are shown escaped, on one line."""
    from .display import shown

    print(f"amanuensis: {shown(message)}", file=sys.stderr)


def _fail(message: str, code: int = 1) -> int:
    _say(message)
    return code


def configure_logging(verbosity: int) -> None:
    """WARNING and above by default; 1 = INFO, 2 or more = DEBUG. Records go to stderr."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr, force=True)


# -- transcribe -------------------------------------------------------------------------------------
def _add_engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        default="auto",
        help="auto (NPU, then OpenVINO, then CPU; each must pass its self-check), cpu (numpy), openvino or npu",
    )
    p.add_argument("--device", default=None, help="OpenVINO device: AUTO, CPU, GPU or NPU (default AUTO)")
    p.add_argument(
        "--precision",
        default=None,
        choices=PRECISIONS,
        help="OpenVINO weights: int8 (default), f16, or f32 (exact, slowest)",
    )
    p.add_argument("--model", default=None, help=MODEL_HELP)


def _add_language_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--language", default="auto", help="spoken language: auto (detected per 30 s window) or a code (en, de, fr…)"
    )
    p.add_argument("--task", default="transcribe", choices=("transcribe", "translate"), help="translate: into English")


def _add_gate_args(p: argparse.ArgumentParser) -> None:
    from .audio.speech_gate import DEFAULT_THRESHOLD, threshold_argument

    p.add_argument(
        "--vad-threshold",
        type=threshold_argument,
        default=DEFAULT_THRESHOLD,
        metavar="P",
        help=f"speech probability (0-1) from which the neural speech gate hears speech (default {DEFAULT_THRESHOLD})",
    )
    p.add_argument(
        "--no-vad", action="store_true", help="no neural speech gate: Whisper runs over the whole file, noise included"
    )


def _load_engine(args: argparse.Namespace) -> Engine:
    from .engine import Engine

    options = {k: getattr(args, k) for k in ("device", "precision") if getattr(args, k, None)}
    return Engine.load(args.backend, args.model, notify=_say, **options)


def _check_language(engine: Engine, args: argparse.Namespace) -> None:
    """Refuse a language or task the model cannot do, once, before any file (raises a one-sentence ModelError)."""
    from .whisper.language import check_request, model_can_translate

    tok = engine.tokenizer
    name = f"The model {args.model}" if args.model else "The embedded tiny.en model"
    can_translate = model_can_translate(tok, engine.model_folder, engine.dims)
    check_request(tok, args.language, args.task, can_translate=can_translate, model_name=name)


def _transcribe(args: argparse.Namespace) -> int:
    if args.beam_size is not None and args.beam_size < 1:
        return _fail("--beam-size must be 1 or more.", 2)
    if args.max_words_per_cue is not None and args.max_words_per_cue < 1:
        return _fail("--max-words-per-cue must be 1 or more.", 2)
    if args.max_words_per_cue is not None:
        args.word_timestamps = True  # cues cut at words need the words' times
    out_dir = Path(args.output_dir) if args.output_dir else None
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _fail(f"Cannot create output folder {out_dir}: {exc.strerror or exc}.")
    from concurrent.futures import ThreadPoolExecutor

    from .audio.isolated import decode_file, warm_up

    warm_up()  # the decoding fork server starts while the model loads
    # Files are decoded one ahead on a thread: the first while the model loads, the next while one transcribes.
    # Each is decoded in a bounded child process: a hostile file costs only itself.
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as pool:
        pending = pool.submit(decode_file, args.files[0])
        engine = _load_engine(args)
        _check_language(engine, args)
        _say(f"transcribing on {engine.backend.label}")
        failures = 0
        for i, name in enumerate(args.files):
            decoded = pending
            if i + 1 < len(args.files):
                pending = pool.submit(decode_file, args.files[i + 1])
            try:
                failures += _transcribe_one(engine, name, args, out_dir, decoded.result())
            except UserError as exc:
                _say(str(exc))
                failures += 1
            except OSError as exc:
                _say(f"{name}: {one_sentence(exc)}")
                failures += 1
    return 1 if failures else 0


def _transcribe_one(engine: Engine, name: str, args: argparse.Namespace, out_dir: Path | None, decoded: Decoded) -> int:
    """Transcribe one file's decoded audio and print or write it; returns 1 when it was truncated."""
    from .formats import format_transcript, transcript_meta, write_transcript
    from .whisper.audio import SAMPLE_RATE

    audio, warning = decoded.audio, decoded.warning
    if warning:  # keep what decoded (no data is lost), but say so and exit non-zero
        _say(warning)
    duration = audio.size / SAMPLE_RATE
    bar = progress = None
    if duration > 30 and sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=round(duration, 1), unit="s", desc=Path(name).name, file=sys.stderr, leave=False)

        def progress(done: float, _total: float, bar=bar) -> None:
            bar.update(round(done, 1) - bar.n)

    from .whisper.transcribe import TranscribeOptions

    options = TranscribeOptions(
        beam_size=args.beam_size if args.beam_size and args.beam_size > 1 else None,
        initial_prompt=args.initial_prompt,
        condition_on_previous_text=not args.no_condition,
        word_timestamps=args.word_timestamps,
        language=args.language,
        task=args.task,
    )
    try:
        if getattr(args, "no_vad", False):
            result = engine.transcribe(audio, options, progress=progress)
        else:  # Whisper only over the speech regions: silence, music and noise are skipped
            from .audio.speech_regions import RegionOptions
            from .whisper.speech_only import transcribe_speech

            regions = RegionOptions(threshold=args.vad_threshold)
            result = transcribe_speech(engine, audio, options, regions, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if engine.tokenizer.multilingual and args.language == "auto" and result.language:
        _say(f"{Path(name).name}: language {result.language} ({result.language_probability:.0%})")
    if out_dir is not None:
        path = out_dir / f"{Path(name).stem}.{args.format}"
        write_transcript(result.segments, args.format, path, transcript_meta(result), args.max_words_per_cue)
        _say(f"wrote {path}")
    elif args.format == "txt":
        print(result.text, flush=True)
    else:
        sys.stdout.write(
            format_transcript(result.segments, args.format, transcript_meta(result), args.max_words_per_cue)
        )
        sys.stdout.flush()
    return 1 if warning else 0


def _backends(args: argparse.Namespace) -> int:
    from .backends import probe_all, select
    from .whisper.model import load_weights

    for status in probe_all():
        print(status.line())
    if args.check:
        os.environ["AMANUENSIS_RECHECK"] = "1"  # a real self-check, not the verdict stored by an earlier start
        selection = select("auto", load_weights(args.model))
        print(f"auto selects: {selection.backend.label}")
        for status in selection.statuses:
            if status.reason.startswith(("refused", "failed")):
                print(f"  {status.name}: {status.reason}")
        selection.backend.close()
    return 0


def _bench(args: argparse.Namespace) -> int:
    if getattr(sys, "frozen", False):  # the bench runs each backend in a fresh Python subprocess
        return _fail("the bench needs a Python install of amanuensis (pipx install amanuensis-desktop).")
    if getattr(args, "peers", None) is not None:
        from .bench import peers

        return peers.run(args)
    if getattr(args, "noise", False):
        from .bench import noise

        return noise.run(args) or 0
    if args.live:
        from .bench import live

        return live.run(args) or 0
    if args.npu_emulated:
        from .bench import npu

        return npu.run(args) or 0
    from .bench import files

    return files.run(args) or 0


def _dictate(args: argparse.Namespace) -> int:
    from .live import command

    if getattr(args, "output", "stdout") != "stdout":
        return _dictate_anywhere(args)
    return command.run(args) or 0


def _dictate_anywhere(args: argparse.Namespace) -> int:
    """``dictate --output type|paste|clipboard``: finals into the focused app, until Ctrl-C."""
    from .audio.sources import AudioSource, FileSource
    from .live.pipeline import LiveOptions
    from .live.vad import VadOptions
    from .output.command import run_dictate_anywhere

    if args.speed <= 0:
        return _fail("--speed must be a positive number.", 2)

    def live_options() -> LiveOptions:
        from .audio.speech_gate import DEFAULT_THRESHOLD
        from .live.confirm import GateOptions

        return LiveOptions(
            device=args.device,
            vad=VadOptions(aggressiveness=args.vad_aggressiveness),
            use_prompt=not args.no_prompt,
            partials=False,  # only finals are typed
            gate=GateOptions(
                enabled=not getattr(args, "no_vad", False),
                threshold=getattr(args, "vad_threshold", DEFAULT_THRESHOLD),
            ),
        )

    def file_source() -> AudioSource:
        return FileSource(args.input, speed=args.speed)

    def load_engine() -> Any:
        from .engine import Engine

        return Engine.load(args.backend or "auto", args.model)

    return run_dictate_anywhere(args, live_options, file_source if args.input else None, load_engine)


def _type(args: argparse.Namespace) -> int:
    from .output.command import run_type

    return run_type(args)


def _control(args: argparse.Namespace) -> int:
    from .output.command import run_control

    return run_control(args.command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amanuensis", description="Live dictation with Whisper.")
    parser.add_argument("--version", action=VersionAction, help="the versions of amanuensis and of its runtimes")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more: -v for INFO, -vv for DEBUG")
    parser.add_argument("--tray", action="store_true", help="start the window hidden, in the system tray")
    parser.add_argument("--dictate", action="store_true", help="start dictating as soon as the window is up")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # -v also after the subcommand ("amanuensis transcribe -v FILE"); SUPPRESS keeps a -v given before it
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log more: -v for INFO, -vv for DEBUG"
    )

    p = sub.add_parser("transcribe", parents=[verbosity], help="transcribe audio or video files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", default="txt", choices=FORMATS)
    p.add_argument("--output-dir", default=None, help="write FILE.<format> here instead of printing")
    _add_engine_args(p)
    p.add_argument("--beam-size", type=int, default=None, help="beam search width (default: greedy)")
    p.add_argument("--initial-prompt", default=None, help="text that steers spelling and style")
    p.add_argument("--no-condition", action="store_true", help="do not prompt each window with the previous text")
    _add_language_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--word-timestamps", action="store_true", help="time and weigh every word (JSON: words per segment)")
    p.add_argument("--max-words-per-cue", type=int, default=None, metavar="N", help="SRT/VTT: cues of at most N words")
    _add_gate_args(p)
    p.set_defaults(func=_transcribe)

    p = sub.add_parser("backends", parents=[verbosity], help="list the backends, available or not, and why")
    p.add_argument(
        "--check", action="store_true", help="also build backends in auto's order, with self-checks, until one passes"
    )
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.set_defaults(func=_backends)

    p = sub.add_parser("bench", parents=[verbosity], help="measure speed, memory and accuracy")
    p.add_argument("--live", action="store_true", help="live dictation latency, backlog and idle CPU")
    p.add_argument("--ptt", action="store_true", help="with --live: push-to-talk, released at each utterance's end")
    p.add_argument("--npu-emulated", action="store_true", help="NPU work split and predicted time")
    p.add_argument(
        "--noise",
        action="store_true",
        help="words from noise, WER and cost with and without the speech gate (with --live: also live)",
    )
    p.add_argument("--runs", type=int, default=5, help="runs per measurement (the median is reported)")
    p.add_argument("--peers", nargs="*", default=None, metavar="MODEL", help="vs GenAI, faster-whisper, whisper.cpp")
    p.add_argument("--rounds", type=int, default=5, help="with --peers: interleaved rounds (medians reported)")
    p.add_argument("--hog", action="store_true", help="with --peers: keep one core busy with a busy loop")
    p.add_argument("--backends", nargs="*", default=None, help="backends to measure (default: all available)")
    p.add_argument("--backend", default="auto", help="backend for --live")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON")
    p.add_argument("--no-peer", action="store_true", help="skip faster-whisper")
    p.add_argument("--device", default=None, help="OpenVINO device for the bench (default AUTO)")
    p.add_argument("--precision", default=None, choices=PRECISIONS, help="OpenVINO weights")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.set_defaults(func=_bench)

    p = sub.add_parser("dictate", parents=[verbosity], help="dictate in the terminal (microphone or --input FILE)")
    from .live import command as live_command

    live_command.add_arguments(p)
    _add_language_args(p)
    from .output.command import add_dictate_output_arguments, add_type_arguments

    add_dictate_output_arguments(p)
    p.set_defaults(func=_dictate)

    p = sub.add_parser(
        "type", parents=[verbosity], help="type TEXT into the focused app through the dictation's route (a check)"
    )
    add_type_arguments(p)
    p.set_defaults(func=_type)

    for name, text in (
        ("toggle", "start or stop dictation in the running instance"),
        ("ptt-press", "push-to-talk pressed: start dictation in the running instance"),
        ("ptt-release", "push-to-talk released: stop it"),
        ("status", "print idle, listening or finishing"),
        ("type-transcript", "type the window's reviewed transcript (or its selection) into the app you are in"),
    ):
        p = sub.add_parser(name, parents=[verbosity], help=text)
        p.set_defaults(func=_control)

    from .models import command as models_command

    models_command.add_parser(sub, parents=[verbosity])
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        if args.command is None:
            from .ui.app import main as app_main

            return app_main((["--tray"] if args.tray else []) + (["--dictate"] if args.dictate else []))
        model = getattr(args, "model", None)
        if isinstance(model, str) and model:  # NAME | OWNER/REPO | folder -> the folder, from disk alone
            from .models.store import resolve_model

            args.model = str(resolve_model(model))
        return args.func(args)
    except UserError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted.", 130)
    except BrokenPipeError:
        return 0
    except ImportError as exc:
        if os.environ.get("AMANUENSIS_DEBUG"):
            raise
        return _fail(f"a required component is missing ({exc.name or exc}); run 'make run' to install everything.")
    except Exception as exc:  # last resort: one sentence, details on request
        if os.environ.get("AMANUENSIS_DEBUG"):
            raise
        logger.debug("unexpected error", exc_info=True)
        return _fail(f"unexpected error: {one_sentence(exc).rstrip('.')} (set AMANUENSIS_DEBUG=1 for details).")


if __name__ == "__main__":
    sys.exit(main())
