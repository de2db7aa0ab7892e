"""End-pointing (live/endpoint.py) and push-to-talk: the segmenter with an energy VAD and a fake engine (no
model, no sound server): a sentence's end shortens the hang-over, nothing else does; the release ends the
utterance at once with every captured sample."""

from __future__ import annotations

import numpy as np

from amanuensis_desktop.audio.sources import FileSource
from amanuensis_desktop.live import LiveOptions, LivePipeline
from amanuensis_desktop.live.confirm import GateOptions
from amanuensis_desktop.live.endpoint import Endpointer, EndpointOptions, ends_sentence
from amanuensis_desktop.live.events import Final
from amanuensis_desktop.live.vad import FRAME, CloseReason, Segmenter, VadOptions

from .test_live_units import EnergyVad, FakeEngine, release_and_time_final, silence, tone

SR = 16000
NO_GATE = GateOptions(enabled=False)  # tones are no speech to the neural gate


def test_sentence_ends():
    assert ends_sentence("Ask not what your country can do for you.")
    assert ends_sentence(" Is it? ") and ends_sentence('He said "stop!"')
    assert not ends_sentence("And so my fellow Americans,") and not ends_sentence("and then...")
    assert not ends_sentence("")


def _voiced_end(seconds: float) -> int:
    """End sample of the last 30 ms frame holding speech that ends at ``seconds``."""
    return -(-int(round(seconds * SR)) // FRAME) * FRAME


def _segmenter(endpointer=None, **kw):
    kw.setdefault("short_speech_s", 0.0)
    ptt = kw.pop("ptt", False)
    return Segmenter(VadOptions(**kw), EnergyVad(), endpointer=endpointer, push_to_talk=ptt)


def _close_position(seg: Segmenter, audio: np.ndarray, on_open=None, chunk: int = 480):
    """Push ``audio``; (sample position at which the segment closed, the close event)."""
    for i in range(0, audio.size, chunk):
        for e in seg.push(audio[i : i + chunk]):
            if e.kind == "open" and on_open:
                on_open(e)
            if e.kind == "close":
                return i + chunk, e
    return None, None


def test_an_offer_that_ends_a_sentence_closes_after_the_short_pause():
    ep = Endpointer(EndpointOptions(pause_s=0.25), FRAME / SR)
    seg = _segmenter(ep, hangover_s=0.5, tail_s=0.2)
    ep.tail_frames = seg.tail
    audio = np.concatenate([silence(0.5), tone(1.5), silence(1.5)])
    speech_end = _voiced_end(2.0) + seg.tail * FRAME  # last voiced frame + tail
    ep.offer(0, speech_end, "Go forward ten meters.")
    at, close = _close_position(seg, audio)
    assert close.reason == CloseReason.ENDPOINT and close.end == speech_end
    assert 0.25 <= at / SR - 2.0 <= 0.25 + 0.07  # after the short pause, not the 0.5 s hang-over


def test_no_sentence_end_or_a_stale_offer_keeps_the_hang_over():
    for offer in (("Go forward and", 0), ("Go forward.", -FRAME)):  # no full stop; decoded on other audio
        ep = Endpointer(EndpointOptions(pause_s=0.25), FRAME / SR)
        seg = _segmenter(ep, hangover_s=0.5, tail_s=0.2)
        ep.tail_frames = seg.tail
        speech_end = _voiced_end(2.0) + seg.tail * FRAME
        ep.offer(0, speech_end + offer[1], offer[0])
        at, close = _close_position(seg, np.concatenate([silence(0.5), tone(1.5), silence(1.5)]))
        assert close.reason == CloseReason.SILENCE and at / SR - 2.0 >= 0.45


def test_short_segments_need_enough_words_and_a_longer_pause():
    opts = EndpointOptions(pause_s=0.25, short_pause_s=0.5, min_words=3)
    for text, early in (("So.", False), ("Turn on the lamp.", True)):
        ep = Endpointer(opts, FRAME / SR)
        seg = _segmenter(ep, hangover_s=0.5, short_speech_s=3.0, short_hangover_s=1.2, tail_s=0.2)
        ep.tail_frames = seg.tail
        ep.offer(0, _voiced_end(1.5) + seg.tail * FRAME, text)
        at, close = _close_position(seg, np.concatenate([silence(0.5), tone(1.0), silence(2.0)]))
        pause = at / SR - 1.5
        if early:
            assert close.reason == CloseReason.ENDPOINT and 0.45 <= pause < 0.6
        else:
            assert close.reason == CloseReason.SILENCE and pause >= 1.0


def test_push_to_talk_ignores_pauses_and_the_release_ends_the_segment():
    seg = _segmenter(hangover_s=0.5, tail_s=0.2, ptt=True)
    audio = np.concatenate([silence(0.5), tone(1.0), silence(1.0), tone(0.5), silence(0.1)])
    at, close = _close_position(seg, audio)
    assert close is None  # the 1 s pause did not close it
    events = seg.end_now()
    close = events[-1]
    assert close.kind == "close" and close.reason == CloseReason.RELEASE
    assert close.end >= int(3.0 * SR) // FRAME * FRAME  # the second phrase is in
    assert seg.end_now() == []  # nothing open any more


def test_release_after_a_pause_ends_at_the_tail_so_the_speculation_is_used():
    seg = _segmenter(hangover_s=0.5, tail_s=0.2, ptt=True)
    _close_position(seg, np.concatenate([silence(0.5), tone(1.0), silence(0.6)]))
    close = seg.end_now()[-1]
    assert close.end == _voiced_end(1.5) + seg.tail * FRAME


def test_pipeline_end_utterance_gives_the_final_at_once():
    """Push-to-talk through the whole pipeline, in real time: the final comes right after the release."""
    audio = np.concatenate([silence(0.3), tone(1.5), silence(4.0)])
    events: list = []
    engine = FakeEngine(delay=0.02, suffix=".")
    opts = LiveOptions(detector=EnergyVad(), push_to_talk=True, partials=False, gate=NO_GATE)
    p = LivePipeline(engine, opts, events.append, source=FileSource(audio, speed=1.0))
    p.start()
    latency = release_and_time_final(p, events, 1.85)
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.text for f in finals] == ["w0 w1 w2 w3 w4 w5."]
    assert latency < 0.25


def test_hands_free_pipeline_finalizes_a_sentence_early():
    audio = np.concatenate([silence(0.3), tone(1.5), silence(3.0)])
    events: list = []
    timed: list = []
    engine = FakeEngine(delay=0.02, suffix=".")
    opts = LiveOptions(detector=EnergyVad(), partials=False, vad=VadOptions(short_speech_s=0.0), gate=NO_GATE)

    def on_event(e):
        events.append(e)
        if isinstance(e, Final):
            timed.append(p.captured_seconds)

    p = LivePipeline(engine, opts, on_event, source=FileSource(audio, speed=1.0))
    p.start()
    assert p.wait(15)
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.text for f in finals] == ["w0 w1 w2 w3 w4 w5."]
    assert p.stats.get("speculative_used") == 1
    assert timed[0] - 1.8 < 0.45  # well before the 0.5 s hang-over (+ decode) would allow


def test_with_the_key_up_speech_opens_nothing_until_the_next_press():
    seg = _segmenter(hangover_s=0.5, tail_s=0.2, ptt=True)
    _close_position(seg, np.concatenate([silence(0.3), tone(0.8)]))
    assert seg.end_now(release=True)[-1].reason == CloseReason.RELEASE
    at, close = _close_position(seg, np.concatenate([silence(0.5), tone(1.0), silence(0.5)]))
    opened = []
    assert close is None and seg.end_now(release=True) == []  # spoken with the key up: ignored
    seg.press()
    _close_position(seg, np.concatenate([tone(1.0), silence(0.3)]), on_open=opened.append)
    assert len(opened) == 1
    events = seg.end_now(release=True)
    assert events[-1].kind == "close" and events[-1].reason == CloseReason.RELEASE


def test_quiet_voiced_frames_after_the_last_word_do_not_extend_the_speech():
    """webrtcvad-like detectors mark breath after the last word as voiced; with end-pointing, frames 26 dB
    below the segment's level do not count as its speech: the offer made at the loud end closes it early."""
    ep = Endpointer(EndpointOptions(pause_s=0.25), FRAME / SR)
    seg = Segmenter(VadOptions(short_speech_s=0.0, tail_s=0.2), EnergyVad(0.001), endpointer=ep)
    ep.tail_frames = seg.tail
    audio = np.concatenate([silence(0.5), tone(1.5, amp=0.3), tone(0.4, amp=0.005), silence(1.5)])
    ep.offer(0, _voiced_end(2.0) + seg.tail * FRAME, "Go forward ten meters.")
    at, close = _close_position(seg, audio)
    assert close.reason == CloseReason.ENDPOINT and close.end == _voiced_end(2.0) + seg.tail * FRAME
    assert at / SR - 2.0 < 0.35
