"""A decode whose result can no longer be used never delays a final (live/worker.py): a partial is abandoned when
its segment closes (push-to-talk release) or its speculative final is due, a speculation when speech resumes.
The fake engine honours ``cancel`` between 10 ms "steps", as the real decoder does between decoder steps; the
energy VAD and tones stand in for speech (no model, no sound server). About 4 s in all."""

from __future__ import annotations

import time

import numpy as np

from amanuensis_desktop.audio.sources import FileSource
from amanuensis_desktop.live import LiveOptions, LivePipeline
from amanuensis_desktop.live.confirm import GateOptions
from amanuensis_desktop.live.events import Final
from amanuensis_desktop.live.vad import VadOptions
from amanuensis_desktop.whisper.decoding import Cancelled

from .test_live_units import EnergyVad, FakeEngine, release_and_time_final, silence, tone

NO_GATE = GateOptions(enabled=False)  # tones are no speech to the neural gate


class SlowEngine(FakeEngine):
    """Partials (temperature 0) and the first ``slow_speculations`` speculative finals (finals given a cancel
    event) take ``slow_s`` unless cancelled; other finals are fast."""

    def __init__(self, slow_s: float = 3.0, slow_speculations: int = 0):
        super().__init__(delay=0.02)
        self.slow_s, self.slow_speculations = slow_s, slow_speculations
        self.cancelled: list[str] = []

    def transcribe(self, audio, **kw):
        cancel = kw.get("cancel")
        kind = "partial" if kw.get("temperature") == 0.0 else "speculation" if cancel is not None else "final"
        if kind == "speculation" and self.slow_speculations > 0:
            self.slow_speculations -= 1
            kind = "slow speculation"
        if kind in ("partial", "slow speculation"):
            until = time.monotonic() + self.slow_s
            while time.monotonic() < until:
                if cancel is not None and cancel.is_set():
                    self.cancelled.append(kind)
                    raise Cancelled()
                time.sleep(0.01)
        return super().transcribe(audio, **kw)


def _options(**kw) -> LiveOptions:
    return LiveOptions(
        detector=EnergyVad(), vad=VadOptions(short_speech_s=0.0), gate=NO_GATE, first_partial_speech_s=0.2, **kw
    )


def test_a_running_partial_does_not_delay_the_speculative_final():
    audio = np.concatenate([silence(0.3), tone(2.0), silence(1.5)])
    engine = SlowEngine(slow_s=3.0)
    events: list = []
    p = LivePipeline(engine, _options(), events.append, source=FileSource(audio, speed=4.0))
    p.start()
    assert p.wait(15)
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.text for f in finals] == ["w0 w1 w2 w3 w4 w5 w6 w7"]
    assert "partial" in engine.cancelled and p.stats["partials_abandoned"] >= 1
    assert finals[0].latency < 0.3  # a 3 s partial would have held it
    line = p.stats["timeline"][-1]
    assert line["speculative"] and line["decode_start_s"] <= line["decode_end_s"] <= line["emitted_s"] < 0.3


def test_release_abandons_a_running_partial():
    audio = np.concatenate([silence(0.3), tone(1.5), silence(3.0)])
    engine = SlowEngine(slow_s=3.0)
    events: list = []
    p = LivePipeline(engine, _options(push_to_talk=True, speculate=False), events.append, source=FileSource(audio))
    p.start()
    latency = release_and_time_final(p, events, 1.6, timeout_s=5)  # still speaking at 1.6 s: a partial is running
    assert [e.text for e in events if isinstance(e, Final)][0].startswith("w0 w1 w2")
    assert "partial" in engine.cancelled
    assert latency < 0.25


def test_speech_resuming_abandons_the_speculation():
    # a 0.35 s pause: the tail (0.2 s) completes, the speculation starts, then speech resumes
    audio = np.concatenate([silence(0.3), tone(1.0), silence(0.35), tone(1.0), silence(1.5)])
    engine = SlowEngine(slow_s=3.0, slow_speculations=1)
    events: list = []
    p = LivePipeline(engine, _options(partials=False), events.append, source=FileSource(audio, speed=2.0))
    p.start()
    assert p.wait(15)
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and engine.cancelled == ["slow speculation"]
    assert p.stats["speculative_abandoned"] == 1
    assert finals[0].latency < 0.5  # not held by the stale speculation (3 s)
