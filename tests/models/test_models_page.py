"""The Models page of the settings, in a real offscreen Qt app, downloading from the fake Hub on a QThread."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from amanuensis_desktop.models import installed  # noqa: E402
from amanuensis_desktop.ui.models_page import ModelsPage  # noqa: E402
from tests.models.constants import REPO  # noqa: E402


def test_download_progress_cancel_resume_remove(qtbot, hub, models_root):
    page = ModelsPage()
    qtbot.addWidget(page)
    page.show()
    assert page.row_status("tiny.en") == "embedded" and page.row_status("small") == "not downloaded"

    hub.faults.rate = 1_000_000  # slow enough to cancel
    page.spec.setText(REPO)
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    assert page.is_busy() and page.cancel_button.isEnabled() and not page.download_button.isEnabled()
    qtbot.waitUntil(lambda: page.bar.value() > 50 and "/s" in page.status.text(), timeout=10000)
    assert "left" in page.status.text()  # bytes, speed and time left
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=10000)
    assert "cancelled" in page.status.text() and "resume" in page.status.text()
    assert page.row_status(REPO) == ""  # not installed: not listed by repository
    assert installed(models_root) == []

    hub.faults.rate = None
    with qtbot.waitSignal(page.changed, timeout=30000):
        qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=10000)
    assert "is installed in" in page.status.text()
    assert page.row_status(REPO) == "installed"
    assert hub.file_gets("model.bin")[-1].range is not None  # the second run continued the first

    page.table.selectRow(page.names().index(REPO))
    assert page.spec.text() == REPO and page.remove_button.isEnabled()
    with qtbot.waitSignal(page.chosen, timeout=1000) as chosen:
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    assert chosen.args == [REPO]
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert page.row_status(REPO) == "" and installed(models_root) == []


def test_a_failed_download_shows_one_sentence(qtbot, hub, models_root):
    page = ModelsPage()
    qtbot.addWidget(page)
    page.spec.setText("acme/missing")
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=10000)
    assert page.status.text().startswith("The Hub has no repository 'acme/missing'")


def test_settings_dialog_has_the_models_page(qtbot, hub, models_root):
    from amanuensis_desktop import settings as S
    from amanuensis_desktop.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(S.validate({}), [], [], "/default/autosave")
    qtbot.addWidget(dlg)
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())] == ["General", "Models"]
    dlg.tabs.setCurrentWidget(dlg.models_page)
    dlg.models_page.table.selectRow(dlg.models_page.names().index("small"))
    assert not dlg.models_page.use_button.isEnabled()  # not downloaded: nothing to use yet
    dlg.models_page.table.selectRow(dlg.models_page.names().index("tiny.en"))
    qtbot.mouseClick(dlg.models_page.use_button, Qt.MouseButton.LeftButton)
    assert dlg.tabs.currentIndex() == 0 and dlg.values()["model"] == "tiny.en"
    hub.faults.rate = 500_000
    dlg.models_page.spec.setText(REPO)
    qtbot.mouseClick(dlg.models_page.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.models_page.bar.value() > 0, timeout=10000)
    dlg.reject()  # closing the dialog cancels the download and waits for its thread
    assert not dlg.models_page.is_busy()
    assert installed(models_root) == []
