"""The built-in routines: each loads, tells the listener to stop for pain, and at
its default hold says every cue it has."""

from __future__ import annotations

import re

import pytest

from tests.fakes import MINI, FakeEngine
from voiceguide.build.session import SessionOptions, prepare
from voiceguide.plan.timeline import Timeline
from voiceguide.text.cues import COUNTDOWN
from voiceguide.text.routine import Routine, builtin_names, load_routine, parse_routine

# Fake clips at least as long as espeak-ng's at its default 150 words a minute:
# on the 177 distinct lines of the seven built-in routines (measured with
# `script --json`), no espeak-ng clip was longer than 1.0 s + 0.4 s a word; each
# was 0.03 s to 4 s shorter. A routine whose cues fit with these clips fits with
# the real voice. (The Piper voice fit too, measured the same way.)
SECONDS_PER_WORD, SECONDS_PER_CLIP = 0.4, 1.0

# A line that says what to do if the stretch hurts: ease off, and stop.
PAIN = re.compile(r"\b(pain|hurts?)\b", re.IGNORECASE)
EASE_OFF = re.compile(r"\bease off\b", re.IGNORECASE)
STOP = re.compile(r"\bstop\b", re.IGNORECASE)

LOWER_BACK = {"knee-to-chest", "pelvic-tilt", "piriformis", "cat-cow", "childs-pose", "hip-flexor"}


def says_to_stop_for_pain(text: str) -> bool:
    return all(p.search(text) for p in (PAIN, EASE_OFF, STOP))


def session(name: str, hold: float | None = None) -> tuple[Routine, Timeline]:
    options = SessionOptions(routine=name, hold=hold, use_cache=False)
    engine = FakeEngine(seconds_per_word=SECONDS_PER_WORD, seconds_per_clip=SECONDS_PER_CLIP)
    prepared = prepare(options, engine)
    assert isinstance(prepared.routine, Routine)
    return prepared.routine, prepared.timeline


def test_the_lower_back_stretches_are_built_in_beside_the_hamstring_stretch() -> None:
    assert LOWER_BACK | {"hamstring"} <= set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_a_builtin_routine_loads_with_sensible_holds(name: str) -> None:
    routine = load_routine(name)
    assert routine.name == name
    assert routine.reminders, "every hold has reminders drawn from the common mistakes"
    assert 10 <= routine.hold.minimum <= routine.hold.default


@pytest.mark.parametrize("name", builtin_names())
def test_a_builtin_routine_says_to_ease_off_and_stop_for_pain_on_every_side(name: str) -> None:
    # At the shortest hold the routine recommends, where the fewest reminders fit.
    routine = load_routine(name)
    _, timeline = session(name, routine.hold.minimum)
    for side in routine.sides:
        said = [
            e.text
            for e in timeline.spoken()
            if e.side == side and e.role in ("step", "reminder") and says_to_stop_for_pain(e.text)
        ]
        assert said, f"{name}: nothing tells the listener to stop for pain on the {side} side"


def test_the_pain_check_finds_nothing_in_a_routine_without_one() -> None:
    mini = parse_routine(MINI, "mini")
    texts = [s.text for s in mini.steps] + [r.text for r in mini.reminders]
    assert not any(says_to_stop_for_pain(t) for t in texts)
    assert says_to_stop_for_pain("If it hurts, ease off, and if the pain stays, stop.")
    assert not says_to_stop_for_pain("If it hurts, stop.")


@pytest.mark.parametrize("name", builtin_names())
def test_at_its_default_hold_a_builtin_routine_leaves_out_no_cue(name: str) -> None:
    routine, timeline = session(name)
    assert timeline.hold_seconds == routine.hold.default
    # The fake's countdown numbers are longer than a second, so they are left out
    # here (tests/unit/test_countdown_chimes.py covers the countdown).
    assert [d for d in timeline.dropped if d.role != COUNTDOWN] == []
    assert timeline.notes == ()
    for hold in timeline.holds:
        reminders = [
            e.text
            for e in timeline.spoken()
            if e.role == "reminder" and hold.start < e.start < hold.end
        ]
        assert len(reminders) == len(routine.reminders), (name, hold.side)
