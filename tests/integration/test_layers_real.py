"""Pacer and background bed under a real voice (pyttsx3 on espeak-ng), through ffmpeg:
decode the session and measure the layers where the plan put them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from tests.fakes import MINI
from tests.helpers import gain_at
from tests.integration.measure import assert_agrees_with_ffmpeg, decode, onset
from voiceguide.build.session import SessionOptions, build_session, prepare
from voiceguide.encode.meter import measure_file
from voiceguide.plan.layers import plan_layers, tone_length
from voiceguide.sound.sounds import active_level, pacer_tone
from voiceguide.text.extras import Background, Extras, Pacer
from voiceguide.units import SAMPLE_RATE

pytestmark = pytest.mark.integration

HOLD = 30.0
EXTRAS = Extras(pacer=Pacer(breaths_per_minute=6, volume=-20), background=Background(duck=10))
Floats = npt.NDArray[np.float64]


def db(ratio: float) -> float:
    return float(20 * np.log10(ratio))


def rms(values: Floats) -> float:
    return float(np.sqrt(np.mean(values**2)))


def test_pacer_and_bed_under_a_real_voice(tmp_path: Path) -> None:
    routine = tmp_path / "mini.yaml"
    routine.write_text(MINI, "utf-8")
    out = tmp_path / "mini.mp3"
    result = build_session(SessionOptions(routine=routine, hold=HOLD, extras=EXTRAS), out)
    timeline = result.timeline
    plan = plan_layers(timeline, EXTRAS)
    pcm = decode(out)
    values = np.array(pcm, dtype=np.float64) / 32768
    assert len(values) == timeline.length

    # Loudness of the whole, layers and all.
    loudness = measure_file(out)
    assert abs(loudness.integrated - -16.0) <= 1.0
    assert loudness.true_peak <= -1.0
    assert assert_agrees_with_ffmpeg(out, loudness)["true_peak"] <= -1.0

    # Holds are still exact, from chime onset to chime onset.
    for hold in timeline.holds:
        start, end = onset(pcm, hold.start), onset(pcm, hold.end)
        assert abs((end - start) - round(HOLD * SAMPLE_RATE)) <= round(0.010 * SAMPLE_RATE)

    # Layer volumes are relative to the voice as spoken: the active level of the clips,
    # before levelling (whose limiter then tames the voice's peaks, not the layers).
    prepared = prepare(SessionOptions(routine=routine, hold=HOLD, extras=EXTRAS))
    assert prepared.timeline == timeline
    gain = result.written.levelled.gain
    voice = prepared.sounds.voice_level * 10 ** (gain / 20)  # type: ignore[union-attr]

    # Where each sample should hold only the bed, at full level or ducked.
    speech = [e for e in timeline.events if e.kind == "speech"]
    busy = np.zeros(len(values), dtype=bool)
    for event in timeline.events:
        if event.kind != "pause":
            busy[event.start : event.end] = True
    for t in plan.tones:
        busy[t.start : t.end] = True
    full, ducked = np.zeros_like(busy), np.zeros_like(busy)
    low = 10 ** (-EXTRAS.background.duck / 20)  # type: ignore[union-attr]
    for bed in plan.beds:
        for n in range(bed.start, bed.end, 64):
            if busy[n] or gain_at(bed.fade, n) < 1:
                continue
            duck = gain_at(bed.duck, n)
            if duck == 1:
                full[n : n + 64] = True
            elif abs(duck - low) < 1e-9:
                ducked[n : n + 64] = True
    full &= ~busy
    ducked &= ~busy
    assert full.sum() > 5 * SAMPLE_RATE
    assert ducked.sum() > SAMPLE_RATE // 10, "some ducked bed clear of speech and tones"
    bed_level = rms(values[full])
    assert db(bed_level / voice) == pytest.approx(-28.0, abs=1)
    assert db(rms(values[ducked]) / bed_level) == pytest.approx(-10.0, abs=1.5)

    # Outside the holds, pauses are as silent as ever.
    for event in timeline.events:
        inside = any(h.start <= event.start < h.end for h in timeline.holds)
        if event.kind == "pause" and not inside and event.length > SAMPLE_RATE // 10:
            inner = values[event.start + 1200 : event.end - 1200]
            assert np.max(np.abs(inner), initial=0) < 200 / 32768

    # Each pacer tone is where the plan put it (matched filter), at -20 dB from the voice.
    length = tone_length(EXTRAS.pacer.breaths_per_minute)  # type: ignore[union-attr]
    window = round(0.05 * SAMPLE_RATE)
    assert len(plan.tones) == 2 * 6  # 26.5 s in each hold: tones at 0, 5, 10, 15, 20 and 25 s
    for tone in plan.tones:
        template = pacer_tone(tone.kind, length)
        segment = values[tone.start - window : tone.end + window]
        scores = np.correlate(segment, template, mode="valid")
        lag = int(np.argmax(scores)) - window
        assert abs(lag) <= round(0.001 * SAMPLE_RATE), f"{tone} found {lag} samples off"
        amplitude = scores[lag + window] / float(np.dot(template, template))
        if not any(e.start < tone.end and tone.start < e.end for e in speech):
            # (where speech sounds too, the limiter may take a little off both)
            assert db(amplitude * active_level([template]) / voice) == pytest.approx(-20, abs=1)
