"""Property tests of the planner: any valid routine, hold and clip lengths plan soundly.

hypothesis generates routines (sides, steps with and without pauses, reminders,
texts), a hold, the length of every spoken clip and of the chimes, pacing, and
the voice's extras (a countdown, each chime on or off); every timeline must keep
the planner's promises.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.encode.export import MP3_FRAME, mp3_exact_length
from voiceguide.plan.planner import END_CHIME, START_CHIME, Pacing, plan
from voiceguide.plan.timeline import Timeline
from voiceguide.text.cues import COUNTDOWN, FINAL_SECONDS, CueSheet, HoldCues, compose
from voiceguide.text.extras import Countdown, Extras
from voiceguide.text.routine import MAX_HOLD_SECONDS, Routine
from voiceguide.text.wording import Wording
from voiceguide.units import to_samples

WORDS = ["breathe", "slowly", "keep", "your", "knee", "straight", "relax", "the", "strap", "foot"]
SIDES = ["left", "right", "front", "back", "upper", "lower"]
HOLD_ROLES = {"reminder", "halfway", "time_left", "final_seconds", COUNTDOWN}
WORDING = Wording()

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(
    lambda words: " ".join(words).capitalize() + "."
)
pauses = st.integers(1, 20).map(lambda s: f"{s}s")
steps = st.one_of(texts, st.fixed_dictionaries({"text": texts, "pause": pauses}))
holds = st.one_of(
    st.integers(10, 600).map(float),
    st.floats(10.0, float(MAX_HOLD_SECONDS), allow_nan=False).map(lambda s: round(s, 3)),
)


@st.composite
def routines(draw: st.DrawFn) -> Routine:
    data: dict[str, Any] = {
        "name": "generated",
        "title": "Generated stretch",
        "sides": draw(st.lists(st.sampled_from(SIDES), min_size=1, max_size=4, unique=True)),
        "step_pause": draw(pauses),
        "steps": draw(st.lists(steps, min_size=1, max_size=6)),
        "reminders": draw(st.lists(texts, max_size=10)),
        "release": draw(st.one_of(st.just(""), texts)),
        "outro": draw(st.one_of(st.just(""), texts)),
    }
    return Routine.model_validate(data)


@dataclass(frozen=True)
class Planned:
    sheet: CueSheet
    timeline: Timeline
    chimes: dict[str, int]
    pacing: Pacing


@st.composite
def plans(draw: st.DrawFn) -> Planned:
    extras = Extras(
        countdown=draw(st.one_of(st.none(), st.integers(1, 10).map(Countdown))),
        start_chime=draw(st.sampled_from(["default", "off"])),
        end_chime=draw(st.sampled_from(["default", "off"])),
    )
    sheet = compose(draw(routines()), WORDING, draw(holds), extras)
    # Any plausible clip length, drawn for each distinct text.
    speech = {
        text: draw(st.integers(to_samples(0.2), to_samples(9.0)), label=text)
        for text in sheet.texts()
    }
    # Only the chimes that sound have a sound (and a length).
    chimes = {
        role: draw(st.integers(to_samples(0.3), to_samples(4.0)))
        for role, sound in ((START_CHIME, extras.start_chime), (END_CHIME, extras.end_chime))
        if sound != "off"
    }
    seconds = st.integers(0, 40).map(lambda tenths: tenths / 10)
    pacing = Pacing(
        lead_in=draw(seconds),
        before_chime=draw(seconds),
        after_chime=draw(seconds),
        cue_gap=draw(st.integers(5, 50).map(lambda tenths: tenths / 10)),
        tail=draw(seconds),
    )
    timeline = plan(sheet, speech, chimes, pacing, mp3_exact_length)
    return Planned(sheet, timeline, chimes, pacing)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_every_generated_plan_keeps_its_promises(p: Planned) -> None:
    # One generated plan, every invariant: generating is the slow part.
    check_holds_are_exact_to_the_sample(p)
    check_events_tile_the_session_in_order(p)
    check_speech_never_overlaps_speech_or_chimes(p)
    check_cues_stay_inside_their_holds_clear_of_the_chimes(p)
    check_every_cue_is_spoken_or_listed_as_dropped(p)


def check_holds_are_exact_to_the_sample(p: Planned) -> None:
    sections = [s for s in p.sheet.sections if isinstance(s, HoldCues)]
    assert [h.side for h in p.timeline.holds] == [s.side for s in sections]
    for hold, section in zip(p.timeline.holds, sections, strict=True):
        assert hold.length == to_samples(section.seconds)
        starts = [e for e in p.timeline.events if e.start == hold.start and e.kind == "chime"]
        ends = [e for e in p.timeline.events if e.start == hold.end and e.kind == "chime"]
        assert [e.role for e in starts] == [START_CHIME] * (START_CHIME in p.chimes)
        assert [e.role for e in ends] == [END_CHIME] * (END_CHIME in p.chimes)
        spoken = p.timeline.spoken()
        if START_CHIME not in p.chimes:  # the line before the hold ends as it begins
            assert max(e.end for e in spoken if e.start < hold.start) == hold.start
        if END_CHIME not in p.chimes:  # the line after it begins as it ends
            assert min(e.start for e in spoken if e.start >= hold.end) == hold.end
    assert not [e for e in p.timeline.events if e.kind == "chime" and e.role not in p.chimes]


def check_events_tile_the_session_in_order(p: Planned) -> None:
    position = 0
    for event in p.timeline.events:
        assert event.start == position, "no gap and no overlap"
        assert event.length > 0
        assert event.kind in ("speech", "chime", "pause")
        position = event.end
    assert position == p.timeline.length
    assert p.timeline.length % MP3_FRAME not in range(1, 47), "the length suits the MP3 decoder"
    # Sections come in the order of the cue sheet: each hold after the lines before it.
    assert [h.start for h in p.timeline.holds] == sorted(h.start for h in p.timeline.holds)
    for a, b in itertools.pairwise(p.timeline.holds):
        assert a.end < b.start


def check_speech_never_overlaps_speech_or_chimes(p: Planned) -> None:
    sounds = [e for e in p.timeline.events if e.kind != "pause"]
    for a, b in itertools.pairwise(sounds):
        assert a.end <= b.start
    gap_before_chime = to_samples(p.pacing.before_chime)
    for a, b in itertools.pairwise(sounds):
        if a.kind == "speech" and a.role != COUNTDOWN and b.kind == "chime":
            assert b.start - a.end >= gap_before_chime, "quiet before every chime"


def check_cues_stay_inside_their_holds_clear_of_the_chimes(p: Planned) -> None:
    after, before = to_samples(p.pacing.after_chime), to_samples(p.pacing.before_chime)
    gap = to_samples(p.pacing.cue_gap)
    spoken = p.timeline.spoken()
    for event in spoken:
        inside = [h for h in p.timeline.holds if h.start <= event.start < h.end]
        assert bool(inside) == (event.role in HOLD_ROLES), event
        for hold in inside:
            assert event.side == hold.side
            assert event.start >= hold.start + p.chimes.get(START_CHIME, 0) + after
            # The countdown's last number may end as the hold ends; others end earlier.
            assert event.end <= hold.end - (0 if event.role == COUNTDOWN else before)
    for hold in p.timeline.holds:
        cues = [e for e in spoken if hold.start <= e.start < hold.end]
        others = [e for e in cues if e.role != COUNTDOWN]
        numbers = [e for e in cues if e.role == COUNTDOWN]
        for a, b in itertools.pairwise(others + numbers[:1]):
            assert b.start - a.end >= gap, "cues in a hold keep the gap between them"
        for number in numbers:  # each on a whole second before the end, within it
            assert (hold.end - number.start) % to_samples(1.0) == 0
            assert number.length <= to_samples(1.0)


def check_every_cue_is_spoken_or_listed_as_dropped(p: Planned) -> None:
    sections = [s for s in p.sheet.sections if isinstance(s, HoldCues)]
    for hold, section in zip(p.timeline.holds, sections, strict=True):
        spoken = [e for e in p.timeline.spoken() if hold.start <= e.start < hold.end]
        dropped = [d for d in p.timeline.dropped if d.side == section.side]
        assert all(d.reason for d in dropped), "every dropped cue says why"
        assert len(spoken) + len(dropped) == len(section.cues)
        # Fixed cues fall exactly on their marks (those timed by the time left, counted
        # back from the end of the hold); reminders keep their order.
        for cue in section.cues:
            placed = [e for e in spoken if e.text == cue.text and e.role == cue.role]
            assert cue.from_end == (cue.role in {"time_left", "final_seconds", COUNTDOWN})
            if cue.from_end and placed:
                assert any(e.start == hold.end - to_samples(section.seconds - (cue.at or 0))
                           for e in placed)  # fmt: skip
            elif cue.at is not None and placed:
                assert any(e.start == hold.start + to_samples(cue.at) for e in placed)
        reminders = [e.text for e in spoken if e.role == "reminder"]
        wanted = [c.text for c in section.cues if c.role == "reminder"]
        for lost in reversed([d.text for d in dropped if d.role == "reminder"]):
            # The least important reminders, the last in the routine, are left out first.
            del wanted[len(wanted) - 1 - wanted[::-1].index(lost)]
        assert reminders == wanted
        final = [e for e in spoken if e.role == "final_seconds"]
        for event in final:
            assert event.start == hold.end - to_samples(FINAL_SECONDS)
