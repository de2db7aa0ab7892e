"""Live dictation uses the chosen language and task (fake engine: no model needed here)."""

from __future__ import annotations

import numpy as np

from amanuensis_desktop.live.pipeline import LiveOptions
from tests.live.test_live_units import _run_fake, silence, tone


def test_live_decodes_in_the_chosen_language_and_task():
    audio = np.concatenate([silence(0.5), tone(1.0), silence(1.5)])
    _p, _events, engine = _run_fake(audio, options=LiveOptions(language="de", task="translate"))
    assert engine.calls
    assert all(c.get("language") == "de" and c.get("task") == "translate" for c in engine.calls)


def test_live_auto_leaves_detection_to_the_engine():
    audio = np.concatenate([silence(0.5), tone(1.0), silence(1.5)])
    _p, _events, engine = _run_fake(audio, options=LiveOptions(language="auto"))
    assert engine.calls and all("language" not in c and "task" not in c for c in engine.calls)
