"""Saving transcripts (TXT/SRT/VTT/JSON) and choosing or dropping files; the last folder and format are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from ..errors import UserError
from ..formats import transcript_meta as transcript_meta  # a file job's JSON fields, as the command line writes
from .settings_store import SettingsStore, UiKey

EXPORT_FILTERS = {
    "txt": "Plain text (*.txt)",
    "srt": "SubRip subtitles (*.srt)",
    "vtt": "WebVTT subtitles (*.vtt)",
    "json": "JSON (*.json)",
}
MEDIA_FILTER = (
    "Audio and video (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.m4a *.aac *.wma *.aiff *.aif "
    "*.mp4 *.mkv *.webm *.mov *.avi *.m4v);;All files (*)"
)


def export_segments(
    segments: list,
    path: str | Path,
    fmt: str | None = None,
    meta: dict[str, object] | None = None,
    words_per_cue: int | None = None,
) -> Path:
    """Write ``segments`` to ``path`` as txt/srt/vtt/json (from the suffix unless ``fmt`` is given): JSON lists
    the timed words of segments that have them (``words: [{word, start, end, probability}]``) after ``meta``'s
    top-level fields; SRT/VTT cut such segments into cues of at most ``words_per_cue`` words (None: one cue
    per segment)."""
    from ..formats import FORMATS, write_transcript

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    try:
        return write_transcript(segments, fmt, path, meta, words_per_cue)
    except OSError as exc:
        raise UserError(f"Cannot write {path} ({exc.strerror or exc}).") from exc


def ask_export_path(parent: QWidget, store: SettingsStore, title: str, stem: str) -> tuple[str, str] | None:
    """The path and format chosen in a save dialog (a missing suffix comes from the chosen filter)."""
    last_dir = store.ui_value(UiKey.EXPORT_DIR, str(Path.home()))
    last_fmt = store.ui_value(UiKey.EXPORT_FORMAT, "txt")
    filters = ";;".join(EXPORT_FILTERS.values())
    path, chosen = QFileDialog.getSaveFileName(
        parent, title, str(Path(last_dir) / f"{stem}.{last_fmt}"), filters, EXPORT_FILTERS.get(last_fmt, "")
    )
    if not path:
        return None
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in EXPORT_FILTERS:
        fmt = next((k for k, v in EXPORT_FILTERS.items() if v == chosen), "txt")
        path = f"{path}.{fmt}"
    store.set_ui_value(UiKey.EXPORT_DIR, str(Path(path).parent))
    store.set_ui_value(UiKey.EXPORT_FORMAT, fmt)
    return path, fmt


def ask_media_files(parent: QWidget, store: SettingsStore) -> list[str]:
    """Audio or video files chosen in an open dialog (none if cancelled)."""
    last_dir = store.ui_value(UiKey.OPEN_DIR, str(Path.home()))
    paths, _ = QFileDialog.getOpenFileNames(parent, "Transcribe files", last_dir, MEDIA_FILTER)
    if paths:
        store.set_ui_value(UiKey.OPEN_DIR, str(Path(paths[0]).parent))
    return list(paths)


def local_paths(event: Any) -> list[str]:
    """The local files a drag or drop event carries."""
    mime = event.mimeData()
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
