"""The language picker: "Detect automatically" or one of the model's languages, and "Translate into English".

The list comes from the loaded model's tokenizer (:func:`~amanuensis_desktop.whisper.language.language_tokens`);
an English-only model offers English alone, and translation only where the model can translate. Values are
the strings the settings and :class:`~amanuensis_desktop.whisper.transcribe.TranscribeOptions` take:
``language`` "auto" or a code, ``task`` "transcribe" or "translate".
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QWidget

from ..whisper.language import AUTO, LANGUAGE_NAMES, language_name

AUTO_TEXT = "Detect automatically"


class LanguagePicker(QWidget):
    def __init__(self, language: str = AUTO, task: str = "transcribe", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("language-picker")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setObjectName("language-combo")
        self.combo.setToolTip("The spoken language; detection runs on every 30 s of audio.")
        self.translate = QCheckBox("Translate into English", self)
        self.translate.setObjectName("translate-check")
        lay.addWidget(self.combo, 1)
        lay.addWidget(self.translate)
        self.set_model(list(LANGUAGE_NAMES), can_translate=True)
        self.set_value(language, task)

    def set_model(self, codes: list[str], can_translate: bool) -> None:
        """Offer ``codes`` (empty: an English-only model) and translation where the model can translate."""
        current = self.language()
        self.combo.clear()
        if not codes:
            self.combo.addItem("English (this model is English-only)", "en")
        else:
            self.combo.addItem(AUTO_TEXT, AUTO)
            for code in sorted(codes, key=language_name):
                self.combo.addItem(f"{language_name(code)} ({code})", code)
        idx = self.combo.findData(current)
        self.combo.setCurrentIndex(max(0, idx))
        self.translate.setEnabled(bool(codes) and can_translate)
        if not self.translate.isEnabled():
            self.translate.setChecked(False)
        self.translate.setToolTip("" if self.translate.isEnabled() else "This model cannot translate.")

    @classmethod
    def codes_for(cls, engine) -> tuple[list[str], bool]:
        """The language codes and translate ability of a loaded :class:`~amanuensis_desktop.engine.Engine`."""
        from ..whisper.language import language_tokens, model_can_translate

        tok = engine.tokenizer
        return list(language_tokens(tok)), model_can_translate(tok, engine.model_folder, engine.dims)

    def set_value(self, language: str, task: str) -> None:
        idx = self.combo.findData(language or AUTO)
        self.combo.setCurrentIndex(max(0, idx))
        self.translate.setChecked(task == "translate" and self.translate.isEnabled())

    def language(self) -> str:
        return str(self.combo.currentData() or AUTO)

    def task(self) -> str:
        return "translate" if self.translate.isChecked() else "transcribe"
