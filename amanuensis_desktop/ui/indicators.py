"""The window's indicators and input-device choice: each keeps its own state (no window logic here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from .. import live
from .settings_store import Key, SettingsStore
from .threads import run_task
from .widgets import backend_tooltip


class BackendIndicator(QLabel):
    """What is loaded, or what really computed the last text; every backend's status in the tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Backend: loading…", parent)
        self.setObjectName("backend-indicator")
        self.setAccessibleName("Backend")
        self.setContentsMargins(6, 0, 6, 0)
        self.statuses: list = []  # BackendStatus of every backend (also shown by the settings dialog)
        self.loaded_label = ""  # the loaded engine's backend
        self.computed_label = ""  # what computed the last text ('' until text is computed)

    def loading(self, model: str | None, backend: str) -> None:
        self.loaded_label = ""
        self.setText("Backend: loading…")
        self.setToolTip(f"Loading the model ({model or 'embedded tiny.en'}) with backend preference '{backend}'.")

    def failed(self, message: str) -> None:
        self.setText("Backend: none")
        self.setToolTip(message)

    def loaded(self, engine: Any) -> None:
        """A new engine: its backend, and every backend's status (probed on a Task thread if the engine was
        not built by Engine.load, which records them)."""
        selection = getattr(engine, "selection", None)
        self.loaded_label = engine.backend.label
        self.statuses = list(selection.statuses) if selection is not None else []
        self._show()
        if not self.statuses:
            from ..backends import probe_all

            run_task(probe_all, self.set_statuses, None)

    def set_statuses(self, statuses: list) -> None:
        self.statuses = list(statuses)
        self._show()

    def computed(self, label: str) -> None:
        self.computed_label = label
        self._show()

    def forget_computed(self) -> None:
        """A new model or backend: the next text says again what computed it."""
        self.computed_label = ""

    def _show(self) -> None:
        label, computed = self.computed_label or self.loaded_label, bool(self.computed_label)
        if label:
            self.setText(label if computed else f"{label} (ready)")
            self.setToolTip(backend_tooltip(label, computed, self.statuses))


class LatencyIndicator(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Latency — · backlog —", parent)
        self.setObjectName("latency-indicator")
        self.setAccessibleName("Latency and backlog")
        self.setContentsMargins(6, 0, 6, 0)
        self.setToolTip(
            "Latency: from the end of a sentence to its final text.\nBacklog: captured audio not yet transcribed."
        )
        self._latency: float | None = None
        self._backlog = "—"

    def set_latency(self, seconds: float) -> None:
        self._latency = seconds
        self._show()

    def set_backlog(self, seconds: float) -> None:
        self._backlog = f"{seconds:.1f} s"
        self._show()

    def _show(self) -> None:
        latency = "—" if self._latency is None else f"{self._latency:.2f} s"
        self.setText(f"Latency {latency} · backlog {self._backlog}")


class PowerIndicator(QLabel):
    """The power draw, read every 3 s on a Task thread while ``wanted()`` (e.g. while the window shows)."""

    def __init__(self, root: str = "/", wanted: Callable[[], bool] = lambda: True, parent: QWidget | None = None):
        super().__init__("Power: …", parent)
        from ..power import PowerMeter

        self.setObjectName("power-indicator")
        self.setAccessibleName("Power")
        self.setContentsMargins(6, 0, 6, 0)
        self.last: Any = None  # the last PowerReading
        self._meter = PowerMeter(root)
        self._wanted = wanted
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(3000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        QTimer.singleShot(0, self.refresh)

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._busy or not self._wanted():
            return
        self._busy = True
        run_task(self._meter.read, self._got, self._failed)

    def _got(self, reading: Any) -> None:
        self._busy = False
        self.setText(f"Power: {reading.summary()}")
        self.setToolTip(reading.details())
        self.last = reading

    def _failed(self, message: str) -> None:
        self._busy = False
        self.setText("Power: n/a")
        self.setToolTip(message)


class DeviceCombo(QComboBox):
    """The input device: the default microphone, the devices found, and the stored choice even when absent."""

    def __init__(self, store: SettingsStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.devices: list[dict] = []
        self.setObjectName("device-combo")
        self.setToolTip("Input device")
        self.setAccessibleName("Input device")
        self.setMinimumWidth(230)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.addItem("Default microphone", "")
        self.currentIndexChanged.connect(self._chosen)

    def refresh(self) -> None:
        """List the input devices on a Task thread."""
        run_task(live.list_input_devices, self.set_devices, self._failed)

    def _failed(self, message: str) -> None:
        self.setToolTip(f"Input device ({message})")

    def set_devices(self, devices: Any) -> None:
        self.devices = list(devices or [])
        self.show_stored()

    def show_stored(self) -> None:
        """The list again, with the stored choice selected."""
        wanted = self.store.get(Key.INPUT_DEVICE)
        self.blockSignals(True)
        self.clear()
        self.addItem("Default microphone", "")
        for dev in self.devices:
            self.addItem(dev["name"] + (" (default)" if dev.get("is_default") else ""), dev["name"])
        idx = self.findData(wanted)
        if idx < 0 and wanted:
            self.addItem(f"{wanted} (not connected)", wanted)
            idx = self.count() - 1
        self.setCurrentIndex(max(0, idx))
        self.blockSignals(False)

    def _chosen(self, _index: int) -> None:
        self.store.update({Key.INPUT_DEVICE: self.currentData() or ""})
