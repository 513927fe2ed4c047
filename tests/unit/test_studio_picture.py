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
        ("rest", round(WIDTH * 5 / 6, 2), round(WIDTH / 6, 2)),
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
