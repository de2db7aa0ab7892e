"""The settings dialog (values persisted by SettingsStore / QSettings)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import settings as S
from .language_picker import LanguagePicker
from .models_page import ModelsPage
from .output_settings import OutputSettingsBox
from .settings_store import Key

_BACKEND_TEXT = {
    "auto": "Automatic (fastest that passes its self-check)",
    "cpu": "CPU (numpy reference)",
    "openvino": "OpenVINO",
    "npu": "NPU (AMD Ryzen AI)",
}
_VAD_TEXT = {0: "0 — keeps the most audio", 1: "1", 2: "2 — balanced", 3: "3 — drops the most noise"}


def _folder_row(edit: QLineEdit, title: str, parent: QWidget) -> QWidget:
    box = QWidget(parent)
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    browse = QPushButton("Browse…", box)

    def pick():
        folder = QFileDialog.getExistingDirectory(parent, title, edit.text() or "")
        if folder:
            edit.setText(folder)

    browse.clicked.connect(pick)
    lay.addWidget(browse)
    return box


class SettingsDialog(QDialog):
    def __init__(
        self,
        values: dict,
        devices: list[dict] | None = None,
        statuses: list | None = None,
        default_autosave: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Amanuensis settings")
        self.setObjectName("settings-dialog")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        general = QWidget()
        form = QFormLayout(general)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)

        self.model = QLineEdit(values[Key.MODEL])
        self.model.setPlaceholderText("embedded tiny.en")
        self.model.setToolTip(
            "A catalog name (see the Models page), a downloaded OWNER/REPO, or a model folder (CTranslate2 or "
            "safetensors); empty uses the embedded tiny.en."
        )
        form.addRow("Model:", _folder_row(self.model, "Choose a model folder", self))

        self.backend = QComboBox()
        reasons = {getattr(s, "name", ""): s for s in (statuses or [])}
        for name in S.BACKEND_CHOICES:
            self.backend.addItem(_BACKEND_TEXT[name], name)
            st = reasons.get(name)
            if st is not None:
                idx = self.backend.count() - 1
                state = "available" if st.available else "unavailable"
                self.backend.setItemData(idx, f"{state} — {st.reason}", Qt.ItemDataRole.ToolTipRole)
        self.backend.setCurrentIndex(max(0, self.backend.findData(values[Key.BACKEND])))
        form.addRow("Backend:", self.backend)

        self.device = QComboBox()
        self.device.addItem("Default microphone", "")
        for dev in devices or []:
            label = dev["name"] + (" (default)" if dev.get("is_default") else "")
            self.device.addItem(label, dev["name"])
        current = values[Key.INPUT_DEVICE]
        idx = self.device.findData(current)
        if idx < 0 and current:
            self.device.addItem(f"{current} (not connected)", current)
            idx = self.device.count() - 1
        self.device.setCurrentIndex(max(0, idx))
        form.addRow("Input device:", self.device)

        vad_box = QWidget()
        vl = QHBoxLayout(vad_box)
        vl.setContentsMargins(0, 0, 0, 0)
        self.vad = QSlider(Qt.Orientation.Horizontal)
        self.vad.setRange(0, 3)
        self.vad.setPageStep(1)
        self.vad.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.vad.setValue(int(values[Key.VAD_AGGRESSIVENESS]))
        self.vad_label = QLabel()
        self.vad_label.setMinimumWidth(170)
        self.vad.valueChanged.connect(lambda v: self.vad_label.setText(_VAD_TEXT[v]))
        self.vad_label.setText(_VAD_TEXT[self.vad.value()])
        vl.addWidget(self.vad, 1)
        vl.addWidget(self.vad_label)
        form.addRow("Voice detection:", vad_box)

        gate_box = QWidget()
        gl = QHBoxLayout(gate_box)
        gl.setContentsMargins(0, 0, 0, 0)
        self.speech_gate = QCheckBox("Neural speech gate, threshold")
        self.speech_gate.setChecked(bool(values[Key.SPEECH_GATE]))
        self.speech_gate.setToolTip(
            "A speech detector (Silero VAD) must hear speech before Whisper runs: running water, music, rain and "
            "traffic give no words. Off: everything the voice detection keeps is transcribed."
        )
        self.vad_threshold = QDoubleSpinBox()
        self.vad_threshold.setObjectName("vad-threshold")
        self.vad_threshold.setRange(0.05, 0.95)
        self.vad_threshold.setSingleStep(0.05)
        self.vad_threshold.setDecimals(2)
        self.vad_threshold.setValue(int(values[Key.VAD_THRESHOLD_PERCENT]) / 100.0)
        self.vad_threshold.setToolTip(
            "Speech probability from which audio counts as speech (default 0.50; higher "
            "drops more noise and risks soft speech)"
        )
        self.vad_threshold.setEnabled(self.speech_gate.isChecked())
        self.speech_gate.toggled.connect(self.vad_threshold.setEnabled)
        gl.addWidget(self.speech_gate)
        gl.addWidget(self.vad_threshold)
        gl.addStretch(1)
        form.addRow("Speech gate:", gate_box)

        self.clipboard = QCheckBox("Copy each final sentence to the clipboard")
        self.clipboard.setChecked(bool(values[Key.COPY_FINALS_TO_CLIPBOARD]))
        form.addRow("", self.clipboard)
        self.close_to_tray = QCheckBox("Closing the window keeps Amanuensis in the system tray")
        self.close_to_tray.setChecked(bool(values[Key.CLOSE_TO_TRAY]))
        form.addRow("", self.close_to_tray)
        self.mark_unsure = QCheckBox("Underline words Whisper is unsure of, below")
        self.mark_unsure.setChecked(bool(values[Key.MARK_UNSURE_WORDS]))
        self.mark_unsure.setToolTip("Times and weighs every word of finals and files (a small extra pass each).")
        self.unsure_percent = QSpinBox()
        self.unsure_percent.setRange(1, 99)
        self.unsure_percent.setSuffix(" %")
        self.unsure_percent.setValue(int(values[Key.UNSURE_WORD_PERCENT]))
        self.unsure_percent.setAccessibleName("Unsure word threshold")
        unsure_row = QHBoxLayout()
        unsure_row.addWidget(self.mark_unsure)
        unsure_row.addWidget(self.unsure_percent)
        unsure_row.addStretch(1)
        form.addRow("", unsure_row)
        self.words_per_cue = QSpinBox()
        self.words_per_cue.setObjectName("words-per-cue")
        self.words_per_cue.setRange(0, S.MAX_WORDS_PER_CUE)
        self.words_per_cue.setSpecialValueText("whole segments")  # shown for 0
        self.words_per_cue.setSuffix(" words")
        self.words_per_cue.valueChanged.connect(lambda n: self.words_per_cue.setSuffix(" word" if n == 1 else " words"))
        self.words_per_cue.setValue(int(values[Key.WORDS_PER_CUE]))
        self.words_per_cue.setAccessibleName("Words per subtitle cue")
        self.words_per_cue.setToolTip(
            "Saved SRT and WebVTT subtitles: a cue per segment, or cues of at most this many timed words "
            "(where words are timed: underlining unsure words on)."
        )
        form.addRow("Subtitle cues:", self.words_per_cue)

        self.language = LanguagePicker(str(values[Key.LANGUAGE]), str(values[Key.TASK]), self)
        form.addRow("Language:", self.language)

        self.autosave = QLineEdit(values[Key.AUTOSAVE_DIR])
        self.autosave.setPlaceholderText(default_autosave)
        self.autosave.setToolTip("The session transcript is saved here continuously; empty uses the data folder.")
        form.addRow("Autosave folder:", _folder_row(self.autosave, "Choose the autosave folder", self))

        self.tabs.addTab(general, "General")
        self.models_page = ModelsPage()
        self.models_page.chosen.connect(self._use_model)
        self.tabs.addTab(self.models_page, "Models")
        self.output = OutputSettingsBox(values, self)
        self.tabs.addTab(self.output, "Other apps")
        lay.addWidget(self.tabs)
        note = QLabel("A new model or backend is loaded in the background when you press OK.")
        note.setStyleSheet("color: #666666;")
        lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _use_model(self, spec: str) -> None:
        self.model.setText(spec)
        self.tabs.setCurrentIndex(0)

    def done(self, result: int) -> None:
        self.models_page.shutdown()  # a download still running is cancelled; its .part files are kept
        super().done(result)

    def values(self) -> dict:
        return S.validate(
            {
                Key.MODEL: self.model.text().strip(),
                Key.BACKEND: self.backend.currentData(),
                Key.INPUT_DEVICE: self.device.currentData() or "",
                Key.VAD_AGGRESSIVENESS: self.vad.value(),
                Key.SPEECH_GATE: self.speech_gate.isChecked(),
                Key.VAD_THRESHOLD_PERCENT: round(self.vad_threshold.value() * 100),
                Key.COPY_FINALS_TO_CLIPBOARD: self.clipboard.isChecked(),
                Key.CLOSE_TO_TRAY: self.close_to_tray.isChecked(),
                Key.AUTOSAVE_DIR: self.autosave.text().strip(),
                Key.MARK_UNSURE_WORDS: self.mark_unsure.isChecked(),
                Key.UNSURE_WORD_PERCENT: self.unsure_percent.value(),
                Key.WORDS_PER_CUE: self.words_per_cue.value(),
                Key.LANGUAGE: self.language.language(),
                Key.TASK: self.language.task(),
                **self.output.values(),
            }
        )
