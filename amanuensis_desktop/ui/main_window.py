"""The main window: live dictation into a transcript view, file jobs, status indicators, autosave.

Threads: the engine loads on a Task thread, the live pipeline runs its own threads and posts its events
here through a queued signal, file jobs run on a QThread, power readings and device lists on Task threads.
The GUI thread only paints and routes; it never waits for another thread (quitting finishes from signals).

Engines: dictation uses ``engine``. File jobs share it when its backend keeps no shared state (the numpy CPU
backend); otherwise (NPU, OpenVINO) they get their own engine from OpenVINO, else CPU — never a second NPU
engine, which would need more NPU hardware contexts than there are. An engine replaced by a newer load is
closed once no pipeline and no file job uses it; a load superseded by a newer one is dropped and closed.
"""

from __future__ import annotations

import html
import threading
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel,
                               QMainWindow, QPushButton, QSplitter, QStyle, QVBoxLayout, QWidget)

from .. import settings as S
from ..errors import UserError
from .autosave import AutosaveSession, Seg, find_orphans, settle
from .file_jobs import DONE, FAILED, FileJobQueue, FileJobsPanel, ResultDialog, short_error
from .icons import icon
from .settings_store import SettingsStore
from .threads import Task, run_task
from .widgets import LevelMeter, TranscriptView

# dictation states
IDLE, STARTING, LISTENING, FINISHING = "idle", "starting", "listening", "finishing"

EXPORT_FILTERS = {
    "txt": "Plain text (*.txt)",
    "srt": "SubRip subtitles (*.srt)",
    "vtt": "WebVTT subtitles (*.vtt)",
    "json": "JSON (*.json)",
}
MEDIA_FILTER = "Audio and video (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.m4a *.aac *.wma *.aiff *.aif " \
               "*.mp4 *.mkv *.webm *.mov *.avi *.m4v);;All files (*)"


def _live_module():
    """The live-dictation package, or None (with the reason) when it is not part of this build."""
    try:
        from .. import live
        live.LivePipeline, live.LiveOptions, live.list_input_devices  # noqa: B018
        return live, ""
    except Exception as exc:  # ImportError, AttributeError
        return None, f"live dictation is not available in this build ({exc})"


class _EventBridge(QObject):
    """Called from the pipeline's threads; delivers events on the GUI thread (queued connection)."""

    event = Signal(object)


class InfoBar(QFrame):
    """An inline message with optional buttons (no modal dialog ever blocks dictation)."""

    def __init__(self, kind: str = "info", parent=None):
        super().__init__(parent)
        colors = {"info": ("#fff6d5", "#c9a227"), "error": ("#fde4e1", "#c0392b")}[kind]
        self.setObjectName(f"infobar-{kind}")
        self.setStyleSheet(f"QFrame#infobar-{kind} {{ background: {colors[0]}; border: 1px solid {colors[1]};"
                           " border-radius: 4px; } QLabel { color: #222222; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.buttons_layout = QHBoxLayout()
        lay.addLayout(self.buttons_layout)
        self.close_btn = QPushButton("Dismiss")
        self.close_btn.clicked.connect(self.hide)
        lay.addWidget(self.close_btn)
        self._buttons: list[QPushButton] = []
        self.hide()

    def show_message(self, text: str, buttons: list[tuple[str, object]] | None = None, closable=True) -> None:
        self.label.setText(text)
        for b in self._buttons:
            b.setParent(None)
            b.deleteLater()
        self._buttons = []
        for title, fn in buttons or []:
            b = QPushButton(title)
            b.clicked.connect(fn)
            self.buttons_layout.addWidget(b)
            self._buttons.append(b)
        self.close_btn.setVisible(closable)
        self.show()

    def button(self, title: str) -> QPushButton | None:
        return next((b for b in self._buttons if b.text() == title), None)


class MainWindow(QMainWindow):
    state_changed = Signal(str)  # "idle" | "listening" | "transcribing" (the tray's look)
    dictation_state_changed = Signal(str)  # IDLE | STARTING | LISTENING | FINISHING
    engine_ready = Signal(object)
    segment_added = Signal(object)  # a Seg, after it is shown and autosaved

    def __init__(self, store: SettingsStore | None = None, engine=None, tray=None, power_root: str = "/",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store or SettingsStore()
        self.tray = tray
        self.quit_on_close = False  # set by the app: closing for real quits the application
        self.setWindowTitle("Amanuensis")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(860, 620)

        # engine
        self.engine = None
        self._engine_event = threading.Event()
        self._engine_error = ""
        self._load_gen = 0  # the newest load_engine(); older loads are dropped when they finish
        self._engines_lock = threading.Lock()  # guards the four below (the file worker thread uses them too)
        self._file_engine = None  # the file jobs' own engine, loaded for ``_file_engine_base``
        self._file_engine_base = None
        self._job_engine: tuple[int, object] | None = None  # (job id, engine) of the running file job
        self._owned: list = []  # engines this window loaded (and so closes); a caller's engine is not closed
        self._retired: list = []  # replaced engines, closed once nothing uses them
        self._live_pipelines: list = []  # pipelines not stopped yet (the current one, or stopping ones)
        self._starting_engine = None  # the engine handed to a pipeline that is still starting
        self._live_tasks = 0  # dictation start tasks and background stops under way
        self._stop_when_started = False  # quit while STARTING: stop the pipeline as soon as it is up
        self._statuses: list = []

        # dictation
        self.dictation_state = IDLE
        self.pipeline = None
        self._bridge = _EventBridge(self)
        self._bridge.event.connect(self._on_live_event)
        self.segments: list[Seg] = []
        self._partial = ""
        self._offset = 0.0
        self._last_backend = ""
        self._closing = False
        self._closed_for_real = False
        self._hid_to_tray_once = False

        self._build_ui()

        self.jobs = FileJobQueue(self._engine_for_files, self)
        self.files_panel = FileJobsPanel(self.jobs, self.open_job_result, self.export_job_result)
        self.files_panel.add_requested.connect(self.choose_files)
        self.splitter.addWidget(self.files_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self._fit_files_panel()
        self.jobs.job_done.connect(self._on_job_done)
        self.jobs.changed.connect(self._fit_files_panel)
        self.jobs.busy_changed.connect(lambda _b: self._emit_state())
        self.jobs.busy_changed.connect(self._maybe_finish_quit)

        # autosave
        self.autosave = AutosaveSession(self.store.autosave_dir())
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(1000)
        self._autosave_timer.timeout.connect(self._autosave_now)
        self._orphans = []
        self._offer_orphans()

        # power
        from ..power import PowerMeter

        self._power = PowerMeter(power_root)
        self._power_busy = False
        self._power_timer = QTimer(self)
        self._power_timer.setInterval(3000)
        self._power_timer.timeout.connect(self._refresh_power)
        self._power_timer.start()
        QTimer.singleShot(0, self._refresh_power)

        self._refresh_devices()
        if engine is not None:
            self._set_engine(engine)
        else:
            QTimer.singleShot(0, self.load_engine)
        geom = self.store.ui_value("geometry")
        if geom is not None:
            self.restoreGeometry(geom)

    # ------------------------------------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        style = self.style()
        self.start_action = QAction(icon("tray-listening"), "Start dictation", self)
        self.start_action.setObjectName("start-action")
        self.start_action.setShortcuts([QKeySequence("Ctrl+Space"), QKeySequence("F9")])
        self.start_action.setShortcutContext(Qt.ApplicationShortcut)
        self.start_action.triggered.connect(self.toggle_dictation)
        self.addAction(self.start_action)

        self.copy_action = QAction("Copy all", self)
        self.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_action.triggered.connect(self.copy_all)
        self.clear_action = QAction("Clear", self)
        self.clear_action.triggered.connect(self.clear_transcript)
        self.save_action = QAction("Save transcript as…", self)
        self.save_action.setShortcut(QKeySequence.Save)
        self.save_action.triggered.connect(self.save_transcript_as)
        self.add_files_action = QAction("Transcribe files…", self)
        self.add_files_action.setShortcut(QKeySequence.Open)
        self.add_files_action.triggered.connect(self.choose_files)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.Quit)
        self.quit_action.triggered.connect(self.quit_app)

        menu = self.menuBar().addMenu("&File")
        for a in (self.add_files_action, self.save_action, None, self.settings_action, None, self.quit_action):
            menu.addSeparator() if a is None else menu.addAction(a)
        menu = self.menuBar().addMenu("&Dictation")
        menu.addAction(self.start_action)
        menu.addAction(self.copy_action)
        menu.addAction(self.clear_action)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 4)
        outer.setSpacing(6)

        self.recovery_bar = InfoBar("info")
        self.recovery_bar.setObjectName("infobar-info")
        outer.addWidget(self.recovery_bar)
        self.error_bar = InfoBar("error")
        outer.addWidget(self.error_bar)

        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start-button")
        self.start_button.setIcon(icon("tray-listening"))
        self.start_button.setMinimumWidth(96)
        self.start_button.setToolTip("Start or stop dictation (Ctrl+Space or F9)")
        self.start_button.clicked.connect(self.toggle_dictation)
        row.addWidget(self.start_button)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("device-combo")
        self.device_combo.setToolTip("Input device")
        self.device_combo.setMinimumWidth(230)
        self.device_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.device_combo.addItem("Default microphone", "")
        self.device_combo.currentIndexChanged.connect(self._device_chosen)
        row.addWidget(self.device_combo)
        self.level = LevelMeter()
        self.level.setAccessibleName("Input level")
        self.device_combo.setAccessibleName("Input device")
        self.start_button.setAccessibleName("Start or stop dictation")
        row.addWidget(self.level)
        row.addStretch(1)
        self.clipboard_box = QCheckBox("Copy sentences")
        self.clipboard_box.setToolTip("Copy each final sentence to the clipboard as it is transcribed")
        self.clipboard_box.setChecked(bool(self.store.get("copy_finals_to_clipboard")))
        self.clipboard_box.toggled.connect(lambda on: self.store.update({"copy_finals_to_clipboard": on}))
        row.addWidget(self.clipboard_box)
        for action, std in ((self.copy_action, QStyle.SP_FileDialogDetailedView),
                            (self.clear_action, QStyle.SP_DialogResetButton),
                            (self.save_action, QStyle.SP_DialogSaveButton)):
            b = QPushButton(action.text().replace("Save transcript as…", "Save as…"))
            b.setIcon(style.standardIcon(std))
            b.setToolTip(action.toolTip() + (f" ({action.shortcut().toString()})" if not action.shortcut().isEmpty() else ""))
            b.clicked.connect(action.trigger)
            row.addWidget(b)
        settings_btn = QPushButton("Settings…")
        settings_btn.setToolTip("Settings (Ctrl+,)")
        settings_btn.clicked.connect(self.open_settings)
        row.addWidget(settings_btn)
        outer.addLayout(row)

        self.splitter = QSplitter(Qt.Vertical)
        self.view = TranscriptView()
        self.view.setObjectName("transcript")
        self.view.setAccessibleName("Transcript")
        self.splitter.addWidget(self.view)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.backend_label = QLabel("Backend: loading…")
        self.backend_label.setObjectName("backend-indicator")
        self.latency_label = QLabel("Latency — · backlog —")
        self.latency_label.setObjectName("latency-indicator")
        self.latency_label.setToolTip("Latency: from the end of a sentence to its final text.\n"
                                      "Backlog: captured audio not yet transcribed.")
        self.power_label = QLabel("Power: …")
        self.power_label.setObjectName("power-indicator")
        for w, name in ((self.backend_label, "Backend"), (self.latency_label, "Latency and backlog"),
                        (self.power_label, "Power")):
            w.setContentsMargins(6, 0, 6, 0)
            w.setAccessibleName(name)
            bar.addPermanentWidget(w)

    # -------------------------------------------------------------------------------------------- engine
    def load_engine(self) -> None:
        """(Re)load the engine with the current settings on a Task thread."""
        backend, model = self.store.get("backend"), self.store.get("model") or None
        self._load_gen += 1
        gen = self._load_gen
        self._engine_event.clear()  # first: from now on engine users wait for the new engine
        self._drop_engines()
        self._engine_error = ""
        self.backend_label.setText("Backend: loading…")
        self.backend_label.setToolTip(f"Loading the model ({model or 'embedded tiny.en'}) "
                                      f"with backend preference '{backend}'.")

        def load():
            from ..engine import Engine

            return Engine.load(backend, model)

        run_task(load, lambda engine: self._engine_loaded(gen, engine),
                 lambda message: self._engine_load_failed(gen, message))

    def _engine_loaded(self, gen: int, engine) -> None:
        with self._engines_lock:
            self._owned.append(engine)
        if gen != self._load_gen:  # a newer load (settings changed again) wins, whenever it finishes
            self._retire(engine)
            return
        self._set_engine(engine)

    def _engine_load_failed(self, gen: int, message: str) -> None:
        if gen == self._load_gen:
            self._engine_failed(message)

    def _set_engine(self, engine) -> None:
        self._drop_engines(engine)
        self._engine_error = ""
        self._engine_event.set()
        selection = getattr(engine, "selection", None)
        self._statuses = list(selection.statuses) if selection is not None else []
        if not self._statuses:
            run_task(self._probe_statuses, self._got_statuses, None)
        self._show_backend(self._last_backend or engine.backend.label, computed=bool(self._last_backend))
        self.engine_ready.emit(engine)

    def _drop_engines(self, replacement=None) -> None:
        """Replace the current engine (and forget the file jobs' engine); each is closed once nothing uses it."""
        old, self.engine = self.engine, replacement
        with self._engines_lock:
            fe, self._file_engine, self._file_engine_base = self._file_engine, None, None
        self._retire(old, fe)

    def _retire(self, *engines) -> None:
        with self._engines_lock:
            for e in engines:
                if e is not None and not any(e is r for r in self._retired):
                    self._retired.append(e)
        self._close_retired()

    def _close_retired(self) -> None:
        """Close the retired engines that no pipeline and no file job uses any more (on Task threads)."""
        with self._engines_lock:
            in_use = [self.engine, self._file_engine, self._starting_engine,
                      self._job_engine[1] if self._job_engine else None]
            in_use += [getattr(p, "_engine", None) for p in self._live_pipelines]
            free = [e for e in self._retired if not any(e is u for u in in_use)]
            self._retired = [e for e in self._retired if not any(e is f for f in free)]
            to_close = [e for e in free if any(e is o for o in self._owned)]
            self._owned = [o for o in self._owned if not any(o is e for e in to_close)]
        for e in to_close:
            run_task(e.close, None, None)

    @staticmethod
    def _probe_statuses():
        from ..backends import probe_all

        return probe_all()

    def _got_statuses(self, statuses) -> None:
        self._statuses = list(statuses)
        self._show_backend(self._last_backend or (self.engine.backend.label if self.engine else ""),
                           computed=bool(self._last_backend))

    def _engine_failed(self, message: str) -> None:
        self._engine_error = message
        self._engine_event.set()
        self.backend_label.setText("Backend: none")
        self.backend_label.setToolTip(message)
        self.show_error(message)

    def _wait_for_engine(self, cancel: threading.Event | None = None):
        """Called on a pipeline or worker thread: the engine once loaded (UserError if loading failed).
        With ``cancel``, waits in 0.1 s steps and raises Cancelled once it is set."""
        while not self._engine_event.wait(0.1):
            if cancel is not None and cancel.is_set():
                from ..whisper.transcribe import Cancelled

                raise Cancelled()
        engine = self.engine
        if engine is None:
            raise UserError(self._engine_error or "No engine is loaded.")
        return engine

    # Backends whose engine dictation and file jobs can share (no shared device state).
    SHARED_BACKENDS = ("cpu", "")
    # What file jobs load otherwise ("auto" over this order): never a second NPU engine.
    FILE_BACKENDS = ("openvino", "cpu")

    def _engine_for_files(self, job):
        """Called on the file worker thread: the engine to transcribe ``job`` with (waits for the load)."""
        engine = self._wait_for_engine(job.cancel)
        if getattr(engine.backend, "name", "") in self.SHARED_BACKENDS:
            chosen = engine
        else:
            with self._engines_lock:
                chosen = self._file_engine if self._file_engine_base is engine else None
            if chosen is None:  # loaded outside the lock: the GUI thread never waits for a load
                from ..engine import Engine

                chosen = Engine.load("auto", engine.model_folder, order=self.FILE_BACKENDS)
                with self._engines_lock:
                    self._owned.append(chosen)
                    if self._file_engine is None and self.engine is engine:
                        self._file_engine, self._file_engine_base = chosen, engine
                    else:  # the dictation engine changed meanwhile: this one serves this job only
                        self._retired.append(chosen)
        with self._engines_lock:
            self._job_engine = (job.id, chosen)
        return chosen

    def _show_backend(self, label: str, computed: bool) -> None:
        if not label:
            return
        self.backend_label.setText(label if computed else f"{label} (ready)")
        rows = []
        for st in self._statuses:
            state = "in use" if st.reason.startswith("in use") else ("available" if st.available else "not used")
            rows.append(f"<tr><td><b>{html.escape(st.name)}</b></td><td>{state}</td>"
                        f"<td>{html.escape(st.reason)}</td></tr>")
        head = (f"<p>The last text was computed by <b>{html.escape(label)}</b>.</p>" if computed else
                f"<p>Loaded: <b>{html.escape(label)}</b> (no text computed yet).</p>")
        table = f"<table cellspacing='4'>{''.join(rows)}</table>" if rows else "<p>(backend list pending)</p>"
        self.backend_label.setToolTip(head + "<p>Backends on this machine:</p>" + table)

    # ---------------------------------------------------------------------------------------- dictation
    @property
    def listening(self) -> bool:
        return self.dictation_state in (STARTING, LISTENING)

    def toggle_dictation(self) -> None:
        if self.dictation_state == IDLE:
            self.start_dictation()
        elif self.dictation_state in (LISTENING, STARTING):
            self.stop_dictation()

    def start_dictation(self) -> None:
        if self.dictation_state != IDLE or self._closing:
            return
        live, why = _live_module()
        if live is None:
            self.show_error(f"Cannot start dictation: {why}.")
            return
        self.error_bar.hide()
        self._set_dictation_state(STARTING)
        if self.engine is None and self._engine_event.is_set() and self._engine_error:
            self.show_error(self._engine_error)
            self._set_dictation_state(IDLE)
            return
        device = self.store.get("input_device") or None
        options = live.LiveOptions(device=device, vad_aggressiveness=int(self.store.get("vad_aggressiveness")))
        # still loading: the pipeline takes a callable and records while the engine finishes loading
        engine = self.engine if self.engine is not None else self._wait_for_engine
        emit_event = self._bridge.event.emit
        self._offset = (self.segments[-1].end + 1.0) if self.segments else 0.0
        if self.segments:
            self.view.add_paragraph_break()

        def start():
            pipeline = live.LivePipeline(engine, options, on_event=emit_event)
            pipeline.start()
            return pipeline

        self._starting_engine = engine if engine is self.engine else None
        self._live_tasks += 1
        run_task(start, self._pipeline_started, self._pipeline_failed)

    def _pipeline_started(self, pipeline) -> None:
        self._live_tasks -= 1
        self._starting_engine = None
        self._live_pipelines.append(pipeline)
        if self.dictation_state != STARTING:  # stopped while starting: stop it in the background
            self._live_tasks += 1
            done = lambda *_: self._background_stop_done(pipeline)  # noqa: E731
            run_task(pipeline.stop, done, done)
            return
        self.pipeline = pipeline
        self._set_dictation_state(LISTENING)
        if self._stop_when_started:  # quitting: what was captured is transcribed, then the app quits
            self._stop_when_started = False
            self.stop_dictation()
            return
        self.statusBar().showMessage("Listening…", 3000)

    def _background_stop_done(self, pipeline) -> None:
        self._live_tasks -= 1
        self._forget_pipeline(pipeline)
        self._maybe_finish_quit()

    def _forget_pipeline(self, pipeline) -> None:
        with self._engines_lock:
            self._live_pipelines = [p for p in self._live_pipelines if p is not pipeline]
        self._close_retired()

    def _pipeline_failed(self, message: str) -> None:
        self._live_tasks -= 1
        self._starting_engine = None
        self._stop_when_started = False
        self.show_error(message)
        self._set_dictation_state(IDLE)
        self._close_retired()
        self._maybe_finish_quit()

    def stop_dictation(self) -> None:
        if self.dictation_state == STARTING:
            self._set_dictation_state(IDLE)  # _pipeline_started stops it when it arrives
            return
        if self.dictation_state != LISTENING or self.pipeline is None:
            return
        pipeline = self.pipeline
        self._set_dictation_state(FINISHING)
        self.statusBar().showMessage("Finishing the transcription of what was said…")
        run_task(pipeline.stop, self._stop_done, self._stop_failed)

    def _stop_done(self, _result=None) -> None:
        self._pipeline_stopped()

    def _stop_failed(self, message: str) -> None:
        self.show_error(message)
        self._pipeline_stopped()

    def _pipeline_stopped(self) -> None:
        pipeline, self.pipeline = self.pipeline, None
        self.view.clear_partial()
        self._partial = ""
        self.level.reset()
        if self.dictation_state != IDLE:
            self._set_dictation_state(IDLE)
            self.statusBar().showMessage("Dictation stopped.", 3000)
        self._autosave_now()
        if self._reload_after_stop and not self._closing:
            self._reload_after_stop = False
            self.load_engine()
        self._forget_pipeline(pipeline)
        self._maybe_finish_quit()

    _reload_after_stop = False

    def _set_dictation_state(self, state: str) -> None:
        self.dictation_state = state
        self.start_button.setText({IDLE: "Start", STARTING: "Starting…", LISTENING: "Stop",
                                   FINISHING: "Finishing…"}[state])
        self.start_button.setIcon(icon("tray-idle" if state in (LISTENING, STARTING) else
                                       "tray-transcribing" if state == FINISHING else "tray-listening"))
        self.start_button.setEnabled(state != FINISHING)
        self.start_action.setText("Stop dictation" if state in (LISTENING, STARTING) else "Start dictation")
        self.start_action.setEnabled(state != FINISHING)
        self.device_combo.setEnabled(state == IDLE)
        self.dictation_state_changed.emit(state)
        self._emit_state()

    def _emit_state(self) -> None:
        if self.dictation_state in (STARTING, LISTENING):
            state = "listening"
        elif self.dictation_state == FINISHING or self.jobs.busy:
            state = "transcribing"
        else:
            state = "idle"
        if self.tray is not None:
            self.tray.set_state(state, listening=self.dictation_state in (STARTING, LISTENING))
        self.state_changed.emit(state)

    def _on_live_event(self, ev) -> None:
        kind = type(ev).__name__
        if kind == "Partial":
            self._partial = " ".join(t for t in (ev.stable.strip(), ev.unstable.strip()) if t)
            self.view.set_partial(ev.stable, ev.unstable)
            if not self._autosave_timer.isActive():
                self._autosave_timer.start()
        elif kind == "Final":
            self.add_final(ev.text, ev.start + self._offset, ev.end + self._offset)
            self.latency_label.setText(f"Latency {ev.latency:.2f} s · backlog {self._backlog_text}")
            self._last_latency = ev.latency
        elif kind == "Level":
            self.level.set_level(ev.db)
        elif kind == "Backlog":
            self._backlog_text = f"{ev.seconds:.1f} s"
            lat = getattr(self, "_last_latency", None)
            self.latency_label.setText(f"Latency {lat:.2f} s · backlog {self._backlog_text}" if lat is not None
                                       else f"Latency — · backlog {self._backlog_text}")
        elif kind == "BackendInfo":
            self._last_backend = ev.label
            self._show_backend(ev.label, computed=True)
        elif kind == "Error":
            self.show_error(ev.message)
        elif kind == "Stopped":
            if self.dictation_state in (LISTENING, STARTING):  # stopped by itself (device gone, fatal error)
                self._pipeline_stopped()

    _backlog_text = "—"

    def add_final(self, text: str, start: float, end: float) -> None:
        text = text.strip()
        self._partial = ""
        self.view.add_final(text, start, end)
        if not text:
            return
        seg = Seg(start, end, text)
        self.segments.append(seg)
        self._autosave_now()
        if self.store.get("copy_finals_to_clipboard"):
            QApplication.clipboard().setText(text)
        self.segment_added.emit(seg)

    # -------------------------------------------------------------------------------------------- autosave
    def _autosave_now(self) -> None:
        self._autosave_timer.stop()
        if not self.autosave.write(self.segments, self._partial):
            self.statusBar().showMessage(self.autosave.error or "Autosave failed.", 10000)

    def _offer_orphans(self) -> None:
        self._orphans = find_orphans(self.store.autosave_dir())
        if not self._orphans:
            self.recovery_bar.hide()
            return
        words = sum(o.words for o in self._orphans)
        last = self._orphans[-1]
        when = last.started.replace("T", " ")[:16]
        n = len(self._orphans)
        what = "a session" if n == 1 else f"{n} sessions"
        self.recovery_bar.show_message(
            f"Amanuensis did not close normally: {what} (started {when}) left {words} unsaved word"
            f"{'s' if words != 1 else ''}. Restore the text?",
            [("Restore", self.restore_orphans), ("Discard", self.discard_orphans)], closable=False)

    def restore_orphans(self) -> None:
        restored: list[Seg] = []
        base = 0.0
        for o in self._orphans:
            segs = list(o.segments)
            if o.partial.strip():
                last_end = segs[-1].end if segs else 0.0
                segs.append(Seg(last_end, last_end + 1.0, o.partial.strip()))
            if segs:
                shift = base - segs[0].start if restored else 0.0
                restored += [Seg(s.start + shift, s.end + shift, s.text) for s in segs]
                base = restored[-1].end + 1.0
        current = self.segments
        shift = (restored[-1].end + 1.0) if restored else 0.0
        self.segments = restored + [Seg(s.start + shift, s.end + shift, s.text) for s in current]
        self._rerender()
        for o in self._orphans:
            settle(o, "restored")
        self._orphans = []
        self.recovery_bar.hide()
        self._autosave_now()
        self.statusBar().showMessage(f"Restored {sum(len(s.text.split()) for s in restored)} words.", 5000)

    def discard_orphans(self) -> None:
        for o in self._orphans:
            settle(o, "discarded")
        folder = self.store.autosave_dir()
        self._orphans = []
        self.recovery_bar.hide()
        self.statusBar().showMessage(f"Discarded; the files stay in {folder}.", 5000)

    def _rerender(self) -> None:
        self.view.clear_all()
        for s in self.segments:
            self.view.add_final(s.text, s.start, s.end)
        if self._partial:
            self.view.set_partial(self._partial)

    # -------------------------------------------------------------------------------------- transcript ops
    def transcript_text(self) -> str:
        return self.view.final_text().strip()

    def copy_all(self) -> None:
        text = self.transcript_text()
        QApplication.clipboard().setText(text)
        self.statusBar().showMessage("Copied the transcript." if text else "Nothing to copy yet.", 3000)

    def clear_transcript(self) -> None:
        if self.segments:
            self.autosave.close(self.segments)  # the text stays in the autosave folder
            self.autosave = AutosaveSession(self.store.autosave_dir())
            self.statusBar().showMessage(f"Cleared; the previous text is kept in {self.store.autosave_dir()}.",
                                         6000)
        self.segments = []
        self._partial = ""
        self._offset = 0.0
        self.view.clear_all()

    def export_segments(self, segments, path: str | Path, fmt: str | None = None) -> Path:
        """Write ``segments`` to ``path`` as txt/srt/vtt/json (from the suffix unless ``fmt`` is given)."""
        from ..formats import FORMATS, write_transcript

        path = Path(path)
        fmt = (fmt or path.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise UserError(f"Unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}.")
        try:
            return write_transcript(segments, fmt, path)
        except OSError as exc:
            raise UserError(f"Cannot write {path} ({exc.strerror or exc}).") from exc

    def _ask_export_path(self, title: str, stem: str) -> tuple[str, str] | None:
        last_dir = self.store.ui_value("export_dir", str(Path.home()))
        last_fmt = self.store.ui_value("export_format", "txt")
        filters = ";;".join(EXPORT_FILTERS.values())
        path, chosen = QFileDialog.getSaveFileName(self, title, str(Path(last_dir) / f"{stem}.{last_fmt}"),
                                                   filters, EXPORT_FILTERS.get(last_fmt, ""))
        if not path:
            return None
        fmt = Path(path).suffix.lstrip(".").lower()
        if fmt not in EXPORT_FILTERS:
            fmt = next((k for k, v in EXPORT_FILTERS.items() if v == chosen), "txt")
            path = f"{path}.{fmt}"
        self.store.set_ui_value("export_dir", str(Path(path).parent))
        self.store.set_ui_value("export_format", fmt)
        return path, fmt

    def save_transcript_as(self) -> None:
        if not self.segments:
            self.statusBar().showMessage("Nothing to save yet.", 3000)
            return
        got = self._ask_export_path("Save transcript", f"transcript-{datetime.now():%Y%m%d-%H%M}")
        if got:
            self._export(self.segments, *got)

    def _export(self, segments, path: str, fmt: str) -> None:
        try:
            out = self.export_segments(segments, path, fmt)
        except UserError as exc:
            self.show_error(str(exc))
        else:
            self.statusBar().showMessage(f"Saved {out}.", 5000)

    # ---------------------------------------------------------------------------------------------- files
    def add_files(self, paths) -> list:
        return [self.jobs.add(Path(p)) for p in paths]

    def choose_files(self) -> None:
        last_dir = self.store.ui_value("open_dir", str(Path.home()))
        paths, _ = QFileDialog.getOpenFileNames(self, "Transcribe files", last_dir, MEDIA_FILTER)
        if paths:
            self.store.set_ui_value("open_dir", str(Path(paths[0]).parent))
            self.add_files(paths)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_files(paths)

    def open_job_result(self, job_id: int) -> None:
        job = self.jobs.jobs.get(job_id)
        if job is not None and job.state == DONE:
            dlg = ResultDialog(job, self)
            dlg.setAttribute(Qt.WA_DeleteOnClose)
            dlg.show()

    def export_job_result(self, job_id: int) -> None:
        job = self.jobs.jobs.get(job_id)
        if job is None or job.state != DONE:
            return
        got = self._ask_export_path(f"Export the transcript of {job.name}", job.path.stem)
        if got:
            self._export(job.transcript.segments, *got)

    def _fit_files_panel(self, _job_id: int = 0) -> None:
        """The files panel is a header line until there are jobs, then tall enough for about three rows."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        want = min(240, 44 + 66 * len(self.jobs.jobs)) if self.jobs.jobs else self.files_panel.minimumSizeHint().height()
        if len(sizes) == 2 and total > 0 and (sizes[1] < want or not self.jobs.jobs):
            self.splitter.setSizes([total - want, want])

    def _on_job_done(self, job_id: int) -> None:
        with self._engines_lock:
            if self._job_engine is not None and self._job_engine[0] == job_id:
                self._job_engine = None
        self._close_retired()
        job = self.jobs.jobs.get(job_id)
        if job is None:
            return
        if job.state == DONE:
            if job.transcript.backend:
                self._last_backend = job.transcript.backend
                self._show_backend(job.transcript.backend, computed=True)
            msg = status = f"{job.name} is transcribed ({len(job.transcript.text.split())} words)."
        elif job.state == FAILED:  # the whole sentence is on the job's row; the status bar is too narrow for it
            msg, status = short_error(job), f"{job.name} could not be transcribed (see its row)."
        else:
            return
        self.statusBar().showMessage(status, 8000)
        if self.tray is not None:
            self.tray.notify("Amanuensis", msg)

    # -------------------------------------------------------------------------------------------- devices
    def _refresh_devices(self) -> None:
        live, _ = _live_module()
        if live is None:
            return
        run_task(live.list_input_devices, self._got_devices, self._devices_failed)

    def _devices_failed(self, message: str) -> None:
        self.device_combo.setToolTip(f"Input device ({message})")

    def _got_devices(self, devices) -> None:
        self._devices = list(devices or [])
        wanted = self.store.get("input_device")
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItem("Default microphone", "")
        for dev in self._devices:
            self.device_combo.addItem(dev["name"] + (" (default)" if dev.get("is_default") else ""), dev["name"])
        idx = self.device_combo.findData(wanted)
        if idx < 0 and wanted:
            self.device_combo.addItem(f"{wanted} (not connected)", wanted)
            idx = self.device_combo.count() - 1
        self.device_combo.setCurrentIndex(max(0, idx))
        self.device_combo.blockSignals(False)

    def _device_chosen(self, _index: int) -> None:
        self.store.update({"input_device": self.device_combo.currentData() or ""})

    _devices: list = []

    # ----------------------------------------------------------------------------------------------- power
    def _refresh_power(self) -> None:
        if self._power_busy or not self.isVisible() and self.tray is not None:
            return
        self._power_busy = True
        run_task(self._power.read, self._got_power, self._power_failed)

    def _got_power(self, reading) -> None:
        self._power_busy = False
        self.power_label.setText(f"Power: {reading.summary()}")
        self.power_label.setToolTip(reading.details())
        self.last_power = reading

    def _power_failed(self, message: str) -> None:
        self._power_busy = False
        self.power_label.setText("Power: n/a")
        self.power_label.setToolTip(message)

    # -------------------------------------------------------------------------------------------- settings
    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.store.all(), self._devices, self._statuses, str(S.autosave_dir()), self)
        dlg.setObjectName("settings-dialog")
        self.settings_dialog = dlg
        if dlg.exec():
            self.apply_settings(dlg.values())
        self.settings_dialog = None

    def apply_settings(self, values: dict) -> None:
        old = self.store.all()
        self.store.update(values)
        new = self.store.all()
        self.clipboard_box.setChecked(bool(new["copy_finals_to_clipboard"]))
        if new["input_device"] != old["input_device"]:
            self._got_devices(self._devices)
        if new["autosave_dir"] != old["autosave_dir"]:
            self.autosave.close(self.segments)
            self.autosave = AutosaveSession(self.store.autosave_dir())
            self._autosave_now()
        if (new["model"], new["backend"]) != (old["model"], old["backend"]):
            self._last_backend = ""
            if self.dictation_state == IDLE:
                self.load_engine()  # the old engine is closed once the file job using it (if any) is done
            else:
                self.statusBar().showMessage("The new model or backend is used from the next dictation.", 6000)
                self._reload_after_stop = True
        if new["vad_aggressiveness"] != old["vad_aggressiveness"] and self.listening:
            self.statusBar().showMessage("The new voice detection setting applies from the next dictation.", 6000)

    # ---------------------------------------------------------------------------------------------- errors
    def show_error(self, message: str) -> None:
        self.error_bar.show_message(message)
        self.statusBar().showMessage(message, 10000)

    # ------------------------------------------------------------------------------------------ lifecycle
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not getattr(self, "_fitted", False):
            self._fitted = True
            QTimer.singleShot(0, self._fit_files_panel)

    def closeEvent(self, event) -> None:  # noqa: N802
        if (not self._closing and self.tray is not None and self.store.get("close_to_tray")
                and self.tray.is_visible()):
            event.ignore()
            self.hide()
            if not self._hid_to_tray_once:
                self._hid_to_tray_once = True
                self.tray.notify("Amanuensis is still running",
                                 "It keeps running in the tray; use its menu to quit.")
            return
        if self._closed_for_real:
            event.accept()
            return
        event.ignore()
        self.quit_app()

    def quit_app(self) -> None:
        """Stop dictation (transcribing what was captured), cancel file jobs, autosave, close, quit.
        Nothing here waits: the quit finishes from the signals of the threads it waits for."""
        if self._closing:
            return
        self._closing = True
        self._power_timer.stop()
        self.jobs.cancel_all()
        if self.dictation_state == STARTING:
            self._stop_when_started = True  # _pipeline_started stops it (_pipeline_failed ends it)
        elif self.dictation_state == LISTENING:
            self.stop_dictation()
        self._maybe_finish_quit()

    def _maybe_finish_quit(self, *_args) -> None:
        """Finish quitting once dictation is idle, no pipeline starts or stops, and no file job runs."""
        if not self._closing or self._closed_for_real:
            return
        if self.dictation_state != IDLE or self.pipeline is not None or self._live_tasks or self.jobs.busy:
            return
        self._finish_quit()

    def _finish_quit(self) -> None:
        self._power_timer.stop()
        self._autosave_now()
        self.autosave.close(self.segments)
        self.store.set_ui_value("geometry", self.saveGeometry())
        self.store.q.sync()
        self._closed_for_real = True
        self.close()
        if self.tray is not None:
            self.tray.hide()
        if self.quit_on_close:  # once the remaining Task threads (engine load, power reading…) are done
            Task.when_all_finished(QApplication.quit, 10000, self)
