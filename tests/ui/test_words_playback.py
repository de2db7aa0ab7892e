"""Click to listen through a real output: a word clicked in the window (real Qt, offscreen) is played by the
real player (paplay in a process of its own; sounddevice where it is missing) into a null sink of the private
PulseAudio daemon, recorded back from the sink's monitor (parec), and found in the source audio by
cross-correlation: the played span is the word's audio with its context (offset and length within 50 ms;
measured: 0 ms once the player pads the clip with silence, 13-15 ms lost at the start and ~20 ms at the end
without)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402

from amanuensis_desktop.live.events import Final  # noqa: E402
from amanuensis_desktop.ui.playback import CONTEXT_S  # noqa: E402
from amanuensis_desktop.whisper.audio import SAMPLE_RATE  # noqa: E402
from amanuensis_desktop.whisper.words import Word  # noqa: E402
from tests.ui.support import make_window  # noqa: E402

SINK = "listen_sink"
START = 5.0  # the final's start in session seconds: its audio (jfk.wav) begins there
WORDS = (
    Word(" And", 5.05, 5.60, 0.9),  # its context reaches before the kept audio: clipped to the audio's start
    Word(" so", 5.60, 5.95, 0.9),
    Word(" my", 5.95, 6.20, 0.4),
    Word(" fellow", 6.20, 6.70, 0.95),
    Word(" Americans,", 6.70, 7.40, 0.9),
)
TEXT = "And so my fellow Americans,"


class Recorder:
    """``parec`` on a sink's monitor, read in a thread (16 kHz mono s16), from the moment it really records."""

    def __init__(self, env: dict, source: str):
        self.proc = subprocess.Popen(
            ["parec", "-d", source, "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.chunks: list[bytes] = []
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._started.wait(10), "parec recorded nothing"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read(640):
            self.chunks.append(chunk)
            self._started.set()

    def stop(self) -> np.ndarray:
        self.proc.kill()
        self.proc.wait()
        self._thread.join(5)
        return np.frombuffer(b"".join(self.chunks), np.int16)


@pytest.fixture
def listen_sink(virtual_mic):
    """A null sink of its own on the virtual microphone's daemon, the default output while the test runs (where
    PortAudio's default device plays); the default and the module restored afterwards."""
    if shutil.which("parec") is None:
        pytest.skip("parec not installed (apt install pulseaudio-utils)")
    from amanuensis_desktop.ui import playback

    info = virtual_mic.pactl("info").stdout
    before = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Default Sink:")), "")
    module = virtual_mic.pactl("load-module", "module-null-sink", f"sink_name={SINK}", "rate=16000", "channels=1")
    virtual_mic.pactl("set-default-sink", SINK)
    yield virtual_mic
    playback.stop()  # closes the player's stream (PortAudio may be re-initialised later in the session)
    if before:
        virtual_mic.pactl("set-default-sink", before, check=False)
    virtual_mic.pactl("unload-module", module.stdout.strip(), check=False)


def locate(played: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """Where ``played`` best matches in ``source`` (normalised cross-correlation by FFT) and how well (0..1)."""
    n, m = source.size, played.size
    size = 1 << int(np.ceil(np.log2(n + m)))
    corr = np.fft.irfft(np.fft.rfft(source, size) * np.conj(np.fft.rfft(played, size)), size)[: n - m + 1]
    energy = np.concatenate(([0.0], np.cumsum(source.astype(np.float64) ** 2)))
    window = np.sqrt(np.maximum(energy[m:] - energy[:-m], 1e-12)) * np.sqrt(np.sum(played.astype(np.float64) ** 2))
    score = corr / window
    lag = int(np.argmax(score))
    return lag, float(score[lag])


def click_word(qtbot, view, word: str) -> None:
    pos = view.toPlainText().index(word) + 1
    cur = QTextCursor(view.document())
    cur.setPosition(pos)
    point = view.cursorRect(cur).center()
    with qtbot.waitSignal(view.word_clicked, timeout=2000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))


def test_clicked_word_is_played_through_a_real_output(qtbot, tmp_path, listen_sink, shared_audio):
    from amanuensis_desktop.audio.files import load_audio

    source = load_audio(shared_audio / "jfk.wav")[: 4 * SAMPLE_RATE]  # the final's audio, from START
    from amanuensis_desktop.ui.threads import Task

    window = make_window(qtbot, tmp_path, mark_unsure_words=True)
    assert Task.wait_all(120_000)  # the engine loaded: a word is clicked on a settled window, as people do
    window.dictation.route(Final(0, TEXT, START, START + source.size / SAMPLE_RATE, 0.1, WORDS, source))
    assert window.view.toPlainText().strip() == TEXT
    errors = []
    for word in WORDS[3], WORDS[0]:
        want_start = max(0.0, word.start - CONTEXT_S - START)  # seconds into the source
        want_len = word.end + CONTEXT_S - START - want_start
        recorder = Recorder(listen_sink.env, f"{SINK}.monitor")
        time.sleep(0.2)
        click_word(qtbot, window.view, word.word.strip())
        qtbot.wait(int((want_len + 1.5) * 1000))  # the window's event loop runs while the word plays
        recorded = recorder.stop()
        assert "Cannot play" not in window.statusBar().currentMessage()
        loud = np.flatnonzero(recorded != 0)
        assert loud.size, f"nothing reached the sink for {word.word!r}"
        played = recorded[loud[0] : loud[-1] + 1].astype(np.float32) / 32768
        lag, score = locate(played, source)
        offset_err = abs(lag / SAMPLE_RATE - want_start)
        length_err = abs(played.size / SAMPLE_RATE - want_len)
        errors.append((word.word, offset_err, length_err, score))
        print(
            f"{word.word!r}: played {played.size / SAMPLE_RATE:.3f} s from {lag / SAMPLE_RATE:.3f} s (wanted "
            f"{want_len:.3f} s from {want_start:.3f} s): offset error {offset_err * 1000:.1f} ms, length error "
            f"{length_err * 1000:.1f} ms, match {score:.4f}"
        )
        assert score > 0.99, "what was played is not the source's audio"
        assert offset_err <= 0.05 and length_err <= 0.05
    assert len(errors) == 2
