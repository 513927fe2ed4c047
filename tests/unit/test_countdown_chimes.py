"""The planner with the countdown and with chimes turned off or replaced (pure timing)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.unit.test_planner import CHIMES, PACING, lengths
from voiceguide.errors import PlanError
from voiceguide.plan.planner import END_CHIME, START_CHIME, plan
from voiceguide.plan.timeline import Timeline, format_script
from voiceguide.plan.transcript import to_vtt
from voiceguide.text.cues import COUNTDOWN, compose
from voiceguide.text.extras import Countdown, Extras
from voiceguide.text.routine import load_routine
from voiceguide.text.wording import Wording
from voiceguide.units import SAMPLE_RATE, to_samples

SECOND = SAMPLE_RATE
GAP = to_samples(PACING.cue_gap)


def planned(
    hold: float = 60.0,
    extras: Extras | None = None,
    wording: Wording | None = None,
    speech: dict[str, int] | None = None,
    chimes: dict[str, int] | None = None,
) -> Timeline:
    sheet = compose(load_routine("hamstring"), wording or Wording(), hold, extras)
    return plan(sheet, {**lengths(sheet), **(speech or {})}, chimes or CHIMES, PACING)


def counting(timeline: Timeline) -> list[list[tuple[str, int, float]]]:
    """Per hold: each countdown number's text, start relative to the hold's end, and gain."""
    return [
        [
            (e.text, e.start - h.end, e.gain)
            for e in timeline.spoken()
            if e.role == COUNTDOWN and h.start <= e.start < h.end
        ]
        for h in timeline.holds
    ]


# --- the countdown -----------------------------------------------------------------------


@pytest.mark.parametrize("hold", [20.0, 60.0, 150.5, 300.0])
def test_one_number_a_second_the_last_one_second_before_the_end_chime(hold: float) -> None:
    timeline = planned(hold, Extras(countdown=Countdown(3, -4.5)))
    expected = [("Three.", -3 * SECOND, -4.5), ("Two.", -2 * SECOND, -4.5),
                ("One.", -SECOND, -4.5)]  # fmt: skip
    assert counting(timeline) == [expected, expected]
    for h in timeline.holds:
        assert h.length == round(hold * SAMPLE_RATE), "holds stay exact to the sample"
        end_chime = next(e for e in timeline.events if e.role == END_CHIME and e.start == h.end)
        one = next(e for e in timeline.spoken() if e.text == "One." and h.start < e.start < h.end)
        assert end_chime.start - one.start == SECOND


def test_countdown_from_ten() -> None:
    timeline = planned(90.0, Extras(countdown=Countdown(10)))
    (numbers, _) = counting(timeline)
    assert [start for _, start, _ in numbers] == [-n * SECOND for n in range(10, 0, -1)]
    assert numbers[0][0] == "Ten."


def test_numbers_need_no_cue_gap_between_them_but_other_cues_end_a_gap_before() -> None:
    timeline = planned(300.0, Extras(countdown=Countdown(5)))
    for h in timeline.holds:
        inside = [e for e in timeline.spoken() if h.start <= e.start < h.end]
        numbers = [e for e in inside if e.role == COUNTDOWN]
        assert len(numbers) == 5
        for a, b in itertools.pairwise(numbers):
            assert b.start - a.start == SECOND  # closer than the 3 s cue gap
        for other in inside:
            if other.role != COUNTDOWN:
                assert other.end + GAP <= numbers[0].start


def test_a_cue_that_would_run_into_the_countdown_is_left_out_and_says_why() -> None:
    # Countdown from ten starts with "the last ten seconds": that cue gives way.
    timeline = planned(90.0, Extras(countdown=Countdown(10)))
    final = [d for d in timeline.dropped if d.role == "final_seconds"]
    assert [d.reason for d in final] == ["would run into the countdown"] * 2
    # Without the countdown, it is spoken.
    assert not [d for d in planned(90.0, Extras()).dropped if d.role == "final_seconds"]


def test_reminders_end_a_cue_gap_before_the_countdown() -> None:
    # Long reminders in a short hold: whatever is placed still ends in time.
    timeline = planned(40.0, Extras(countdown=Countdown(8)))
    for h in timeline.holds:
        start = min(e.start for e in timeline.spoken() if e.role == COUNTDOWN and e.start > h.start)
        reminders = [e for e in timeline.spoken() if e.role == "reminder" and h.start < e.start]
        assert all(r.end + GAP <= start for r in reminders if r.start < h.end)


def test_a_number_longer_than_its_second_is_left_out_with_the_reason() -> None:
    timeline = planned(60.0, Extras(countdown=Countdown(3)), speech={"Two.": SECOND + 1})
    assert [e[0] for e in counting(timeline)[0]] == ["Three.", "One."]
    reasons = {d.reason for d in timeline.dropped if d.role == COUNTDOWN}
    assert reasons == {"takes 1.00 s; each number has one second"}
    # Exactly one second is allowed: it ends as the next number begins.
    timeline = planned(60.0, Extras(countdown=Countdown(3)), speech={"Two.": SECOND})
    assert [e[0] for e in counting(timeline)[0]] == ["Three.", "Two.", "One."]


def test_numbers_too_early_for_a_short_hold_are_left_out() -> None:
    # 12 s hold: the start chime (3 s) and 1 s after it leave room from 4 s in.
    timeline = planned(12.0, Extras(countdown=Countdown(10)))
    numbers = counting(timeline)[0]
    assert [start for _, start, _ in numbers] == [-n * SECOND for n in range(8, 0, -1)]
    early = [d for d in timeline.dropped if d.role == COUNTDOWN and d.side == "left"]
    assert [d.text for d in early] == ["Ten.", "Nine."]
    assert {d.reason for d in early} == {"too close to the start of the hold"}


def test_the_countdown_is_templated(tmp_path: Path) -> None:
    (tmp_path / "countdown.j2").write_text("{{ ['eins', 'zwei', 'drei'][number - 1] }}!")
    timeline = planned(60.0, Extras(countdown=Countdown(3)), Wording(tmp_path))
    assert [e[0] for e in counting(timeline)[0]] == ["drei!", "zwei!", "eins!"]
    (tmp_path / "countdown.j2").write_text("{% if number < 3 %}{{ number }}{% endif %}")
    timeline = planned(60.0, Extras(countdown=Countdown(3)), Wording(tmp_path))
    assert [e[0] for e in counting(timeline)[0]] == ["2", "1"], "an empty line is not spoken"


def test_no_countdown_without_the_extra() -> None:
    assert counting(planned(60.0, Extras())) == [[], []]


# --- chimes off or replaced --------------------------------------------------------------


def test_with_no_start_chime_the_hold_begins_as_its_announcement_ends() -> None:
    timeline = planned(60.0, Extras(start_chime="off"))
    assert [e.role for e in timeline.events if e.kind == "chime"] == [END_CHIME] * 2
    for h in timeline.holds:
        assert h.length == 60 * SAMPLE_RATE
        before = [e for e in timeline.spoken() if e.role == "hold_start" and e.end <= h.start]
        announce = before[-1]
        assert announce.end == h.start
        assert announce.text.endswith("starting now.")
        first = min(e.start for e in timeline.spoken() if e.start > h.start)
        assert first >= h.start + to_samples(PACING.after_chime)


def test_with_no_end_chime_the_release_begins_as_the_hold_ends() -> None:
    timeline = planned(60.0, Extras(countdown=Countdown(), end_chime="off"))
    assert [e.role for e in timeline.events if e.kind == "chime"] == [START_CHIME] * 2
    for h in timeline.holds:
        assert h.length == 60 * SAMPLE_RATE
        release = next(e for e in timeline.spoken() if e.role == "release" and e.start >= h.end)
        assert release.start == h.end
        one = next(e for e in timeline.spoken() if e.text == "One." and h.start < e.start < h.end)
        assert h.end - one.start == SECOND


def test_with_both_chimes_off_holds_are_exact_and_need_no_chime_sounds() -> None:
    timeline = planned(45.0, Extras(start_chime="off", end_chime="off"), chimes={})
    assert not [e for e in timeline.events if e.kind == "chime"]
    assert [h.length for h in timeline.holds] == [45 * SAMPLE_RATE] * 2
    intro = timeline.spoken()[0].text
    assert "chime" not in intro


def test_a_chime_that_sounds_must_have_a_length() -> None:
    with pytest.raises(PlanError, match="the chime end has no length"):
        planned(45.0, Extras(start_chime="off"), chimes={START_CHIME: 0})


def test_the_wording_follows_the_chimes() -> None:
    def intro(extras: Extras) -> str:
        return planned(60.0, extras).spoken()[0].text

    assert intro(Extras()).endswith("one chime starts each hold, and a double chime ends it.")
    own = Path("bell.wav")
    assert intro(Extras(end_chime=own)).endswith("one starts each hold, and another ends it.")
    assert intro(Extras(end_chime="off")).endswith("A chime starts each hold.")
    assert intro(Extras(start_chime="off", end_chime=own)).endswith("A chime ends each hold.")


def test_script_json_and_transcript_show_the_chime_choice() -> None:
    timeline = planned(30.0, Extras(start_chime=Path("/x/bell.ogg"), end_chime="off"))
    script = format_script(timeline)
    assert "♪ start chime (bell.ogg): left hold begins (0:30.0)" in script
    assert "·  left hold ends, no end chime" in script
    lines = script.splitlines()
    ends = next(i for i, line in enumerate(lines) if "left hold ends" in line)
    assert "Well done." in lines[ends + 1], "the release follows the end of the hold"
    assert timeline.to_dict()["chimes"] == {"start": "bell.ogg", "end": "off"}
    assert "\nNOTE chimes: start bell.ogg, end off\n" in to_vtt(timeline)

    timeline = planned(30.0, Extras(start_chime="off"))
    assert "·  left hold begins (0:30.0), no start chime" in format_script(timeline)
    assert "♪ end chime: left hold ends" in format_script(timeline)
    assert timeline.to_dict()["chimes"] == {"start": "off", "end": "default"}
