"""The Models page of the settings: the catalog and downloaded models, download with progress (bytes, speed,
time left), cancel, remove. Downloads run on a QThread; the GUI thread only gets signals."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..errors import UserError, one_sentence
from ..models import CATALOG, EMBEDDED, DownloadCancelled, download_model, installed, models_dir, remove
from ..models.progress import Progress, human_bytes, human_eta
from ..models.store import partial_size

logger = logging.getLogger(__name__)

COLUMNS = ("Model", "Size", "Languages", "Status")


class DownloadWorker(QObject):
    """Downloads one model on the thread it is moved to; ``cancel()`` may be called from any thread."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # DownloadResult
    failed = Signal(str)  # one sentence
    cancelled = Signal(str)  # one sentence

    def __init__(self, spec: str):
        super().__init__()
        self.spec = spec
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            self._download()
        finally:  # quit from this thread: the GUI thread may be blocked waiting for it (the dialog closing)
            thread = self.thread()
            if thread is not None:
                thread.quit()

    def _download(self) -> None:
        try:
            result = download_model(self.spec, progress=self.progress.emit, cancel=self._cancel)
        except DownloadCancelled as exc:
            self.cancelled.emit(str(exc))
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure becomes one sentence in the page
            logger.exception("model download failed")
            self.failed.emit(one_sentence(exc, "Unexpected error"))
        else:
            self.finished.emit(result)


def progress_text(p: Progress) -> str:
    return f"{human_bytes(p.done)} of {human_bytes(p.total)} · {human_bytes(p.speed)}/s · {human_eta(p.eta)} left" + (
        f" · {p.file}" if p.file else ""
    )


class ModelsPage(QWidget):
    """``chosen(spec)`` when the user asks to use a model; ``changed()`` after a download or removal."""

    chosen = Signal(str)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("models-page")
        self._thread: QThread | None = None
        self._worker: DownloadWorker | None = None
        lay = QVBoxLayout(self)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        lay.addWidget(self.table, 1)

        row = QHBoxLayout()
        self.spec = QLineEdit(self)
        self.spec.setPlaceholderText("a catalog name or OWNER/REPO from the Hugging Face Hub")
        row.addWidget(self.spec, 1)
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.remove_button = QPushButton("Remove", self)
        self.use_button = QPushButton("Use", self)
        for b in (self.download_button, self.cancel_button, self.remove_button, self.use_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setVisible(False)
        lay.addWidget(self.bar)
        self.status = QLabel(f"Models are kept in {models_dir()}.", self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)

        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.remove_button.clicked.connect(self.remove_selected)
        self.use_button.clicked.connect(lambda: self.chosen.emit(self.spec.text().strip()))
        self.spec.textChanged.connect(self._update_buttons)
        self.refresh()

    # -- the table -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        root = models_dir()
        present = {m.repo.lower(): m for m in installed(root)}
        rows: list[tuple[str, str, str, str]] = []
        for e in CATALOG:
            model = present.pop(e.repo.lower(), None)
            langs = (
                "English" if e.english_only else ("multilingual" if not e.can_translate else "multilingual, translate")
            )
            if e.name == EMBEDDED:
                status = "embedded"
            elif model is not None:
                status = "installed"
            else:
                status = _partial(e.repo)
            rows.append((e.name, f"{e.size_mb} MB", langs, status))
        for m in present.values():
            rows.append((m.repo, human_bytes(m.size), "", "installed"))
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self._update_buttons()

    def cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def names(self) -> list[str]:
        return [self.cell(r, 0) for r in range(self.table.rowCount())]

    def row_status(self, name: str) -> str:
        names = self.names()
        return self.cell(names.index(name), 3) if name in names else ""

    def _selected(self) -> None:
        items = self.table.selectedItems()
        if items:
            self.spec.setText(self.cell(items[0].row(), 0))

    def _update_buttons(self) -> None:
        busy = self._worker is not None
        spec = self.spec.text().strip()
        status = self.row_status(spec)
        self.download_button.setEnabled(not busy and bool(spec) and status not in ("installed", "embedded"))
        self.cancel_button.setEnabled(busy)
        self.remove_button.setEnabled(not busy and (status == "installed" or status.startswith("partial")))
        self.use_button.setEnabled(not busy and status in ("installed", "embedded"))

    # -- downloads ------------------------------------------------------------------------------------
    def start_download(self) -> None:
        spec = self.spec.text().strip()
        if not spec or self._worker is not None:
            return
        thread, worker = QThread(self), DownloadWorker(spec)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._progress)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        worker.cancelled.connect(self._failed)
        thread.finished.connect(self._cleanup)
        self._thread, self._worker = thread, worker
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.status.setText(f"Downloading {spec}…")
        self._update_buttons()
        thread.start()

    def cancel_download(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.status.setText("Cancelling…")

    def is_busy(self) -> bool:
        return self._worker is not None

    @Slot(object)
    def _progress(self, p: Progress) -> None:
        self.bar.setValue(int(p.fraction * 1000))
        self.status.setText(progress_text(p))

    @Slot(object)
    def _finished(self, result) -> None:
        self.status.setText(
            f"{result.name} is installed in {result.folder}."
            if not result.already_installed
            else f"{result.name} was already installed."
        )
        self.changed.emit()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _cleanup(self) -> None:
        if self._thread is None:
            return
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._thread = self._worker = None
        self.bar.setVisible(False)
        self.refresh()

    def remove_selected(self) -> None:
        spec = self.spec.text().strip()
        try:
            folder = remove(spec)
        except UserError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText(f"Removed {spec} ({folder}).")
        self.refresh()
        self.changed.emit()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel a running download and wait for its thread (the dialog is closing)."""
        if self._worker is not None and self._thread is not None:
            self._worker.cancel()
            if self._thread.wait(timeout_ms):
                self._cleanup()


def _partial(repo: str) -> str:
    kept = partial_size(repo)
    return f"partial ({human_bytes(kept)} kept)" if kept else "not downloaded"
