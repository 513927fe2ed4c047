"""The studio's timeline picture: shapes to scale, from a timeline (pure)."""

from __future__ import annotations

from voiceguide.plan.timeline import Dropped, Event, Hold, Timeline
from voiceguide.studio.picture import WIDTH, fitting, picture
from voiceguide.units import SAMPLE_RATE

S = SAMPLE_RATE


def small_timeline() -> Timeline:
    """10 s of set-up speech, a 40 s hold with one reminder, 10 s of closing words."""
    events = (
        Event("speech", 0, 10 * S, "intro", "Welcome."),
        Event("chime", 10 * S, S, "chime_start", "start", "left"),
        Event("speech", 20 * S, 5 * S, "reminder", "Breathe.", "left"),
        Event("pause", 25 * S, 25 * S, "pause"),
        Event("chime", 50 * S, S, "chime_end", "end", "left"),
        Event("speech", 51 * S, 9 * S, "outro", "Well done."),
    )
    return Timeline(
        "mini", "Mini stretch", 40.0, events, (Hold("left", 10 * S, 50 * S),),
        dropped=(Dropped("left", "reminder", "Relax.", "no room left in the hold"),),
        notes=("note: a hold of forty seconds is short",),
    )  # fmt: skip


def test_phases_and_events_are_drawn_to_scale() -> None:
    drawn = picture(small_timeline())
    assert [(p.kind, p.x, p.width) for p in drawn.phases] == [
        ("setup", 0.0, round(WIDTH / 6, 2)),
        ("hold", round(WIDTH / 6, 2), round(WIDTH * 4 / 6, 2)),
        ("closing", round(WIDTH * 5 / 6, 2), round(WIDTH / 6, 2)),
    ]
    assert drawn.phases[1].label == "Left hold 40s"
    kinds = [(e.kind, e.x) for e in drawn.events]
    assert kinds == [
        ("speech", 0.0), ("chime", round(WIDTH / 6, 2)), ("cue", round(WIDTH / 3, 2)),
        ("chime", round(WIDTH * 5 / 6, 2)), ("speech", 850.0),
    ]  # fmt: skip
    assert round(drawn.events[2].width, 1) == round(WIDTH * 5 / 60, 1)


def test_the_script_and_what_was_left_out() -> None:
    drawn = picture(small_timeline())
    assert [(line.at, line.text) for line in drawn.script] == [
        ("0:00.0", "Welcome."), ("0:10.0", "♪ Start chime"), ("0:20.0", "Breathe."),
        ("0:50.0", "♪ End chime"), ("0:51.0", "Well done."),
    ]  # fmt: skip
    assert drawn.dropped == (("left", "Relax.", "no room left in the hold"),)
    assert drawn.notes == ("a hold of forty seconds is short",)
    assert drawn.summary == "Mini stretch: 1:00.0 in all; holds left: 0:40.0; 1 cue(s) left out"
    assert [label for _, label in drawn.ticks] == ["0:00", "0:10", "0:20", "0:30", "0:40", "0:50",
                                                   "1:00"]  # fmt: skip


def test_a_label_that_does_not_fit_gives_way_to_a_shorter_one() -> None:
    assert fitting(500, "Left hold 30s", "Left 30s") == "Left hold 30s"
    assert fitting(110, "Left hold 30s", "Left 30s") == "Left 30s"
    assert fitting(10, "Left hold 30s", "30s") == ""


def programme_timeline() -> Timeline:
    """Two exercises of one 20 s hold each, with a 10 s rest between (100 s in all)."""
    events = (
        Event("speech", 0, 5 * S, "intro", "Welcome."),
        Event("speech", 5 * S, 5 * S, "exercise_start", "Exercise one.", None, exercise=1),
        Event("chime", 10 * S, S, "chime_start", "start", "", exercise=1),
        Event("pause", 11 * S, 19 * S, "pause", exercise=1),
        Event("chime", 30 * S, S, "chime_end", "end", "", exercise=1),
        Event("speech", 31 * S, 4 * S, "release", "Relax.", "", exercise=1),
        Event("speech", 35 * S, 2 * S, "rest", "Rest.", None, exercise=2),
        Event("speech", 37 * S, 3 * S, "next_up", "Next up.", None, exercise=2),
        Event("pause", 40 * S, 5 * S, "pause", exercise=2),
        Event("speech", 45 * S, 5 * S, "exercise_start", "Exercise two.", None, exercise=2),
        Event("chime", 50 * S, S, "chime_start", "start", "left", exercise=2),
        Event("pause", 51 * S, 19 * S, "pause", exercise=2),
        Event("chime", 70 * S, S, "chime_end", "end", "left", exercise=2),
        Event("speech", 71 * S, 29 * S, "outro", "Goodbye."),
    )
    holds = (Hold("", 10 * S, 30 * S, 1), Hold("left", 50 * S, 70 * S, 2))
    return Timeline("p", "Two", 20.0, events, holds, exercises=("Tilt", "Hug"))


def test_a_programme_is_drawn_with_its_exercises_and_the_rest_between() -> None:
    drawn = picture(programme_timeline())
    assert drawn.programme
    assert [(e.x, e.width, e.label) for e in drawn.exercises] == [
        (50.0, 300.0, "1. Tilt"),
        (450.0, 260.0, "2. Hug"),
    ]
    assert drawn.exercises[1].title == "Exercise 2: Hug, from 0:45.0 to 1:11.0"
    assert [(p.kind, p.x, p.width) for p in drawn.phases] == [
        ("setup", 0.0, 100.0),
        ("hold", 100.0, 200.0),
        ("setup", 300.0, 50.0),
        ("rest", 350.0, 100.0),
        ("setup", 450.0, 50.0),
        ("hold", 500.0, 200.0),
        ("closing", 700.0, 300.0),
    ]
    titles = [p.title for p in drawn.phases]
    assert titles[1] == "Exercise 1 (Tilt), hold: 0:20.0, from 0:10.0 to 0:30.0"
    assert titles[3] == "Rest before exercise 2: 0:10.0, until 0:45.0"
    assert titles[4] == "Exercise 2 (Hug), left side: set-up, until 0:50.0"
    assert drawn.phases[3].label == "Rest 10s"
    assert (
        drawn.summary
        == "Two: 1:40.0 in all; 2 exercises; holds 1. Tilt: 0:20.0, 2. Hug, left: 0:20.0"
    )


def test_a_routine_has_no_exercise_band() -> None:
    assert picture(small_timeline()).exercises == ()
