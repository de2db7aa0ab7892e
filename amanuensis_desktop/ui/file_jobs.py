"""File transcription jobs: a queue run one at a time on a QThread, one row each with progress and actions."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..audio.speech_gate import DEFAULT_THRESHOLD
from ..display import shown
from ..whisper.transcribe import TranscribeOptions
from .file_result import ResultDialog
from .threads import sentence


class JobState(Enum):
    QUEUED = "queued"
    LOADING = "loading"  # reading the file (and waiting for the engine)
    TRANSCRIBING = "transcribing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Not finished yet (queued, loading or transcribing)."""
        return self in (JobState.QUEUED, JobState.LOADING, JobState.TRANSCRIBING)


_ids = itertools.count(1)


@dataclass
class FileJob:
    path: Path
    id: int = field(default_factory=lambda: next(_ids))
    state: JobState = JobState.QUEUED
    done_s: float = 0.0
    total_s: float = 0.0
    transcript: Any = None  # amanuensis_desktop.whisper.transcribe.Transcript
    error: str = ""
    elapsed: float = 0.0
    cancel: threading.Event = field(default_factory=threading.Event)
    word_timestamps: bool = False  # time and weigh every word (the transcript dialog marks unsure ones)
    unsure_below: float | None = None  # the dialog's threshold for marking a word unsure
    options: dict[str, Any] = field(default_factory=dict)  # transcription overrides (language, task)
    vad_threshold: float | None = (
        DEFAULT_THRESHOLD  # the neural speech gate's threshold; None: Whisper over the whole file
    )

    @property
    def name(self) -> str:
        return self.path.name


def _lower_priority() -> None:
    """A higher nice value than the GUI thread's, so the window gets the CPU first (Linux; elsewhere a no-op)."""
    if os.environ.get("AMANUENSIS_NO_NICE"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class _Worker(QThread):
    """Transcribes one job. Signals carry the job id; the GUI thread owns the FileJob objects' display."""

    progress = Signal(int, float, float)
    state = Signal(int, object)  # JobState
    finished_ok = Signal(int, object, float)
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, job: FileJob, get_engine: Callable[[FileJob], Any], parent=None):
        super().__init__(parent)
        self.job = job
        self.get_engine = get_engine

    def run(self) -> None:
        from ..audio.isolated import DecodeCancelled, decode_file
        from ..whisper.audio import SAMPLE_RATE
        from ..whisper.transcribe import Cancelled

        job = self.job
        t0 = time.monotonic()
        _lower_priority()
        try:
            self.state.emit(job.id, JobState.LOADING)
            try:  # in a bounded child process: a hostile file costs only its job
                audio = decode_file(job.path, cancelled=job.cancel.is_set).audio
            except DecodeCancelled:
                raise Cancelled() from None
            if job.cancel.is_set():
                raise Cancelled()
            engine = self.get_engine(job)  # may wait for the engine to load; raises Cancelled on cancel
            total = audio.size / SAMPLE_RATE
            self.progress.emit(job.id, 0.0, total)
            self.state.emit(job.id, JobState.TRANSCRIBING)
            last = [0.0]

            def progress(done_s, total_s):
                now = time.monotonic()
                if now - last[0] > 0.1 or done_s >= total_s:
                    last[0] = now
                    self.progress.emit(job.id, float(done_s), float(total_s))

            opts = TranscribeOptions(**job.options, word_timestamps=job.word_timestamps)
            if job.vad_threshold is None:
                transcript = engine.transcribe(audio, opts, progress=progress, cancel=job.cancel)
            else:  # Whisper only over the speech regions (silence, music and noise skipped)
                from ..audio.speech_regions import RegionOptions
                from ..whisper.speech_only import transcribe_speech

                regions = RegionOptions(threshold=job.vad_threshold)
                transcript = transcribe_speech(
                    engine, audio, opts, regions=regions, progress=progress, cancel=job.cancel
                )
        except Cancelled:
            self.cancelled.emit(job.id)
        except BaseException as exc:  # a bad file must not stop the queue
            if job.cancel.is_set():
                self.cancelled.emit(job.id)
            else:
                self.failed.emit(job.id, sentence(exc))
        else:
            self.finished_ok.emit(job.id, transcript, time.monotonic() - t0)


class FileJobQueue(QObject):
    """Jobs in order; one runs at a time (inference already uses every core)."""

    changed = Signal(int)  # job id
    job_done = Signal(int)  # finished (done, failed or cancelled)
    busy_changed = Signal(bool)

    def __init__(self, get_engine: Callable[[FileJob], Any], parent=None):
        super().__init__(parent)
        self.get_engine = get_engine  # get_engine(job) on the worker thread; may block while the engine loads
        self.jobs: dict[int, FileJob] = {}
        self._worker: _Worker | None = None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def add(
        self,
        path: str | Path,
        vad_threshold: float | None = DEFAULT_THRESHOLD,
        options: dict[str, Any] | None = None,
        word_timestamps: bool = False,
        unsure_below: float | None = None,
    ) -> FileJob:
        job = FileJob(
            Path(path),
            vad_threshold=vad_threshold,
            options=dict(options or {}),
            word_timestamps=word_timestamps,
            unsure_below=unsure_below,
        )
        self.jobs[job.id] = job
        self.changed.emit(job.id)
        self._next()
        return job

    def cancel(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is None or not job.state.active:
            return
        job.cancel.set()
        if job.state == JobState.QUEUED:
            job.state = JobState.CANCELLED
            self.changed.emit(job_id)
            self.job_done.emit(job_id)

    def remove(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None and not job.state.active:
            del self.jobs[job_id]
            self.changed.emit(job_id)

    def cancel_all(self) -> None:
        for job_id in list(self.jobs):
            self.cancel(job_id)

    def wait(self, ms: int = 30000) -> None:
        if self._worker is not None:
            self._worker.wait(ms)

    def _next(self) -> None:
        if self._worker is not None:
            return
        job = next((j for j in self.jobs.values() if j.state == JobState.QUEUED), None)
        if job is None:
            self.busy_changed.emit(False)
            return
        worker = _Worker(job, self.get_engine)
        worker.progress.connect(self._on_progress)
        worker.state.connect(self._on_state)
        worker.finished_ok.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        job.state = JobState.LOADING
        self.changed.emit(job.id)
        self.busy_changed.emit(True)
        worker.start()

    def _on_worker_finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.deleteLater()
        self._next()

    def _on_progress(self, job_id: int, done_s: float, total_s: float) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.done_s, job.total_s = done_s, total_s
            self.changed.emit(job_id)

    def _on_state(self, job_id: int, state: JobState) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.state.active:
            job.state = state
            self.changed.emit(job_id)

    def _finish(self, job_id: int, state: JobState, **values) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.state = state
        for k, v in values.items():
            setattr(job, k, v)
        self.changed.emit(job_id)
        self.job_done.emit(job_id)

    def _on_done(self, job_id: int, transcript, elapsed: float) -> None:
        self._finish(
            job_id,
            JobState.DONE,
            transcript=transcript,
            elapsed=elapsed,
            done_s=transcript.duration,
            total_s=transcript.duration,
        )

    def _on_failed(self, job_id: int, message: str) -> None:
        self._finish(job_id, JobState.FAILED, error=message)

    def _on_cancelled(self, job_id: int) -> None:
        self._finish(job_id, JobState.CANCELLED)


def short_error(job: FileJob) -> str:
    """The job's error sentence for its row: the row already names the file, so the folder goes."""
    return shown(job.error.replace(str(job.path), job.name))


class JobRow(QFrame):
    """One file: name, progress, state or error, and its actions."""

    def __init__(self, job: FileJob, on_cancel, on_open, on_export, on_remove, parent=None):
        super().__init__(parent)
        self.job_id = job.id
        self.setObjectName(f"job-{job.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 6, 4)
        text = QVBoxLayout()
        text.setSpacing(1)
        self.name = QLabel(shown(job.name))  # plain text: a file named "<img src=...>" is a name, not HTML
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.name.setToolTip(shown(job.path))
        f = self.name.font()
        f.setBold(True)
        self.name.setFont(f)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.name)
        text.addWidget(self.status)
        lay.addLayout(text, 1)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(150)
        self.bar.setTextVisible(True)
        lay.addWidget(self.bar)
        self.cancel_btn = QPushButton("Cancel")
        self.open_btn = QPushButton("Open")
        self.open_btn.setToolTip("Show the transcript of this file")
        self.export_btn = QPushButton("Export…")
        self.export_btn.setToolTip("Save the transcript as TXT, SRT, VTT or JSON")
        self.remove_btn = QToolButton()
        self.remove_btn.setText("✕")
        self.remove_btn.setToolTip("Remove this row")
        self.remove_btn.setAutoRaise(True)
        for b in (self.cancel_btn, self.open_btn, self.export_btn, self.remove_btn):
            lay.addWidget(b)
        self.cancel_btn.clicked.connect(lambda: on_cancel(self.job_id))
        self.open_btn.clicked.connect(lambda: on_open(self.job_id))
        self.export_btn.clicked.connect(lambda: on_export(self.job_id))
        self.remove_btn.clicked.connect(lambda: on_remove(self.job_id))
        self.update_from(job)

    def update_from(self, job: FileJob) -> None:
        active = job.state.active
        self.cancel_btn.setVisible(active)
        self.open_btn.setVisible(job.state == JobState.DONE)
        self.export_btn.setVisible(job.state == JobState.DONE)
        self.remove_btn.setVisible(not active)
        self.bar.setVisible(job.state in (JobState.LOADING, JobState.TRANSCRIBING, JobState.DONE))
        frac = job.done_s / job.total_s if job.total_s > 0 else 0.0
        self.bar.setValue(int(round(1000 * min(1.0, frac))))
        if job.state == JobState.QUEUED:
            status, color = "Waiting…", "#666666"
        elif job.state == JobState.LOADING:
            status, color = "Reading the file…", "#666666"
            self.bar.setRange(0, 0)  # busy indicator
        elif job.state == JobState.TRANSCRIBING:
            self.bar.setRange(0, 1000)
            self.bar.setFormat(f"{job.done_s:.0f} / {job.total_s:.0f} s")
            status, color = "Transcribing…", "#2f5d9e"
        elif job.state == JobState.DONE:
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
            self.bar.setFormat("%p%")
            text = job.transcript.text if job.transcript is not None else ""
            preview = (text[:140] + "…") if len(text) > 140 else text
            status = (
                f"Done in {job.elapsed:.1f} s: {preview}" if text else f"Done in {job.elapsed:.1f} s (no speech found)."
            )
            color = "#2d7d46"
        elif job.state == JobState.FAILED:
            status, color = short_error(job), "#c0392b"
        else:
            status, color = "Cancelled.", "#666666"
        self.status.setText(status)
        self.status.setStyleSheet(f"color: {color};")
        self.setProperty("state", job.state.value)


class FileJobsPanel(QWidget):
    """The list of file rows under the transcript, with an "Add files…" button."""

    add_requested = Signal()

    def __init__(self, queue: FileJobQueue, export_result: Callable[[int], None], parent=None):
        super().__init__(parent)
        self.queue = queue
        self.export_result = export_result
        self.rows: dict[int, JobRow] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        title = QLabel("Files")
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        head.addWidget(title)
        self.hint = QLabel("Drop audio or video files on the window to transcribe them.")
        self.hint.setStyleSheet("color: #777777;")
        head.addWidget(self.hint)
        head.addStretch(1)
        self.add_btn = QPushButton("Add files…")
        self.add_btn.clicked.connect(self.add_requested)
        self.clear_btn = QPushButton("Clear finished")
        self.clear_btn.clicked.connect(self.clear_finished)
        head.addWidget(self.add_btn)
        head.addWidget(self.clear_btn)
        outer.addLayout(head)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        self.rows_layout = QVBoxLayout(inner)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(4)
        self.rows_layout.addStretch(1)
        self.scroll_area.setWidget(inner)
        self.scroll_area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        outer.addWidget(self.scroll_area, 1)
        queue.changed.connect(self._on_changed)
        self._refresh_header()

    def open_result(self, job_id: int) -> None:
        """Show a finished job's transcript in a dialog of its own."""
        job = self.queue.jobs.get(job_id)
        if job is not None and job.state is JobState.DONE:
            dlg = ResultDialog(job, self.window())
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.show()

    def fit(self, splitter: QSplitter) -> None:
        """In ``splitter``: a header line until there are jobs, then tall enough for about three rows."""
        sizes = splitter.sizes()
        total = sum(sizes)
        jobs = self.queue.jobs
        want = min(240, 44 + 66 * len(jobs)) if jobs else self.minimumSizeHint().height()
        if len(sizes) == 2 and total > 0 and (sizes[1] < want or not jobs):
            splitter.setSizes([total - want, want])

    def _on_changed(self, job_id: int) -> None:
        job = self.queue.jobs.get(job_id)
        row = self.rows.get(job_id)
        if job is None:
            if row is not None:
                self.rows.pop(job_id)
                row.setParent(None)
                row.deleteLater()
        elif row is None:
            row = JobRow(job, self.queue.cancel, self.open_result, self.export_result, self.queue.remove)
            self.rows[job_id] = row
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
        else:
            row.update_from(job)
        self._refresh_header()

    def _refresh_header(self) -> None:
        self.hint.setVisible(not self.rows)
        self.scroll_area.setVisible(bool(self.rows))
        self.clear_btn.setVisible(any(not j.state.active for j in self.queue.jobs.values()))

    def clear_finished(self) -> None:
        for job_id, job in list(self.queue.jobs.items()):
            if not job.state.active:
                self.queue.remove(job_id)
