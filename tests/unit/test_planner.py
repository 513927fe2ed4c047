"""The planner: pure timing, tested on word-count clip lengths (no audio)."""

from __future__ import annotations

import itertools

import pytest

from voiceguide.encode.export import MP3_FRAME, mp3_exact_length
from voiceguide.errors import PlanError
from voiceguide.plan.planner import END_CHIME, START_CHIME, Pacing, plan
from voiceguide.plan.timeline import Timeline
from voiceguide.text.cues import CueSheet, compose
from voiceguide.text.routine import Routine, load_routine
from voiceguide.text.wording import Wording
from voiceguide.units import SAMPLE_RATE, to_samples

CHIMES = {START_CHIME: to_samples(3.0), END_CHIME: to_samples(3.4)}
PACING = Pacing()


def lengths(sheet: CueSheet, per_word: float = 0.4) -> dict[str, int]:
    return {t: to_samples(per_word * len(t.split()) + 0.3) for t in sheet.texts()}


def planned(hold: float | None = None, routine: Routine | None = None) -> Timeline:
    sheet = compose(routine or load_routine("hamstring"), Wording(), hold)
    return plan(sheet, lengths(sheet), CHIMES, PACING)


@pytest.mark.parametrize("hold", [10.0, 30.0, 60.0, 90.0, 150.5, 300.0, 1740.0])
def test_every_hold_lasts_exactly_as_asked(hold: float) -> None:
    timeline = planned(hold)
    assert [h.side for h in timeline.holds] == ["left", "right"]
    for h in timeline.holds:
        assert h.length == round(hold * SAMPLE_RATE)


def test_a_hold_runs_from_start_chime_onset_to_end_chime_onset() -> None:
    timeline = planned(90)
    chimes = [e for e in timeline.events if e.kind == "chime"]
    assert [c.role for c in chimes] == [START_CHIME, END_CHIME] * 2
    for hold, (start, end) in zip(
        timeline.holds, zip(chimes[::2], chimes[1::2], strict=False), strict=True
    ):
        assert (start.start, end.start) == (hold.start, hold.end)
        assert start.length == CHIMES[START_CHIME]
        assert end.length == CHIMES[END_CHIME]


@pytest.mark.parametrize("hold", [20.0, 90.0, 300.0])
def test_events_tile_the_session_without_overlap(hold: float) -> None:
    timeline = planned(hold)
    position = 0
    for event in timeline.events:
        assert event.start == position
        assert event.length > 0
        position = event.end
    assert position == timeline.length


@pytest.mark.parametrize("hold", [20.0, 90.0, 300.0])
def test_speech_in_a_hold_keeps_clear_of_both_chimes(hold: float) -> None:
    timeline = planned(hold)
    for h in timeline.holds:
        everything = [e for e in timeline.spoken() if h.start <= e.start < h.end]
        # The countdown's numbers have their own rules (see the countdown tests below).
        inside = [e for e in everything if e.role != "countdown"]
        counting = [e for e in everything if e.role == "countdown"]
        assert inside, "every hold has at least one cue"
        assert [e.text for e in counting] == ["Three.", "Two.", "One."]
        for e in everything:
            assert e.start >= h.start + CHIMES[START_CHIME] + to_samples(PACING.after_chime)
        for e in inside:
            assert e.end <= h.end - to_samples(PACING.before_chime)
        for a, b in itertools.pairwise(inside + counting[:1]):
            assert b.start - a.end >= to_samples(PACING.cue_gap)


def test_session_order_follows_the_routine() -> None:
    timeline = planned(60)
    roles = [e.role for e in timeline.events if e.kind != "pause"]
    # Collapse runs, so the shape reads like the session.
    shape = [r for i, r in enumerate(roles) if i == 0 or roles[i - 1] != r]
    assert shape[:4] == ["intro", "side_start", "step", "hold_start"]
    first_end = shape.index(END_CHIME)
    assert shape[first_end + 1 : first_end + 5] == ["release", "switch_sides", "side_start", "step"]
    assert shape[-1] == "outro"
    assert shape.count(START_CHIME) == shape.count(END_CHIME) == 2
    steps = [e for e in timeline.spoken() if e.role == "step"]
    assert len(steps) == 2 * len(load_routine("hamstring").steps)
    assert steps[1].text == "Put a yoga strap across the ball of your left foot."
    assert steps[9].text == "Put a yoga strap across the ball of your right foot."


def test_each_step_is_followed_by_its_pause() -> None:
    routine = load_routine("hamstring")
    timeline = planned(60)
    steps = [i for i, e in enumerate(timeline.events) if e.role == "step"][: len(routine.steps)]
    for step, index in zip(routine.steps, steps, strict=True):
        gap = timeline.events[index + 1]
        assert gap.kind == "pause"
        assert gap.length == to_samples(routine.pause_after(step))


def test_time_announcements_fall_exactly_on_their_marks() -> None:
    timeline = planned(300)
    for h in timeline.holds:
        cues = {e.text: e.start for e in timeline.spoken() if h.start < e.start < h.end}
        assert cues["Halfway. Two minutes and thirty seconds to go."] == h.start + to_samples(150)
        assert cues["Last ten seconds. Stay with it."] == h.end - to_samples(10)
        for minutes, word in [(4, "Four"), (3, "Three"), (2, "Two"), (1, "One")]:
            text = f"{word} minute{'s' if minutes > 1 else ''} left."
            assert cues[text] == h.end - to_samples(60 * minutes)


@pytest.mark.parametrize("hold", [30.385, 95.165, 300.0])
def test_cues_timed_by_the_time_left_sit_exactly_that_long_before_the_end(hold: float) -> None:
    # With these holds (to the millisecond) counting from the start would put the
    # last-seconds and one-minute cues a sample off, as rounding to samples falls.
    timeline = planned(hold)
    for h in timeline.holds:
        cues = {e.role: e for e in timeline.spoken() if h.start < e.start < h.end}
        assert h.end - cues["final_seconds"].start == to_samples(10)
        if hold > 60:
            one_minute = next(e for e in timeline.spoken() if e.text == "One minute left." and
                              h.start < e.start < h.end)  # fmt: skip
            assert h.end - one_minute.start == to_samples(60)


def test_a_five_minute_hold_fits_every_reminder_in_order() -> None:
    routine = load_routine("hamstring")
    timeline = planned(300)
    assert timeline.dropped == ()
    for h in timeline.holds:
        reminders = [
            e for e in timeline.spoken() if e.role == "reminder" and h.start < e.start < h.end
        ]
        assert len(reminders) == len(routine.reminders)
        final = next(
            e for e in timeline.spoken() if e.role == "final_seconds" and h.start < e.start < h.end
        )
        assert all(r.end <= final.start for r in reminders)
    texts = [e.text for e in timeline.spoken() if e.role == "reminder"][:7]
    assert texts[0].startswith("Check your foot. Keep both edges of your left foot")
    assert texts[-1].startswith("Stay aligned")


def test_long_holds_announce_every_five_minutes_then_each_of_the_last_five() -> None:
    timeline = planned(29 * 60)
    h = timeline.holds[0]
    marks = sorted(
        (h.end - e.start) // SAMPLE_RATE // 60
        for e in timeline.spoken()
        if e.role == "time_left" and h.start < e.start < h.end
    )
    assert marks == [1, 2, 3, 4, 5, 10, 15, 20, 25]


def test_a_short_hold_drops_the_lowest_priority_reminders_first() -> None:
    routine = load_routine("hamstring")
    timeline = planned(20)
    assert timeline.dropped, "a 20 s hold cannot hold seven reminders"
    assert {d.reason for d in timeline.dropped} <= {
        "no room left in the hold",
        "too close to a chime",
    }
    for side in routine.sides:
        kept = [e.text for e in timeline.spoken() if e.role == "reminder" and e.side == side]
        dropped = [d.text for d in timeline.dropped if d.role == "reminder" and d.side == side]
        everything = kept + dropped
        assert len(everything) == len(routine.reminders)
        # What is kept is the most important part of the list, in its order.
        order = {t: i for i, t in enumerate(everything)}
        assert sorted(kept, key=order.__getitem__) == kept
        assert all(order[k] < order[d] for k in kept for d in dropped)


def test_a_cue_that_would_overlap_a_more_important_one_is_dropped() -> None:
    sheet = compose(load_routine("hamstring"), Wording(), 40.0)
    slow = {t: to_samples(8.0) for t in sheet.texts()}  # every line takes 8 s
    timeline = plan(sheet, slow, CHIMES, PACING)
    hold = timeline.holds[0]
    # The final cue (30 s in) outranks halfway (20 s in, would end 2 s before it).
    final = [e for e in timeline.spoken() if e.role == "final_seconds" and e.side == "left"]
    assert [e.start for e in final] == [hold.end - to_samples(10)]
    halfway = [d for d in timeline.dropped if d.role == "halfway" and d.side == "left"]
    assert len(halfway) == 1
    assert halfway[0].reason == "would overlap 'Last ten seconds. Stay with it.'"


def test_hold_shorter_than_recommended_builds_with_a_note() -> None:
    timeline = planned(30)
    assert any("shorter than the one minute this routine recommends" in n for n in timeline.notes)
    assert planned(60).notes == ()


@pytest.mark.parametrize("hold", [5.0, 9.9, 7201.0])
def test_holds_out_of_range_are_refused(hold: float) -> None:
    with pytest.raises(PlanError, match="hold"):
        planned(hold)


def test_a_missing_clip_length_is_an_error() -> None:
    sheet = compose(load_routine("hamstring"), Wording(), 60)
    partial = lengths(sheet)
    partial.pop(next(iter(partial)))
    with pytest.raises(PlanError, match="no speech clip"):
        plan(sheet, partial, CHIMES, PACING)


def test_exact_length_only_lengthens_the_closing_silence() -> None:
    sheet = compose(load_routine("hamstring"), Wording(), 60)
    plain = plan(sheet, lengths(sheet), CHIMES, PACING)
    padded = plan(sheet, lengths(sheet), CHIMES, PACING, exact_length=lambda n: n + 100)
    assert padded.length == plain.length + 100
    assert padded.events[:-1] == plain.events[:-1]
    assert padded.events[-1].kind == "pause"


def test_mp3_exact_length_avoids_the_decoder_blind_spot() -> None:
    for n in range(10 * MP3_FRAME, 12 * MP3_FRAME):
        fixed = mp3_exact_length(n)
        assert n <= fixed < n + 47
        assert not 1 <= fixed % MP3_FRAME <= 46


def test_timeline_json_lists_every_event_and_hold() -> None:
    timeline = planned(90)
    data = timeline.to_dict()
    assert len(data["events"]) == len(timeline.events)
    assert {e["kind"] for e in data["events"]} == {"speech", "chime", "pause"}
    assert [h["duration"] for h in data["holds"]] == [90.0, 90.0]
    first = data["events"][1]
    assert first["end"] - first["start"] == pytest.approx(
        first["end_sample"] / SAMPLE_RATE - first["start_sample"] / SAMPLE_RATE
    )


@pytest.mark.parametrize(
    ("hold", "said"),
    [(9.5, "got 9.5 seconds"), (9.9999999, "got 9.9999999 seconds"), (5.0, "got five seconds")],
)
def test_a_hold_too_short_is_named_as_given(hold: float, said: str) -> None:
    # 9.5 s, in words, rounds to "ten seconds": the very minimum it falls short of.
    with pytest.raises(PlanError, match=f"at least ten seconds, {said};"):
        planned(hold)
