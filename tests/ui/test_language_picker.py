"""The language picker (Qt offscreen): the model's languages, English-only models, translation ability."""

from __future__ import annotations

from amanuensis_desktop.ui.language_picker import AUTO_TEXT, LanguagePicker


def test_multilingual_model_offers_detection_every_language_and_translation(qtbot):
    picker = LanguagePicker("de", "translate")
    qtbot.addWidget(picker)
    assert picker.combo.itemText(0) == AUTO_TEXT
    assert picker.language() == "de" and picker.task() == "translate"
    assert picker.combo.findData("ja") > 0 and "Japanese (ja)" in [
        picker.combo.itemText(i) for i in range(picker.combo.count())
    ]
    picker.set_model(["en", "de", "fr"], can_translate=False)  # e.g. large-v3-turbo
    assert picker.combo.count() == 4 and picker.language() == "de"
    assert not picker.translate.isEnabled() and picker.task() == "transcribe"


def test_english_only_model_offers_english_alone(qtbot):
    picker = LanguagePicker("fr", "transcribe")
    qtbot.addWidget(picker)
    picker.set_model([], can_translate=False)
    assert picker.combo.count() == 1 and picker.language() == "en"
    assert not picker.translate.isEnabled()
    picker.set_model(["en", "fr"], can_translate=True)
    picker.set_value("auto", "translate")
    assert picker.language() == "auto" and picker.task() == "translate"


def test_codes_for_a_loaded_engine():
    from amanuensis_desktop.engine import Engine

    engine = Engine.load("cpu")  # tiny.en: English-only
    assert LanguagePicker.codes_for(engine) == ([], False)


def test_window_warns_before_loading_a_model_too_big_for_the_memory(qtbot, tmp_path, monkeypatch, cpu_engine):
    from amanuensis_desktop.whisper import footprint
    from tests.ui.support import make_window

    w = make_window(qtbot, tmp_path, cpu_engine)
    monkeypatch.setattr(footprint, "available_memory", lambda: 64 << 20)  # 64 MB free: tiny.en will not fit
    monkeypatch.setattr(w.keeper, "start_load", lambda *a, **k: 0)  # no real load needed here
    w.load_engine()
    message = w.statusBar().currentMessage()
    assert message.startswith("This model needs about") and "available" in message
