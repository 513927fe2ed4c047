"""The layer plan: pacer tones, bed spans and ducking, exact to the sample (no audio)."""

from __future__ import annotations

import pytest

from tests.helpers import gain_at
from voiceguide.plan.layers import (
    BED_FADE,
    DUCK_HANG,
    DUCK_LEAD,
    DUCK_RAMP,
    END_GAP,
    Tone,
    duck_envelope,
    layer_lines,
    pacer_tones,
    plan_layers,
    tone_length,
)
from voiceguide.plan.timeline import Event, Hold, Timeline
from voiceguide.text.extras import Background, Extras, Pacer
from voiceguide.units import SAMPLE_RATE, to_samples

S = SAMPLE_RATE
HOLD = Hold("left", 10 * S, 70 * S)  # a minute
CHIME = 3 * S
SPEECH = (
    Event("speech", 20 * S, 2 * S, "reminder", "Breathe.", "left"),
    Event("speech", 40 * S, S, "halfway", "Halfway.", "left"),
    Event("speech", 41 * S + S // 4, S, "time_left", "Soon.", "left"),  # a quarter second on
)


def timeline(speech: tuple[Event, ...] = SPEECH, chime: bool = True) -> Timeline:
    sounds = [Event("speech", S, 2 * S, "intro", "Welcome.")]
    if chime:
        sounds.append(Event("chime", HOLD.start, CHIME, "chime_start", "start", "left"))
    sounds += [*speech, Event("chime", HOLD.end, CHIME, "chime_end", "end", "left")]
    events, position = [], 0
    for sound in sounds:
        if sound.start > position:
            events.append(Event("pause", position, sound.start - position, "pause"))
        events.append(sound)
        position = sound.end
    events.append(Event("pause", position, 5 * S, "pause"))
    return Timeline("test", "Test", 60.0, tuple(events), (HOLD,))


PACER_AND_BED = Extras(pacer=Pacer(), background=Background())


def test_no_layer_no_plan() -> None:
    plan = plan_layers(timeline(), Extras())
    assert not plan
    assert plan.tones == ()
    assert plan.beds == ()
    assert plan.spans == ()


@pytest.mark.parametrize("bpm", [6.0, 12.0])
def test_pacer_tones_alternate_inhale_and_exhale_at_the_rate(bpm: float) -> None:
    plan = plan_layers(timeline(), Extras(pacer=Pacer(breaths_per_minute=bpm)))
    first, last = HOLD.start + CHIME, HOLD.end - END_GAP
    half = round(30 * S / bpm)  # 5 s at 6 a minute, 2.5 s at 12
    length = tone_length(bpm)
    assert length == (to_samples(1.5) if bpm == 6 else round(0.4 * half))
    count = (last - length - first) // half + 1
    assert plan.tones == tuple(
        Tone("inhale" if k % 2 == 0 else "exhale", first + k * half, length) for k in range(count)
    )
    assert plan.tones[-1].end <= last < plan.tones[-1].start + half + length
    assert plan.spans == ((HOLD.start, HOLD.end),)


def test_pacer_tones_at_6_a_minute_in_samples() -> None:
    tones = pacer_tones(1000, 1000 + 21 * S, 6.0)
    assert [(t.kind, t.start) for t in tones] == [
        ("inhale", 1000),
        ("exhale", 1000 + 220500),
        ("inhale", 1000 + 441000),
        ("exhale", 1000 + 661500),
    ]  # the next, at 20 s, would end after 21 s
    assert {t.length for t in tones} == {66150}


def test_a_rate_that_is_no_whole_number_of_samples_does_not_drift() -> None:
    tones = pacer_tones(0, 62 * S, 11.0)  # a half breath is 120272.7 samples
    assert [t.start for t in tones[:4]] == [0, 120273, 240545, 360818]
    assert tones[22].start == 60 * S  # 11 breaths: one minute, exactly
    assert tones[22].kind == "inhale"
    assert {t.length for t in tones} == {round(0.4 * 30 * S / 11)}


def test_the_bed_fades_in_after_the_start_chime_and_out_before_the_end_chime() -> None:
    (bed,) = plan_layers(timeline(), Extras(background=Background())).beds
    assert (bed.start, bed.end) == (HOLD.start + CHIME, HOLD.end - END_GAP)
    assert bed.fade == (
        (bed.start, 0.0),
        (bed.start + BED_FADE, 1.0),
        (bed.end - BED_FADE, 1.0),
        (bed.end, 0.0),
    )
    assert gain_at(bed.fade, bed.start + BED_FADE // 2) == pytest.approx(0.5, abs=1e-5)


def test_the_bed_ducks_under_speech_with_ramps_and_close_lines_share_a_dip() -> None:
    (bed,) = plan_layers(timeline(), Extras(background=Background(duck=10.0))).beds
    low = 10 ** (-10 / 20)
    reminder, halfway, soon = SPEECH
    assert bed.duck == (
        (reminder.start - DUCK_LEAD - DUCK_RAMP, 1.0),
        (reminder.start - DUCK_LEAD, low),
        (reminder.end + DUCK_HANG, low),
        (reminder.end + DUCK_HANG + DUCK_RAMP, 1.0),
        # "Halfway." and "Soon." are a quarter second apart: one dip
        (halfway.start - DUCK_LEAD - DUCK_RAMP, 1.0),
        (halfway.start - DUCK_LEAD, low),
        (soon.end + DUCK_HANG, low),
        (soon.end + DUCK_HANG + DUCK_RAMP, 1.0),
    )
    # The values a listener meets: full, halfway down the ramp, ducked ahead of speech.
    assert gain_at(bed.duck, reminder.start - 2 * S) == 1.0
    into_ramp = DUCK_RAMP // 2
    assert gain_at(bed.duck, reminder.start - DUCK_LEAD - DUCK_RAMP + into_ramp) == pytest.approx(
        1 + (low - 1) * into_ramp / DUCK_RAMP
    )
    assert gain_at(bed.duck, reminder.start - DUCK_LEAD) == pytest.approx(low)
    assert gain_at(bed.duck, reminder.start + S) == pytest.approx(low)
    assert gain_at(bed.duck, halfway.end + S // 8) == pytest.approx(low)  # between the two
    assert gain_at(bed.duck, soon.end + S) == 1.0
    assert to_samples(0.05) == DUCK_RAMP  # tens of ms: smooth, never a click


def test_ducking_by_another_depth() -> None:
    envelope = duck_envelope(SPEECH[:1], 20.0)
    assert envelope[1][1] == pytest.approx(0.1)
    assert duck_envelope((), 10.0) == ((0, 1.0),)


def test_speech_outside_the_hold_does_not_duck_the_bed() -> None:
    plan = plan_layers(timeline(speech=()), Extras(background=Background()))
    assert plan.beds[0].duck == ((0, 1.0),)  # the welcome, before the hold, is ignored


def test_without_a_start_chime_the_layers_start_with_the_hold() -> None:
    plan = plan_layers(timeline(chime=False), PACER_AND_BED)
    assert plan.tones[0].start == plan.beds[0].start == HOLD.start


def test_the_script_lists_the_layers() -> None:
    assert layer_lines(timeline(), Extras()) == []
    assert layer_lines(timeline(), PACER_AND_BED) == [
        "breath pacer: 6 breaths a minute (a rising tone to breathe in, a falling one to "
        "breathe out), 12 tones in all, at -20 dB from the voice",
        "background: soft noise, looped and faded, at -28 dB from the voice, "
        "10 dB lower while someone speaks",
    ]
