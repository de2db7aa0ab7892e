"""The main window: layout, and routing between the dictation controller, the engine keeper, file jobs, the
transcript view, autosave and the indicators. Work runs on other threads; the GUI thread paints and routes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .. import live
from .. import settings as S
from ..errors import UserError
from . import export
from .anywhere import SETTING_KEYS as ANYWHERE_KEYS
from .anywhere import DictateAnywhere, settings_from
from .autosave import AutosaveSession, Transcript
from .clipboard import copy_text
from .controls import DictationBar, WindowActions
from .dictation import DictationController, DictationState
from .engines import EngineKeeper
from .file_jobs import FileJob, FileJobQueue, FileJobsPanel, JobState, short_error
from .first_run import FirstRunBar
from .icons import icon
from .indicators import BackendIndicator, LatencyIndicator, PowerIndicator
from .recovery import RecoveryBar
from .settings_store import Key, SettingsStore, UiKey
from .threads import Task, run_task
from .tray import TrayState
from .widgets import InfoBar, TranscriptView
from .word_review import WordReview


def _memory_note(model: str | None, backend: str) -> str | None:
    from ..models.store import resolve_model
    from ..whisper import footprint

    try:
        return footprint.memory_note(resolve_model(model), backend)
    except (OSError, UserError):  # a missing folder: the load itself reports it
        return None


def _close_on_a_task(engine: Any) -> None:
    run_task(engine.close, None, None)


class MainWindow(WordReview, QMainWindow):
    state_changed = Signal(str)  # a TrayState: the tray's look
    engine_ready = Signal(object)
    segment_added = Signal(object)  # a Seg, after it is shown and autosaved

    def __init__(
        self,
        store: SettingsStore | None = None,
        engine: Any = None,
        tray: Any = None,
        power_root: str = "/",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.store = store or SettingsStore()
        self.tray = tray
        self.quit_on_close = False  # set by the app: closing for real quits the application
        self.setWindowTitle("Amanuensis")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(860, 620)

        self.keeper = EngineKeeper(close=_close_on_a_task)
        self.dictation = DictationController(self.keeper, parent=self)
        self.transcript = Transcript(self.store.autosave_dir())
        self._offset = 0.0  # where the current dictation starts on the transcript's time line
        self._init_word_review()
        self._reload_after_stop = False
        self._closing = False
        self._closed_for_real = False
        self._hid_to_tray_once = False
        self._fitted = False
        self.settings_dialog: QDialog | None = None  # while open (tests drive it)

        self._build_ui(power_root)
        d = self.dictation
        d.state_changed.connect(self._dictation_state_changed)
        d.partial.connect(self._show_partial)
        d.final_words.connect(self._take_final_words)
        d.final.connect(self._show_final)
        d.level.connect(self.level.set_level)
        d.backlog.connect(self.latency_label.set_backlog)
        d.backend.connect(self.backend_label.computed)
        d.error.connect(self.show_error)
        d.stopped.connect(self._dictation_stopped)
        d.settled.connect(self._maybe_finish_quit)
        self.anywhere = DictateAnywhere(d, self._live_options, self)  # finals into other apps, hotkeys
        self.anywhere.message.connect(self.show_error)
        self.anywhere.status.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.anywhere.configure(settings_from(self.store.all()))
        self.anywhere.start_control()

        # on the file worker thread: the engine for a job, held until the job is done (released in _on_job_done)
        self.jobs = FileJobQueue(lambda job: self.keeper.engine_for_files(("file job", job.id), job.cancel), self)
        self.files_panel = FileJobsPanel(self.jobs, self.export_job_result)
        self.files_panel.add_requested.connect(self.choose_files)
        self.splitter.addWidget(self.files_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.files_panel.fit(self.splitter)
        self.jobs.job_done.connect(self._on_job_done)
        self.jobs.changed.connect(lambda _job_id: self.files_panel.fit(self.splitter))
        self.jobs.busy_changed.connect(lambda _b: self._emit_state())
        self.jobs.busy_changed.connect(self._maybe_finish_quit)

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(1000)
        self._autosave_timer.timeout.connect(self._autosave_now)
        self.recovery_bar.offer(self.store.autosave_dir())
        self.first_run_bar.offer(self.start_action.shortcuts())

        self.device_combo.refresh()
        if engine is not None:
            self.keeper.set_engine(engine)
            self._engine_set(engine)
        else:
            QTimer.singleShot(0, self.load_engine)
        geom = self.store.ui_value(UiKey.GEOMETRY)
        if geom is not None:
            self.restoreGeometry(geom)

    @property
    def engine(self) -> Any:
        return self.keeper.engine

    @property
    def dictation_state(self) -> DictationState:
        return self.dictation.state

    @property
    def statuses(self) -> list:
        """Every backend's status (BackendStatus), for the backend tooltip and the settings dialog."""
        return self.backend_label.statuses

    # ------------------------------------------------------------------------------------------------ UI
    def _build_ui(self, power_root: str) -> None:
        self.actions_ = WindowActions(
            self,
            toggle=self.toggle_dictation,
            copy_all=self.copy_all,
            clear=self.clear_transcript,
            save=self.save_transcript_as,
            add_files=self.choose_files,
            settings=self.open_settings,
            quit=self.quit_app,
        )
        self.start_action = self.actions_.start
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        outer.setSpacing(6)

        self.first_run_bar = FirstRunBar(self.store)
        outer.addWidget(self.first_run_bar)
        self.recovery_bar = RecoveryBar(self.restore_orphans, self.discard_orphans)
        outer.addWidget(self.recovery_bar)
        self.error_bar = InfoBar("error")
        outer.addWidget(self.error_bar)

        self.dictation_bar = DictationBar(self.store, self.actions_, self.toggle_dictation)
        self.start_button = self.dictation_bar.start_button
        self.device_combo = self.dictation_bar.device_combo
        self.level = self.dictation_bar.level
        self.clipboard_box = self.dictation_bar.clipboard_box
        outer.addWidget(self.dictation_bar)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.view = TranscriptView()
        self._connect_word_review()
        self.splitter.addWidget(self.view)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.backend_label = BackendIndicator()
        self.latency_label = LatencyIndicator()
        self.power_label = PowerIndicator(power_root, lambda: self.isVisible() or self.tray is None)
        for indicator in (self.backend_label, self.latency_label, self.power_label):
            bar.addPermanentWidget(indicator)

    # -------------------------------------------------------------------------------------------- engine
    def load_engine(self) -> None:
        """(Re)load the engine with the current settings on a Task thread."""
        backend, model = self.store.get(Key.BACKEND), self.store.get(Key.MODEL) or None
        self.backend_label.loading(model, backend)
        if note := _memory_note(model, backend):  # a model that will probably not fit: say so before it loads
            self.statusBar().showMessage(note, 15000)
        self.keeper.start_load(backend, model, run_task, self._engine_set, self._engine_failed)

    def _engine_failed(self, message: str) -> None:
        self.backend_label.failed(message)
        self.show_error(message)

    def _engine_set(self, engine: Any) -> None:
        self.backend_label.loaded(engine)
        self.engine_ready.emit(engine)

    # ---------------------------------------------------------------------------------------- dictation
    def toggle_dictation(self) -> None:
        self.dictation.toggle(self._live_options)

    def start_dictation(self) -> None:
        if self.dictation.state is not DictationState.IDLE or self._closing:
            return
        self.error_bar.hide()
        self._offset = self.transcript.next_start()
        if self.dictation.start(self._live_options()) and self.segments:
            self.view.add_paragraph_break()

    def stop_dictation(self) -> None:
        self.dictation.stop()

    def _live_options(self) -> Any:
        from ..live.confirm import GateOptions

        threshold = self.store.speech_threshold()
        return live.LiveOptions(
            device=self.store.get(Key.INPUT_DEVICE) or None,
            vad_aggressiveness=int(self.store.get(Key.VAD_AGGRESSIVENESS)),
            word_timestamps=bool(self.store.get(Key.MARK_UNSURE_WORDS)),
            **self._language_options(),
            gate=GateOptions(enabled=False) if threshold is None else GateOptions(threshold=threshold),
        )

    def _dictation_state_changed(self, state: DictationState) -> None:
        self.dictation_bar.show_state(state)
        self.actions_.show_state(state)
        if state is DictationState.LISTENING:
            self.statusBar().showMessage("Listening…", 3000)
        elif state is DictationState.FINISHING:
            self.statusBar().showMessage("Finishing the transcription of what was said…")
        self._emit_state()

    def _dictation_stopped(self) -> None:
        self.view.clear_partial()
        self.transcript.partial = ""
        self.level.reset()
        self.statusBar().showMessage("Dictation stopped.", 3000)
        self._autosave_now()
        if self._reload_after_stop and not self._closing:
            self._reload_after_stop = False
            self.load_engine()

    def _emit_state(self) -> None:
        state = self.dictation.state
        look = TrayState.of(state.active, state is DictationState.FINISHING or self.jobs.busy)
        if self.tray is not None:
            self.tray.set_state(look, listening=state.active)
        self.state_changed.emit(look)

    def _show_partial(self, stable: str, unstable: str) -> None:
        self.transcript.partial = " ".join(t for t in (stable.strip(), unstable.strip()) if t)
        self.view.set_partial(stable, unstable)
        if not self._autosave_timer.isActive():
            self._autosave_timer.start()

    def _show_final(self, text: str, start: float, end: float, latency: float) -> None:
        off = self._offset
        self.add_final(text, start + off, end + off, self._pending_words(start + off, off))
        self.latency_label.set_latency(latency)

    def add_final(self, text: str, start: float, end: float, words: tuple = ()) -> None:
        seg = self.transcript.add(text, start, end, words)
        self._shown_as(self.view.add_final(text.strip(), start, end, words, self._unsure_below()), seg)
        if seg is None:
            return
        self._autosave_now()
        if self.store.get(Key.COPY_FINALS_TO_CLIPBOARD):
            copy_text(seg.text, secret=bool(self.store.get(Key.CLIPBOARD_SECRET)))
        self.segment_added.emit(seg)

    @property
    def segments(self) -> list:
        return self.transcript.segments

    @property
    def autosave(self) -> AutosaveSession:
        return self.transcript.autosave

    def _autosave_now(self) -> None:
        self._autosave_timer.stop()
        if error := self.transcript.save():
            self.statusBar().showMessage(error, 10000)

    def restore_orphans(self) -> None:
        first, n = (self.segments[0].start, len(self.segments)) if self.segments else (0.0, 0)
        words = self.transcript.restore(self.recovery_bar.take("restored"))
        # this session's text now follows the restored text: its kept audio moves with it (click to listen)
        self.session_audio.shift(self.segments[-n].start - first) if n else self.session_audio.clear()
        self.view.clear_all()
        self._show_segments(self.segments)
        if self.transcript.partial:
            self.view.set_partial(self.transcript.partial)
        self._autosave_now()
        self.statusBar().showMessage(f"Restored {words} words.", 5000)

    def discard_orphans(self) -> None:
        self.recovery_bar.take("discarded")
        self.statusBar().showMessage(f"Discarded; the files stay in {self.store.autosave_dir()}.", 5000)

    # -------------------------------------------------------------------------------------- transcript ops
    def transcript_text(self) -> str:
        return self.view.final_text().strip()

    def copy_all(self) -> None:
        text = self.transcript_text()
        copy_text(text, secret=bool(self.store.get(Key.CLIPBOARD_SECRET)))
        self.statusBar().showMessage("Copied the transcript." if text else "Nothing to copy yet.", 3000)

    def clear_transcript(self) -> None:
        if self.transcript.clear(self.store.autosave_dir()):  # the text stays in the autosave folder
            self.statusBar().showMessage(f"Cleared; the previous text is kept in {self.store.autosave_dir()}.", 6000)
        self._offset = 0.0
        self.view.clear_all()

    export_segments = staticmethod(export.export_segments)

    def save_transcript_as(self) -> None:
        if not self.segments:
            self.statusBar().showMessage("Nothing to save yet.", 3000)
            return
        got = export.ask_export_path(self, self.store, "Save transcript", f"transcript-{datetime.now():%Y%m%d-%H%M}")
        if got:
            self._export(self.segments, *got)

    def _export(self, segments: list, path: str, fmt: str, meta: dict | None = None) -> None:
        try:  # word-level JSON where segments have words; subtitle cues of the chosen number of words
            out = export.export_segments(segments, path, fmt, meta, self.store.words_per_cue())
        except UserError as exc:
            self.show_error(str(exc))
        else:
            self.statusBar().showMessage(f"Saved {out}.", 5000)

    # ---------------------------------------------------------------------------------------------- files
    def add_files(self, paths: list) -> list[FileJob]:
        threshold = self.store.speech_threshold()
        marks = bool(self.store.get(Key.MARK_UNSURE_WORDS))
        options = self._language_options()
        return [self.jobs.add(Path(p), threshold, options, marks, self._unsure_below()) for p in paths]

    def _language_options(self) -> dict[str, Any]:
        """The language and task settings as transcription options (auto: None, detected)."""
        language = str(self.store.get(Key.LANGUAGE))
        return {"language": None if language == "auto" else language, "task": str(self.store.get(Key.TASK))}

    def choose_files(self) -> None:
        self.add_files(export.ask_media_files(self, self.store))

    # Qt event handlers (camelCase names fixed by the base class)
    def dragEnterEvent(self, event: Any) -> None:
        event.acceptProposedAction() if export.local_paths(event) else event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: Any) -> None:
        if paths := export.local_paths(event):
            event.acceptProposedAction()
            self.add_files(paths)

    def export_job_result(self, job_id: int) -> None:
        job = self.jobs.jobs.get(job_id)
        if job is None or job.state is not JobState.DONE:
            return
        got = export.ask_export_path(self, self.store, f"Export the transcript of {job.name}", job.path.stem)
        if got:
            self._export(job.transcript.segments, *got, export.transcript_meta(job.transcript))

    def _on_job_done(self, job_id: int) -> None:
        self.keeper.release(("file job", job_id))
        job = self.jobs.jobs.get(job_id)
        if job is None:
            return
        if job.state is JobState.DONE:
            if job.transcript.backend:
                self.backend_label.computed(job.transcript.backend)
            msg = status = f"{job.name} is transcribed ({len(job.transcript.text.split())} words)."
        elif job.state is JobState.FAILED:  # the whole sentence is on the job's row; the status bar is too narrow
            msg, status = short_error(job), f"{job.name} could not be transcribed (see its row)."
        else:
            return
        self.statusBar().showMessage(status, 8000)
        if self.tray is not None:
            self.tray.notify("Amanuensis", msg)

    # -------------------------------------------------------------------------------------------- settings
    def open_settings(self) -> None:
        from .language_picker import LanguagePicker
        from .settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.store.all(), self.device_combo.devices, self.statuses, str(S.autosave_dir()), self)
        if self.engine is not None:  # the loaded model's languages, and whether it can translate
            dlg.language.set_model(*LanguagePicker.codes_for(self.engine))
            dlg.language.set_value(str(self.store.get(Key.LANGUAGE)), str(self.store.get(Key.TASK)))
        dlg.setObjectName("settings-dialog")
        self.settings_dialog = dlg
        if dlg.exec():
            self.apply_settings(dlg.values())
        self.settings_dialog = None

    def apply_settings(self, values: dict) -> None:
        old = self.store.all()
        self.store.update(values)
        new = self.store.all()
        self.clipboard_box.setChecked(bool(new[Key.COPY_FINALS_TO_CLIPBOARD]))
        if new[Key.INPUT_DEVICE] != old[Key.INPUT_DEVICE]:
            self.device_combo.show_stored()
        if new[Key.AUTOSAVE_DIR] != old[Key.AUTOSAVE_DIR]:
            self.transcript.restart(self.store.autosave_dir())
            self._autosave_now()
        if (new[Key.MODEL], new[Key.BACKEND]) != (old[Key.MODEL], old[Key.BACKEND]):
            self.backend_label.forget_computed()
            if self.dictation.state is DictationState.IDLE:
                self.load_engine()  # the old engine is closed once the file job using it (if any) is done
            else:
                self.statusBar().showMessage("The new model or backend is used from the next dictation.", 6000)
                self._reload_after_stop = True
        if any(new.get(k) != old.get(k) for k in ANYWHERE_KEYS):
            self.anywhere.configure(settings_from(new))
        gate_keys = (Key.VAD_AGGRESSIVENESS, Key.SPEECH_GATE, Key.VAD_THRESHOLD_PERCENT, Key.LANGUAGE, Key.TASK)
        if any(new[k] != old[k] for k in gate_keys) and self.dictation.state.active:
            self.statusBar().showMessage("The new setting applies from the next dictation.", 6000)

    def show_error(self, message: str) -> None:
        self.error_bar.show_message(message)
        self.statusBar().showMessage(message, 10000)

    # ------------------------------------------------------------------------------------------ lifecycle
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            QTimer.singleShot(0, lambda: self.files_panel.fit(self.splitter))

    def closeEvent(self, event: Any) -> None:
        if not self._closing and self.tray is not None and self.store.get(Key.CLOSE_TO_TRAY) and self.tray.is_visible():
            event.ignore()
            self.hide()
            if not self._hid_to_tray_once:
                self._hid_to_tray_once = True
                self.tray.notify("Amanuensis is still running", "It keeps running in the tray; use its menu to quit.")
            return
        if self._closed_for_real:
            event.accept()
            return
        event.ignore()
        self.quit_app()

    @property
    def closed_for_real(self) -> bool:
        """The window has finished quitting (autosaved, geometry stored, closed)."""
        return self._closed_for_real

    def quit_app(self) -> None:
        """Stop dictation (transcribing what was captured), cancel file jobs, autosave, close, quit.
        Nothing here waits: the quit finishes from the signals of the threads it waits for."""
        if self._closing:
            return
        self._closing = True
        self.power_label.stop()
        self.jobs.cancel_all()
        self.dictation.shutdown()  # emits settled (at once when nothing runs)
        self._maybe_finish_quit()

    def _maybe_finish_quit(self, *_args: object) -> None:
        """Finish quitting once no dictation starts, runs or stops, and no file job runs."""
        if not self._closing or self._closed_for_real or self.dictation.busy or self.jobs.busy:
            return
        self.power_label.stop()
        self.anywhere.close()
        self._autosave_now()
        self.transcript.close()
        self.store.set_ui_value(UiKey.GEOMETRY, self.saveGeometry())
        self.store.q.sync()
        self._closed_for_real = True
        self.close()
        if self.tray is not None:
            self.tray.hide()
        if self.quit_on_close:  # once the remaining Task threads (engine load, power reading…) are done
            Task.when_all_finished(QApplication.quit, 10000, self)
