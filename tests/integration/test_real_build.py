"""End to end with the real speech engine (pyttsx3 on espeak-ng) and ffmpeg.

These run in CI; they fail, never skip, when a tool is missing.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import voiceguide.speech.pyttsx3_engine as engine_module
from tests.fakes import FakeEngine
from tests.integration.measure import (
    check_session,
    decode,
    energy_above,
    ffmpeg_loudness,
    ffmpeg_meter,
    id3_chapters,
    momentary,
    peak,
    probe,
    summary,
)
from voiceguide.build.session import SessionOptions, build_session
from voiceguide.cli import cli
from voiceguide.encode.meter import measure_file
from voiceguide.errors import SpeechError
from voiceguide.plan.timeline import Timeline
from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration


def test_the_default_five_minute_session(tmp_path: Path) -> None:
    out = tmp_path / "hamstring-5m-per-side.mp3"
    result = build_session(SessionOptions(), out)
    values = decode(out)
    holds = check_session(out, 300.0, result.timeline, values)
    assert len(holds) == 2
    info = probe(out)
    fmt: dict[str, Any] = info["format"]  # type: ignore[assignment]
    stream: dict[str, Any] = info["streams"][0]  # type: ignore[index]
    assert stream["codec_name"] == "mp3"
    assert int(stream["sample_rate"]) == SAMPLE_RATE
    assert int(stream["bit_rate"]) == 128000
    assert fmt["tags"]["title"] == "Strapped hamstring stretch: five minutes per side"
    assert fmt["tags"]["artist"] == "voiceguide"
    assert fmt["tags"]["album"] == "Strapped hamstring stretch"
    # The header duration that players show agrees with the audio to within a few frames.
    assert 0 <= float(fmt["duration"]) - result.timeline.length / SAMPLE_RATE < 0.08

    # Loudness, measured on the finished file by ffmpeg's EBU R128 meter.
    loudness = measure_file(out)
    assert abs(loudness.integrated - -16.0) <= 1.0
    assert loudness.true_peak <= -1.0
    assert result.written.levelled.final == loudness
    # As heard on headphones: the mono file measured as dual mono, by ffmpeg's own meter
    # (as one channel, 3 LU less: podcast practice for mono).
    log = ffmpeg_meter(out, frames=True)
    heard = summary(log)
    alone = ffmpeg_loudness(out, dual_mono=False, true_peak=False)
    assert abs(heard["integrated"] - -16.0) <= 1.0
    assert heard["true_peak"] <= -1.0
    assert heard["integrated"] - alone["integrated"] == pytest.approx(3.0, abs=0.1)
    # espeak-ng speaks at 22,050 Hz: nothing of it may be mirrored above 11,025 Hz.
    assert energy_above(values, 11_500) <= -70.0
    check_clean_sound(values, result.timeline)
    check_chime_balance(momentary(log), result.timeline)

    # ID3 chapters, read back with mutagen: a CTOC listing one CHAP per section.
    chapters = id3_chapters(out)
    assert [title for title, _, _ in chapters] == [
        "Introduction",
        "Left side: set-up",
        "Left side: hold",
        "Right side: set-up",
        "Right side: hold",
        "Outro",
    ]
    ms = [round(hold.start * 1000 / SAMPLE_RATE) for hold in result.timeline.holds]
    assert chapters[0][1] == 0
    assert [chapters[2][1], chapters[4][1]] == ms
    assert all(a[2] == b[1] for a, b in itertools.pairwise(chapters))
    assert chapters[-1][2] == round(result.timeline.length * 1000 / SAMPLE_RATE)


def check_clean_sound(values: Any, timeline: Timeline) -> None:
    """No clipping, no DC offset, and quiet where clips, pauses and chimes meet."""
    samples = np.asarray(values, dtype=np.int64)
    assert samples.max() < 32767
    assert samples.min() > -32768
    # A DC offset shows as a mean far from zero; under -70 dBFS (10 of 32768) there is none.
    # (espeak-ng leaves about -65 dBFS once levelled; the 30 Hz high-pass takes it off.)
    assert abs(samples.sum() / len(samples)) < 10, "no DC offset"
    edge = SAMPLE_RATE // 2000  # half a millisecond either side of every join
    for event in timeline.events[1:]:
        join = values[event.start - edge : event.start + edge]
        assert peak(join) < 328, f"a click at sample {event.start}"


def check_chime_balance(loudness: list[tuple[float, float]], timeline: Timeline) -> None:
    """A chime never sounds louder than the voice around it, by the session's EBU momentary
    loudness (as heard, dual mono: 3 LU above one channel's, chimes and speech alike)."""
    rate = timeline.sample_rate

    def during(kind: str) -> list[float]:
        spans = [(e.start / rate, e.end / rate) for e in timeline.events if e.kind == kind]
        return [m for t, m in loudness if any(a <= t - 0.4 and t <= b for a, b in spans)]

    speech, chimes = during("speech"), during("chime")
    assert max(chimes) <= statistics.median(speech) - 2.0


@pytest.mark.parametrize("hold", ["90s", "20s"])
def test_cli_build_is_exactly_timed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold: str
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["build", "--hold", hold, "-o", "s.mp3", "-q"])
    assert result.exit_code == 0, result.output
    script = runner.invoke(cli, ["script", "--hold", hold, "--json"])
    assert script.exit_code == 0, script.output
    data = json.loads(script.stdout)

    planned = SimpleNamespace(
        length=data["samples"],
        holds=[
            SimpleNamespace(start=h["start_sample"], end=h["end_sample"]) for h in data["holds"]
        ],
        events=[
            SimpleNamespace(
                kind=e["kind"],
                text=e["text"],
                start=e["start_sample"],
                end=e["end_sample"],
                length=e["end_sample"] - e["start_sample"],
            )
            for e in data["events"]
        ],
    )
    seconds = 90.0 if hold == "90s" else 20.0
    check_session(tmp_path / "s.mp3", seconds, planned)


def test_real_voices_are_listed() -> None:
    voices = Pyttsx3Engine().voices()
    assert any(v.id == "gmw/en-us" for v in voices)


def test_the_voices_are_listed_after_the_engine_said_which_it_is() -> None:
    # identity() asks the worker for less than voices() does: asking for the voices
    # after it must not be answered from what identity() was told.
    engine = Pyttsx3Engine()
    assert engine.identity().startswith(f"pyttsx3 {version('pyttsx3')}/libespeak")
    assert any(v.id == "gmw/en-us" for v in engine.voices())


def test_a_started_engine_answers_with_the_worker_it_started() -> None:
    engine = Pyttsx3Engine()
    engine.start()
    engine.start()  # one is enough
    (started,) = engine._live
    identity = engine.identity()
    assert engine._live == {started}  # no second worker was started to answer
    assert identity == Pyttsx3Engine().identity()  # and the answer is the same
    engine.close()


def test_a_build_starts_its_engine_before_asking_it_anything(tmp_path: Path) -> None:
    engine = FakeEngine()
    build_session(SessionOptions(hold=10.0), tmp_path / "a.mp3", engine)
    assert engine.calls[0] == "start"
    assert engine.calls.count("start") == 1


def test_long_text_is_spoken_whole() -> None:
    # pyttsx3 drops texts over ~200 characters; the engine splits and joins them.
    text = " ".join(["Breathe in slowly, and let the back of your leg relax."] * 6)
    engine = Pyttsx3Engine(workers=1)
    ((spoken, audio),) = list(engine.synthesize([text]))
    assert spoken == text
    seconds = len(audio.raw_data) / 2 / audio.frame_rate
    words = len(text.split())
    assert 0.5 * words * 60 / 150 < seconds < 2 * words * 60 / 150


def test_texts_are_spoken_longest_first() -> None:
    """With several texts for few workers, the longest are spoken first, so that no
    worker is left speaking a long text alone at the end (issue 17)."""
    texts = ["Relax.", "Keep your knee straight and your foot flexed.", "Breathe in slowly."]
    engine = Pyttsx3Engine(workers=1)
    spoken = [text for text, _ in engine.synthesize(texts)]
    assert spoken == [texts[1], texts[2], texts[0]]


def test_a_voice_id_matches_whatever_its_case() -> None:
    # People write language tags as en-GB; espeak-ng lists the voice as gmw/en-gb-x-rp.
    written, listed = Pyttsx3Engine(voice="gmw/en-GB-x-rp"), Pyttsx3Engine(voice="gmw/en-gb-x-rp")
    assert written.identity() == listed.identity()  # the same voice, and the same cache keys
    assert "/gmw/en-gb-x-rp/" in written.identity()


def test_an_unknown_voice_is_a_clear_error() -> None:
    # (Not "klingon": espeak-ng has a voice named Klingon, which that now matches.)
    with pytest.raises(SpeechError, match="unknown voice 'no-such-voice'; list the voices"):
        Pyttsx3Engine(voice="no-such-voice").identity()


def _fake_worker(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "worker.py"
    path.write_text(f"import sys, time\n{body}\n")
    return path


def test_a_hanging_engine_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "WORKER", _fake_worker(tmp_path, "time.sleep(60)"))
    monkeypatch.setattr(engine_module, "START_TIMEOUT", 1.0)
    with pytest.raises(SpeechError, match="stopped answering"):
        Pyttsx3Engine().identity()


def test_a_crashing_engine_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _fake_worker(tmp_path, "sys.stderr.write('Segmentation fault\\n'); sys.exit(139)")
    monkeypatch.setattr(engine_module, "WORKER", worker)
    with pytest.raises(SpeechError, match="crashed: Segmentation fault"):
        Pyttsx3Engine().identity()


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    build_session(SessionOptions(hold=10.0), tmp_path / "a.mp3")
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp3"]
    assert os.access(tmp_path / "a.mp3", os.R_OK)
