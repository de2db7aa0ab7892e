"""Unit tests of live dictation without a model or a sound server: the VAD segmenter (pre-roll, hang-over,
max-length split at the quietest point, minimum speech), local agreement, the pipeline's mechanics with a fake
engine (order of events, nothing dropped on stop, device loss), device choice and the command line."""

from __future__ import annotations

import argparse
import io
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from amanuensis_desktop.errors import UserError
from amanuensis_desktop.live import FileSource, LiveOptions, LivePipeline
from amanuensis_desktop.live.agreement import LocalAgreement
from amanuensis_desktop.live.confirm import GateOptions
from amanuensis_desktop.live.events import BackendInfo, Backlog, Error, Final, Level, Partial, Stopped
from amanuensis_desktop.live.vad import FRAME, Segmenter, VadOptions

SR = 16000


class EnergyVad:
    """Deterministic stand-in for webrtcvad: a frame is speech when its RMS exceeds ``threshold``."""

    def __init__(self, threshold: float = 0.01):
        self.threshold = threshold

    def is_speech(self, pcm: bytes, rate: int) -> bool:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32767
        return float(np.sqrt(np.mean(x**2))) > self.threshold


def tone(seconds: float, amp: float = 0.3, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(seconds * SR))) / SR
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SR)), np.float32)


def release_and_time_final(pipeline, events: list, at_s: float, timeout_s: float = 10.0) -> float:
    """Push-to-talk: release once ``at_s`` of audio is captured, then wait for the first Final; seconds from
    the release to that Final (the pipeline is stopped)."""
    from amanuensis_desktop.live.events import Final

    while pipeline.captured_seconds < at_s:
        time.sleep(0.005)
    released = time.monotonic()
    pipeline.end_utterance()
    while not any(isinstance(e, Final) for e in events) and time.monotonic() - released < timeout_s:
        time.sleep(0.005)
    got = time.monotonic()
    pipeline.stop()
    return got - released


def run_segmenter(audio: np.ndarray, chunk: int = 700, **kw):
    """Push ``audio`` in chunks; return (events, sample position at which each event was produced)."""
    kw.setdefault("short_speech_s", 0.0)  # synthetic pauses test the plain hang-over; the adaptive one has its own test
    detector = kw.pop("vad", EnergyVad())
    seg = Segmenter(VadOptions(**kw), detector)
    out = []
    for i in range(0, audio.size, chunk):
        for e in seg.push(audio[i : i + chunk]):
            out.append((e, min(i + chunk, audio.size)))
    for e in seg.flush():
        out.append((e, audio.size))
    return out


def segments_of(events):
    """Reassemble segments as a consumer does: {id: dict(start, end, audio, close_at, too_short, reason)}."""
    segs: dict[int, dict] = {}
    for e, at in events:
        if e.kind == "open":
            segs[e.segment_id] = {"start": e.start, "chunks": [e.audio], "open_at": at}
        elif e.kind == "audio":
            segs[e.segment_id]["chunks"].append(e.audio)
        else:
            s = segs[e.segment_id]
            audio = np.concatenate(s["chunks"])[: e.end - s["start"]]
            s.update(end=e.end, audio=audio, close_at=at, too_short=e.too_short, reason=e.reason)
    return segs


# -- segmenter -----------------------------------------------------------------------------------------------
def test_pre_roll_keeps_audio_before_the_onset():
    audio = np.concatenate([silence(1.0), tone(1.0), silence(1.5)])
    segs = segments_of(run_segmenter(audio, pre_roll_s=0.3))
    assert len(segs) == 1
    s = segs[0]
    assert s["start"] <= 1.0 * SR - 0.3 * SR + FRAME  # at least ~300 ms before the first voiced frame
    assert s["start"] >= 1.0 * SR - 0.3 * SR - 2 * FRAME
    # the segment's audio is the original audio, sample for sample
    np.testing.assert_array_equal(s["audio"], audio[s["start"] : s["end"]])
    # with a longer pre-roll, more is kept
    longer = segments_of(run_segmenter(audio, pre_roll_s=0.6))[0]
    assert longer["start"] <= s["start"] - 0.25 * SR


def test_hangover_bridges_short_pauses_and_ends_after_long_ones():
    short_gap = np.concatenate([silence(0.5), tone(1.0), silence(0.3), tone(1.0), silence(1.5)])
    segs = segments_of(run_segmenter(short_gap, hangover_s=0.5))
    assert len(segs) == 1  # a 0.3 s pause does not end the segment
    long_gap = np.concatenate([silence(0.5), tone(1.0), silence(0.9), tone(1.0), silence(1.5)])
    events = run_segmenter(long_gap, hangover_s=0.5, tail_s=0.2)
    segs = segments_of(events)
    assert len(segs) == 2
    first = segs[0]
    speech_end = 1.5 * SR
    # closed only once the hang-over has passed, and ends tail_s after the speech
    assert first["close_at"] >= speech_end + 0.5 * SR - FRAME
    assert abs(first["end"] - (speech_end + 0.2 * SR)) <= 2 * FRAME
    assert first["reason"] == "silence"
    # the next segment never starts before the previous one ended (no duplicated audio)
    assert segs[1]["start"] >= first["end"]


def test_max_length_splits_at_the_quietest_point():
    # 20 s of "speech" whose quietest stretch (still voiced) is at 11.0-11.1 s; the limit is 15 s
    audio = np.concatenate([silence(0.5), tone(10.5, 0.3), tone(0.1, 0.02), tone(9.4, 0.3), silence(1.5)])
    segs = segments_of(run_segmenter(audio, max_segment_s=15.0))
    assert len(segs) == 2
    cut = segs[0]["end"]
    assert abs(cut - 11.0 * SR) <= 3 * FRAME, cut / SR
    assert segs[1]["start"] == cut  # contiguous: nothing lost, nothing repeated
    assert segs[0]["reason"] == "split"
    assert len(segs[0]["audio"]) <= 15.0 * SR
    total = sum(len(s["audio"]) for s in segs.values())
    assert total == segs[1]["end"] - segs[0]["start"]


def test_max_length_split_prefers_a_real_pause_in_the_second_half():
    audio = np.concatenate([silence(0.5), tone(3.0), silence(0.3), tone(5.0), silence(0.2), tone(6.0), silence(1)])
    segs = segments_of(run_segmenter(audio, max_segment_s=10.0, hangover_s=0.5))
    ends = [s["end"] / SR for s in segs.values()]
    # the 0.3 s pause at 3.5 s is in the first half (not eligible); the 0.2 s pause at 8.8 s is chosen
    assert 8.8 <= ends[0] <= 9.0, ends


def test_min_speech_marks_short_blips():
    blip = np.concatenate([silence(1.0), tone(0.21), silence(1.5)])
    events = run_segmenter(blip, min_speech_s=0.25)
    closes = [e for e, _ in events if e.kind == "close"]
    assert len(closes) == 1 and closes[0].too_short
    word = np.concatenate([silence(1.0), tone(0.35), silence(1.5)])
    closes = [e for e, _ in run_segmenter(word, min_speech_s=0.25) if e.kind == "close"]
    assert len(closes) == 1 and not closes[0].too_short
    click = np.concatenate([silence(1.0), tone(0.06), silence(1.5)])
    assert not [e for e, _ in run_segmenter(click) if e.kind == "open"]  # too short to even open


def test_flush_keeps_every_sample_of_the_open_segment():
    audio = np.concatenate([silence(0.5), tone(2.0)])[:-123]  # ends mid-speech, mid-frame
    segs = segments_of(run_segmenter(audio))
    s = segs[0]
    assert s["reason"] == "flush"
    assert s["end"] == audio.size
    np.testing.assert_array_equal(s["audio"], audio[s["start"] :])


def test_webrtcvad_on_real_speech_keeps_the_first_word(shared_audio):
    from amanuensis_desktop.bench.corpus import load_clip

    clip = load_clip("jfk.wav", shared_audio)
    audio = np.concatenate([silence(1.0), clip, silence(1.0)])
    segs = segments_of(run_segmenter(audio, vad=None, aggressiveness=2, pre_roll_s=0.3))
    assert segs
    # first sample louder than -40 dBFS in 10 ms blocks = where speech energy begins
    blocks = audio[: audio.size // 160 * 160].reshape(-1, 160)
    onset = int(np.argmax(np.sqrt(np.mean(blocks**2, axis=1)) > 0.01)) * 160
    assert segs[0]["start"] <= onset - 0.2 * SR
    # every loud block of the clip lies inside some segment
    loud = np.nonzero(np.sqrt(np.mean(blocks**2, axis=1)) > 0.05)[0] * 160
    inside = [any(s["start"] <= p < s["end"] for s in segs.values()) for p in loud]
    assert np.mean(inside) > 0.99


def test_segmenter_rejects_bad_aggressiveness():
    with pytest.raises(ValueError):
        Segmenter(VadOptions(aggressiveness=7))


# -- local agreement -----------------------------------------------------------------------------------------
def test_local_agreement_confirms_words_two_hypotheses_agree_on():
    la = LocalAgreement()
    assert la.update("And so") == ("", "And so")  # one hypothesis confirms nothing
    assert la.update("And so my fella") == ("And so", " my fella")
    assert la.update("And so my fellow Americans.") == ("And so my", " fellow Americans.")
    stable, unstable = la.update("and so my fellow americans, ask")  # case and punctuation do not matter
    assert stable == "And so my fellow americans," and unstable == " ask"


def test_local_agreement_never_retracts_and_realigns():
    la = LocalAgreement()
    la.update("Mr. John Dashwood had")
    la.update("Mr. John Dashwood had then")
    assert la.confirmed == ["Mr.", "John", "Dashwood", "had"]
    # the model now adds a word at the start: the confirmed words stay, the tail lines up after them
    stable, unstable = la.update("And Mr. John Dashwood had then leisure")
    assert stable == "Mr. John Dashwood had then"  # "then" agreed by the last two hypotheses
    assert unstable == " leisure"
    stable, unstable = la.update("And Mr. John Dashwood had then leisure to consider")
    assert stable == "Mr. John Dashwood had then leisure" and unstable == " to consider"
    # a wildly different hypothesis cannot remove confirmed words
    stable, _ = la.update("Something else entirely")
    assert stable.startswith("Mr. John Dashwood had then leisure")


def test_local_agreement_text_is_stable_plus_unstable():
    la = LocalAgreement()
    for hyp in ["He", "He was not.", "He was not an ill", "He was not an ill-disposed young man."]:
        stable, unstable = la.update(hyp)
        assert (stable + unstable).split() == (la.confirmed + unstable.split())
        assert not stable or not unstable or unstable.startswith(" ")


# -- the pipeline with a fake engine ---------------------------------------------------------------------------
class FakeBackend:
    label = "Fake · test"


class FakeEngine:
    """Transcribes a tone as one word per 0.25 s of loud audio ("w0 w1 ..."), with a delay."""

    def __init__(self, delay: float = 0.05, suffix: str = ""):
        self.backend = FakeBackend()
        self.suffix = suffix
        self.delay = delay
        self.calls: list[dict] = []

    def transcribe(self, audio, **kw):
        time.sleep(self.delay)
        self.calls.append({"n": audio.size, **kw})
        blocks = audio[: audio.size // 160 * 160].reshape(-1, 160)
        loud_ms = 10 * int((np.sqrt(np.mean(blocks**2, axis=1)) > 0.05).sum()) if blocks.size else 0
        text = " ".join(f"w{i}" for i in range((loud_ms + 5) // 250))
        text = text + self.suffix if text else text

        class R:
            pass

        r = R()
        r.text = text
        r.segments = []
        return r


def collect(pipeline_kwargs=None, audio=None, speed=20.0, engine=None, source=None):
    """A pipeline over ``audio`` with the fake engine and the energy VAD (webrtcvad adapts to steady tones)."""
    events = []
    if pipeline_kwargs is not None and pipeline_kwargs.detector is None:
        pipeline_kwargs = replace(pipeline_kwargs, detector=EnergyVad())
    if pipeline_kwargs is not None:  # synthetic ~1 s pauses: the plain hang-over (see the JFK test)
        pipeline_kwargs = replace(pipeline_kwargs, vad=replace(pipeline_kwargs.vad, short_speech_s=0.0))
    # Synthetic tones are not speech: the neural speech gate is off here (it has its own tests, test_noise_gate.py).
    no_gate = GateOptions(enabled=False)
    if pipeline_kwargs is not None:
        pipeline_kwargs = replace(pipeline_kwargs, gate=no_gate)
    engine = engine or FakeEngine()
    src = source or FileSource(audio, speed=speed)
    p = LivePipeline(
        engine,
        pipeline_kwargs or LiveOptions(detector=EnergyVad(), vad=VadOptions(short_speech_s=0.0), gate=no_gate),
        events.append,
        source=src,
    )
    return p, events, engine


def _run_fake(audio, speed=20.0, options=None):
    p, events, engine = collect(options or LiveOptions(), audio, speed)
    p.start()
    assert p.wait(30)
    return p, events, engine


def test_pipeline_event_order_and_everything_transcribed():
    audio = np.concatenate([silence(0.5), tone(2.0), silence(1.0), tone(1.0), silence(1.0)])
    p, events, engine = _run_fake(audio, options=LiveOptions(partial_interval_s=0.05, first_partial_speech_s=0.2))
    kinds = [type(e) for e in events]
    assert kinds[0] is BackendInfo and events[0].label == "Fake · test"
    assert kinds[-1] is Stopped and kinds.count(Stopped) == 1
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.segment_id for f in finals] == [0, 1]
    assert finals[0].text == "w0 w1 w2 w3 w4 w5 w6 w7"  # 2 s of tone
    assert finals[1].text == "w0 w1 w2 w3"
    assert finals[0].start < 0.5 < finals[0].end <= finals[1].start < finals[1].end
    assert all(f.latency >= 0 for f in finals)
    assert any(isinstance(e, Level) for e in events) and any(isinstance(e, Backlog) for e in events)
    assert not p.running
    assert [f.segment_id for f in finals] == sorted(f.segment_id for f in finals)


def test_partials_grow_and_never_follow_their_final():
    audio = np.concatenate([silence(0.5), tone(3.0), silence(1.0)])
    p, events, engine = _run_fake(
        audio, speed=2.0, options=LiveOptions(partial_interval_s=0.1, first_partial_speech_s=0.2)
    )
    partials = [e for e in events if isinstance(e, Partial)]
    assert len(partials) >= 3
    stables = [e.stable for e in partials]
    assert all(b.startswith(a) for a, b in zip(stables, stables[1:], strict=False))  # stable only grows
    final_at = next(i for i, e in enumerate(events) if isinstance(e, Final))
    assert not any(isinstance(e, Partial) for e in events[final_at:])
    # partials are greedy (temperature 0) and finals use the fallback temperatures
    assert any(c.get("temperature") == 0.0 for c in engine.calls)
    assert any("temperature" not in c for c in engine.calls)


def test_stop_during_speech_transcribes_the_last_words():
    audio = np.concatenate([silence(0.5), tone(6.0)])
    p, events, engine = collect(LiveOptions(), audio, speed=4.0)
    p.start()
    time.sleep(1.0)  # ~4 s of audio in: speech is going on
    p.stop()
    finals = [e for e in events if isinstance(e, Final)]
    assert isinstance(events[-1], Stopped)
    assert finals and finals[-1].text.startswith("w0 w1 w2")
    heard = p.captured_seconds
    assert finals[-1].end == pytest.approx(heard, abs=0.02)  # the segment runs to the last captured sample
    assert p.backlog_seconds == 0


def test_silence_gives_no_segment_and_no_model_call():
    audio = silence(60.0)
    p, events, engine = _run_fake(audio, speed=200.0)
    assert not engine.calls
    assert not [e for e in events if isinstance(e, (Final, Partial))]
    assert isinstance(events[-1], Stopped)


def test_prompt_is_the_previous_unfinished_final_but_not_over_near_silence():
    quiet_speech = tone(1.0, amp=0.008)
    audio = np.concatenate([silence(0.5), tone(1.5), silence(1.0), tone(1.5), silence(1.0), quiet_speech, silence(1.0)])
    # the energy VAD hears the quiet tone (RMS 0.0057 > 0.005); its peak RMS is under the prompt's 0.01
    p, events, engine = _run_fake(audio, options=LiveOptions(partials=False, detector=EnergyVad(0.005)))
    finals = [e for e in events if isinstance(e, Final)]
    prompts = [c["initial_prompt"] for c in engine.calls if "temperature" not in c]
    assert prompts[0] is None and prompts[1] == finals[0].text
    assert all(pr is None for pr in prompts[2:])  # the quiet one gets no prompt
    assert len(prompts) == 3
    _, events2, engine2 = _run_fake(
        audio, options=LiveOptions(partials=False, use_prompt=False, detector=EnergyVad(0.005))
    )
    assert all(c["initial_prompt"] is None for c in engine2.calls)
    # after a finished sentence there is no prompt (it would mostly repeat mistakes)
    p3, events3, engine3 = collect(
        LiveOptions(partials=False, detector=EnergyVad(0.005)), audio, speed=20.0, engine=FakeEngine(suffix=".")
    )
    p3.start()
    assert p3.wait(30)
    assert [e.text for e in events3 if isinstance(e, Final)][0] == "w0 w1 w2 w3 w4 w5."
    assert all(c["initial_prompt"] is None for c in engine3.calls)


class LostSource:
    """A source that delivers ``audio`` at real time x speed and then reports a lost device."""

    kind = "test"
    label = "test mic"
    sample_rate = 48000.0
    channels = 2

    def __init__(self, audio16k: np.ndarray, speed: float = 10.0):
        import soxr

        self.audio = soxr.resample(audio16k, 16000, 48000).astype(np.float32)
        self.speed = speed
        self.closed = False
        self.has_audio = False

    def open(self, q):
        def run():
            block = 480
            for i in range(0, self.audio.size, block):
                x = self.audio[i : i + block]
                q.put(("audio", np.stack([x, x], axis=1)))
                time.sleep(block / 48000 / self.speed)
            q.put(("error", "The microphone 'test mic' stopped delivering audio."))

        threading.Thread(target=run, daemon=True).start()

    def check(self):
        return None

    def close(self):
        self.closed = True


def test_device_lost_gives_an_error_and_keeps_the_words():
    audio = np.concatenate([silence(0.5), tone(2.0)])  # unplugged mid-utterance
    src = LostSource(audio)
    p, events, engine = collect(LiveOptions(), source=src)
    p.start()
    assert p.wait(30)
    errors = [e for e in events if isinstance(e, Error)]
    assert len(errors) == 1 and errors[0].fatal and "stopped delivering audio" in errors[0].message
    finals = [e for e in events if isinstance(e, Final)]
    assert finals and finals[-1].text.startswith("w0 w1 w2 w3 w4 w5")  # 48 kHz stereo → 16 kHz mono worked
    assert isinstance(events[-1], Stopped) and src.closed
    assert events.index(errors[0]) < events.index(finals[-1])


class DyingSource(LostSource):
    """Delivers ``audio`` and keeps its stream open, but its health check crashes once ``after_s`` of audio
    went in: the listener thread dies mid-segment without flushing the segmenter."""

    def __init__(self, audio16k: np.ndarray, after_s: float, speed: float = 10.0):
        super().__init__(audio16k, speed)
        self.after = int(after_s * 48000)
        self.sent = 0

    def open(self, q):
        def run():
            block = 480
            for i in range(0, self.audio.size, block):
                if self.closed:
                    return
                x = self.audio[i : i + block]
                q.put(("audio", np.stack([x, x], axis=1)))
                self.sent = i + x.size
                time.sleep(block / 48000 / self.speed)

        threading.Thread(target=run, daemon=True).start()

    def check(self):
        if self.sent >= self.after:
            raise RuntimeError("capture thread crashed\nwith a second line")
        return None


def test_listener_dying_mid_segment_still_gives_the_final_and_stop_returns():
    audio = np.concatenate([silence(0.5), tone(4.0)])
    src = DyingSource(audio, after_s=2.5)  # 2 s into the tone: the segment is open
    p, events, engine = collect(LiveOptions(partials=False), source=src)
    p.start()
    deadline = time.monotonic() + 10
    while not src.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert src.closed  # the listener died and closed the source
    stopper = threading.Thread(target=p.stop, daemon=True)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive(), "stop() hangs after the listener died mid-segment"
    errors = [e for e in events if isinstance(e, Error)]
    assert len(errors) == 1 and errors[0].fatal and "\n" not in errors[0].message
    assert errors[0].message == "Live dictation failed unexpectedly: capture thread crashed."
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and finals[0].text.startswith("w0 w1 w2 w3 w4 w5")  # >= 1.5 s of the tone
    assert isinstance(events[-1], Stopped) and not p.running


def test_engine_failure_is_a_non_fatal_error():
    class Broken(FakeEngine):
        def transcribe(self, audio, **kw):
            raise RuntimeError("boom")

    audio = np.concatenate([silence(0.5), tone(1.0), silence(1.0)])
    p, events, _ = collect(LiveOptions(), audio, speed=20.0, engine=Broken())
    p.start()
    assert p.wait(30)
    errors = [e for e in events if isinstance(e, Error)]
    assert errors and not any(e.fatal for e in errors)
    assert [e.text for e in events if isinstance(e, Final)] == [""]
    assert isinstance(events[-1], Stopped)


# -- devices and the command line ------------------------------------------------------------------------------
DEVICES = [
    {
        "index": 0,
        "name": "HDA Intel PCH: ALC257 Analog (hw:0,0)",
        "channels": 2,
        "default_samplerate": 48000.0,
        "is_default": False,
    },
    {
        "index": 3,
        "name": "USB Headset: Audio (hw:1,0)",
        "channels": 1,
        "default_samplerate": 44100.0,
        "is_default": False,
    },
    {"index": 5, "name": "pulse", "channels": 32, "default_samplerate": 44100.0, "is_default": True},
]


def test_resolve_input_device_by_name_index_and_default():
    from amanuensis_desktop.audio.devices import resolve_input_device

    assert resolve_input_device(None, DEVICES)["index"] == 5
    assert resolve_input_device(3, DEVICES)["name"].startswith("USB")
    assert resolve_input_device("3", DEVICES)["name"].startswith("USB")
    assert resolve_input_device("usb headset", DEVICES)["index"] == 3
    assert resolve_input_device("pulse", DEVICES)["index"] == 5
    with pytest.raises(UserError, match="no input device number 9"):
        resolve_input_device(9, DEVICES)
    with pytest.raises(UserError, match="No input device matches 'webcam'"):
        resolve_input_device("webcam", DEVICES)
    with pytest.raises(UserError, match="No microphone was found"):
        resolve_input_device(None, [])


def test_converter_streams_48k_stereo_to_16k_mono():
    from amanuensis_desktop.audio.convert import Converter

    t = np.arange(48000 * 2) / 48000
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    conv = Converter(48000, 2)
    out = [conv.push(np.stack([x[i : i + 441], x[i : i + 441]], axis=1)) for i in range(0, x.size, 441)]
    out.append(conv.flush())
    y = np.concatenate(out)
    assert abs(y.size - 32000) <= 2
    assert float(np.sqrt(np.mean(y[1000:-1000] ** 2))) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def _args(**kw):
    from amanuensis_desktop.live.command import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = []
    for k, v in kw.items():
        flag = "--" + k.replace("_", "-")
        argv += [flag] if v is True else [flag, str(v)]
    return parser.parse_args(argv)


def test_command_errors_are_one_sentence(tmp_path):
    from amanuensis_desktop.live.command import run

    out, err = io.StringIO(), io.StringIO()
    assert run(_args(input=tmp_path / "missing.wav"), out, err) == 1
    assert err.getvalue().count("\n") == 1 and "no such file" in err.getvalue()
    assert "Traceback" not in err.getvalue()
    err = io.StringIO()
    assert run(_args(input=tmp_path / "missing.wav", speed=-1), out, err) == 1
    assert "--speed" in err.getvalue()


def test_command_prints_finals_on_their_own_lines(monkeypatch, tmp_path):
    import soundfile as sf

    from amanuensis_desktop.live import command

    wav = tmp_path / "tone.wav"
    sf.write(
        wav, np.concatenate([silence(0.5), tone(1.0), silence(1.5), tone(0.5), silence(1.5)]), SR
    )  # pauses past the 1.2 s short-phrase hang-over
    import amanuensis_desktop.engine as engine_mod
    import amanuensis_desktop.live.pipeline as pipeline_mod

    monkeypatch.setattr(engine_mod.Engine, "load", classmethod(lambda cls, *a, **k: FakeEngine(0.0)))
    real = pipeline_mod.Segmenter
    monkeypatch.setattr(
        pipeline_mod, "Segmenter", lambda options, detector=None, **kw: real(options, EnergyVad(), **kw)
    )
    out, err = io.StringIO(), io.StringIO()
    assert command.run(_args(input=wav, speed=20, no_vad=True), out, err) == 0  # tones: no neural speech gate
    lines = [ln.split("\r")[-1].strip() for ln in out.getvalue().split("\n") if ln.split("\r")[-1].strip()]
    assert lines == ["w0 w1 w2 w3", "w0 w1"]
    assert "Fake · test" in err.getvalue()


def test_short_opening_phrase_waits_for_a_longer_pause(shared_audio):
    """JFK pauses ~1 s after "And so my fellow Americans,": with under 3 s of speech a segment needs a 1.2 s
    pause to end, so that phrase is decoded with what follows (alone, tiny.en hears "And so am I ...")."""
    import numpy as np

    from amanuensis_desktop.bench.corpus import load_clip
    from amanuensis_desktop.live.vad import Segmenter

    for offset in (0, 80, 160, 240, 320, 400):  # live capture lands on any 30 ms frame alignment
        audio = np.concatenate(
            [np.zeros(8000 + offset, np.float32), load_clip("jfk.wav", shared_audio), np.zeros(24000, np.float32)]
        )
        adaptive = Segmenter(VadOptions(aggressiveness=2))
        closes = [e for e in adaptive.push(audio) + adaptive.flush() if e.kind == "close"]
        assert len(closes) == 2 and closes[0].voiced / 16000 > 3.0, offset
    fixed = Segmenter(
        VadOptions(aggressiveness=2, short_speech_s=0.0)
    )  # the plain 0.5 s hang-over splits at every phrase
    assert len([e for e in fixed.push(audio) + fixed.flush() if e.kind == "close"]) == 4
