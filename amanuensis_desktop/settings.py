"""Settings of the desktop app: names, defaults and the data folder. No Qt here (the window persists these
values with QSettings; see ``amanuensis_desktop.ui.settings_store``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .backends.names import PREFERENCE, BackendName

APP_NAME = "amanuensis"
#: The app id: the desktop entry, the icon and the AppStream metadata are named after it (packaging/).
APP_ID = "io.github.amanuensis.Amanuensis"

BACKEND_CHOICES: tuple[str, ...] = (BackendName.AUTO, *reversed(PREFERENCE))  # auto, then cpu → npu
VAD_CHOICES = (0, 1, 2, 3)
TASK_CHOICES = ("transcribe", "translate")

#: key -> default. Every value is a str, bool or int; the type of the default is the type of the setting.
DEFAULTS: dict[str, object] = {
    "model": "",  # a catalog name, a downloaded OWNER/REPO or a model folder; empty = the embedded tiny.en
    "backend": "auto",  # auto / cpu / openvino / npu
    "input_device": "",  # an input device name; empty = the system default
    "vad_aggressiveness": 2,  # webrtcvad 0 (least) .. 3 (most aggressive)
    "speech_gate": True,  # the neural speech detector gates dictation and file transcription
    "vad_threshold_percent": 50,  # its speech probability threshold, in percent (1-99)
    "copy_finals_to_clipboard": False,  # copy each final sentence to the clipboard
    "clipboard_secret": False,  # mark copied text secret (x-kde-passwordManagerHint): no clipboard history
    "close_to_tray": True,  # closing the window keeps the app in the tray (when there is one)
    "autosave_dir": "",  # empty = <data folder>/autosave
    "mark_unsure_words": True,  # time and weigh the words of finals and files; underline the unsure ones (on: the
    # OpenVINO alignment pass adds no measurable delay to live finals and ~4 % to files; docs/decisions/words.md)
    "unsure_word_percent": 50,  # a word below this probability (percent) is unsure
    "words_per_cue": 0,  # SRT/VTT exports from the window: 0 = a cue per segment, N = cues of at most N timed words
    "language": "auto",  # the spoken language: auto (detected per 30 s window) or a code such as en, de
    "task": "transcribe",  # or translate (into English)
    "output_mode": "window",  # where finals go: window / type / paste / clipboard (output.sink.OutputMode)
    "spoken_commands": True,  # "new line", "new paragraph", "scratch that"
    "toggle_hotkey": "",  # global hotkey that starts/stops dictation, e.g. ctrl+alt+d; empty = none
    "ptt_hotkey": "",  # global push-to-talk key, e.g. F9; empty = none
    "listening_indicator": True,  # the small always-on-top indicator while dictating into other apps
    "start_stop_sounds": False,  # a short tone when dictation starts and stops
    "first_run_done": False,  # the first-run bar was acknowledged (ui/first_run.py)
}

OUTPUT_MODE_CHOICES = ("window", "type", "paste", "clipboard")
MAX_WORDS_PER_CUE = 20


def data_dir() -> Path:
    """The user data folder: $AMANUENSIS_DATA_DIR, else platformdirs' user_data_dir("amanuensis")."""
    env = os.environ.get("AMANUENSIS_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def ensure_private_data_dir() -> Path:
    """Create the data folder readable by the user alone, and repair anything in it that others could read
    (a folder 0755 or a file 0644 left by an older version or a copy): 0700 folders, 0600 files."""
    from .storage import private_dir, repair_private_tree

    folder = private_dir(data_dir(), tighten=True)
    repair_private_tree(folder)
    return folder


def cache_dir() -> Path:
    """The user cache folder (compiled models): $AMANUENSIS_CACHE_DIR, else platformdirs' user_cache_dir."""
    env = os.environ.get("AMANUENSIS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


def speech_threshold(values: dict[str, object]) -> float | None:
    """The speech gate's threshold (0-1) from validated settings, or None when the gate is off."""
    if not values["speech_gate"]:
        return None
    return int(str(values["vad_threshold_percent"])) / 100.0


def autosave_dir(setting: str | os.PathLike | None = None) -> Path:
    """Where session transcripts are autosaved: the autosave-folder setting, else <data folder>/autosave."""
    if setting:
        return Path(setting).expanduser()
    return data_dir() / "autosave"


def coerce(key: str, value: object) -> object:
    """``value`` (as stored: possibly a string) converted to the type of ``key``'s default."""
    default = DEFAULTS[key]
    if value is None:
        return default
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(value, (int, float)):
            return bool(value)
        return default  # a list, a byte string...: not a yes or a no
    if isinstance(default, int):
        if not isinstance(value, (str, int, float)):
            return default
        try:
            return int(value)
        except (ValueError, OverflowError):  # "abc", "1e999", nan, inf
            return default
    if not isinstance(value, str) or "\x00" in value or len(value) > 4096:
        return default  # a list (QSettings reads "a,b" as one), an embedded NUL (no path can hold it), a flood
    return value


def validate(values: dict[str, object]) -> dict[str, object]:
    """Defaults for unknown or out-of-range values."""
    out = {k: coerce(k, values.get(k, v)) for k, v in DEFAULTS.items()}
    if out["backend"] not in BACKEND_CHOICES:
        out["backend"] = DEFAULTS["backend"]
    if out["vad_aggressiveness"] not in VAD_CHOICES:
        out["vad_aggressiveness"] = DEFAULTS["vad_aggressiveness"]
    if not 1 <= int(out["unsure_word_percent"]) <= 99:  # type: ignore[call-overload]
        out["unsure_word_percent"] = DEFAULTS["unsure_word_percent"]
    if not 0 <= int(str(out["words_per_cue"])) <= MAX_WORDS_PER_CUE:
        out["words_per_cue"] = DEFAULTS["words_per_cue"]
    if out["task"] not in TASK_CHOICES:
        out["task"] = DEFAULTS["task"]
    out["language"] = str(out["language"]).strip().lower() or DEFAULTS["language"]
    if not 1 <= int(str(out["vad_threshold_percent"])) <= 99:
        out["vad_threshold_percent"] = DEFAULTS["vad_threshold_percent"]
    if out["output_mode"] not in OUTPUT_MODE_CHOICES:
        out["output_mode"] = DEFAULTS["output_mode"]
    return out
