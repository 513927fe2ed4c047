"""Programmes: several routines in one session, planned on the fake engine (no audio out)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.fakes import FakeEngine
from voiceguide.build.session import SessionOptions, cue_sheet, default_output, prepare
from voiceguide.errors import PlanError, RoutineError
from voiceguide.plan.chapters import chapters
from voiceguide.plan.timeline import Timeline
from voiceguide.text.programme import is_programme_text, parse_programme, with_given_routines
from voiceguide.text.routine import parse_routine
from voiceguide.units import to_samples

OWN = """\
name: neck
title: Neck release
sides: []
steps:
  - Sit tall.
reminders:
  - Keep your shoulders down, away from your ears.
release: Lift your head slowly.
pronounce:
  shoulders: show lders
"""

PROGRAMME = """\
name: my-back
title: My back series
intro: Go gently.
outro: Rest now.
rest: 15s
exercises:
  - routine: hamstring
    hold: 40s
    sides: [left]
  - routine: neck.yaml
    hold: 30s
    rest: 5s
  - rounds: 2
    rest: 10s
    exercises:
      - routine: hamstring
        hold: 20s
pronounce:
  hamstring: ham string
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "neck.yaml").write_text(OWN)
    (tmp_path / "my.yaml").write_text(PROGRAMME)
    return tmp_path


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


def planned(folder: Path, engine: FakeEngine, **options: object) -> Timeline:
    return prepare(SessionOptions(routine=folder / "my.yaml", **options), engine).timeline  # type: ignore[arg-type]


def test_every_hold_is_exact_with_its_exercise_and_side(folder: Path, engine: FakeEngine) -> None:
    timeline = planned(folder, engine)
    holds = [(h.exercise, h.side, h.length) for h in timeline.holds]
    assert holds == [
        (1, "left", to_samples(40)),
        (2, "", to_samples(30)),
        (3, "left", to_samples(20)),
        (3, "right", to_samples(20)),
        (4, "left", to_samples(20)),
        (4, "right", to_samples(20)),
    ]
    assert timeline.exercises == (
        "Strapped hamstring stretch",
        "Neck release",
        "Strapped hamstring stretch",
        "Strapped hamstring stretch",
    )
    listed = json.loads(timeline.to_json())["holds"]
    assert [(h["exercise_number"], h["exercise"], h["side"]) for h in listed][:2] == [
        (1, "Strapped hamstring stretch", "left"),
        (2, "Neck release", ""),
    ]
    assert all(h["end_sample"] - h["start_sample"] == to_samples(h["duration"]) for h in listed)


def test_one_welcome_one_goodbye_and_each_routines_own_steps(
    folder: Path, engine: FakeEngine
) -> None:
    timeline = planned(folder, engine)
    roles = [e.role for e in timeline.spoken()]
    assert roles.count("intro") == 1
    assert roles[0] == "intro"
    assert roles.count("outro") == 1
    assert roles[-1] == "outro"
    texts = [e.text for e in timeline.spoken()]
    assert texts[0].startswith("Welcome. This is My back series: four exercises. Go gently.")
    assert "Sit tall." in texts
    assert texts.count("Lie on your back.") == 1 + 2 + 2  # one side, then two sides twice
    assert texts[-1] == "That is the end of the programme. Rest now."


def test_rests_name_the_next_exercise_and_last_as_long_as_asked(
    folder: Path, engine: FakeEngine
) -> None:
    timeline = planned(folder, engine)
    spoken = timeline.spoken()
    next_ups = [e for e in spoken if e.role == "next_up"]
    assert [e.text for e in next_ups] == [
        "Next up, exercise two of four: neck release, thirty seconds.",
        "Next up, exercise three of four: strapped hamstring stretch, twenty seconds each side.",
        "Next up, exercise four of four: strapped hamstring stretch, twenty seconds each side.",
    ]
    rests = [e.text for e in spoken if e.role == "rest"]
    # The programme's rest, the exercise's own, then the rest between rounds.
    assert rests == [
        "Rest for fifteen seconds.",
        "Rest for five seconds.",
        "Rest for ten seconds.",
    ]
    for cue, seconds in zip(next_ups, (15, 5, 10), strict=True):
        following = next(e for e in timeline.events if e.start >= cue.end and e.kind != "pause")
        assert following.start - cue.end == to_samples(seconds)
    assert [e.text for e in spoken if e.role == "round_start"] == [
        "Round one of two.",
        "Round two of two.",
    ]
    assert [e.text for e in spoken if e.role == "exercise_start"][-1] == (
        "Last exercise: strapped hamstring stretch."
    )


def test_no_rest_after_the_last_round(tmp_path: Path, engine: FakeEngine) -> None:
    (tmp_path / "p.yaml").write_text(
        "name: p\ntitle: P\nexercises:\n  - rounds: 3\n    rest: 10s\n    exercises:\n"
        "      - routine: hamstring\n        hold: 15s\n        sides: [left]\n"
    )
    timeline = prepare(SessionOptions(routine=tmp_path / "p.yaml"), engine).timeline
    assert [e.text for e in timeline.spoken() if e.role == "rest"] == ["Rest for ten seconds."] * 2
    assert len(timeline.holds) == 3


def test_the_lexicon_is_heard_by_the_engine_only(folder: Path, engine: FakeEngine) -> None:
    timeline = planned(folder, engine)
    shown = " ".join(e.text for e in timeline.spoken())
    assert "hamstring" in shown
    assert "ham string" not in shown
    assert "shoulders" in shown
    heard = " ".join(engine.spoken)
    assert "strapped ham string stretch" in heard
    assert "hamstring" not in heard.lower()
    assert "show lders" in heard
    assert "shoulders" not in heard


def test_a_lexicon_file_is_part_of_the_speech(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "words.yaml").write_text("Neck: nek\n")
    first, second = FakeEngine(), FakeEngine()
    planned(folder, first)
    planned(folder, second, lexicon=tmp_path / "words.yaml", use_cache=False)
    assert not any("nek" in t.split() or "Nek" in t.split() for t in first.spoken)
    assert any("nek release" in t for t in second.spoken)


def test_chapters_are_the_exercises_with_their_sides_beneath(
    folder: Path, engine: FakeEngine
) -> None:
    timeline = planned(folder, engine)
    marks = chapters(timeline)
    assert [c.title for c in marks] == [
        "Introduction",
        "1. Strapped hamstring stretch",
        "2. Neck release",
        "3. Strapped hamstring stretch",
        "4. Strapped hamstring stretch",
        "Outro",
    ]
    assert marks[0].start == 0
    assert marks[-1].end == timeline.length
    assert all(a.end == b.start for a, b in itertools.pairwise(marks))
    assert [c.title for c in marks[1].children] == ["Left side: set-up", "Left side: hold"]
    assert [c.title for c in marks[2].children] == ["Set-up", "Hold"]
    assert [c.title for c in marks[3].children] == [
        "Left side: set-up",
        "Left side: hold",
        "Right side: set-up",
        "Right side: hold",
    ]
    for mark in marks[1:-1]:
        assert mark.children[0].start == mark.start
        assert mark.children[-1].end == mark.end
        assert all(a.end == b.start for a, b in itertools.pairwise(mark.children))
    chimes = {e.start: e for e in timeline.events if e.kind == "chime"}
    last = timeline.holds[1]  # the neck's hold ends exercise 2
    assert marks[2].end == chimes[last.end].end  # ends once the end chime has sounded


def test_the_default_output_is_named_after_the_programme(folder: Path) -> None:
    _, sheet = cue_sheet(SessionOptions(routine=folder / "my.yaml"))
    assert default_output(sheet) == Path("my-back.mp3")


def test_hold_option_sets_every_exercise(folder: Path, engine: FakeEngine) -> None:
    timeline = planned(folder, engine, hold=12.0)
    assert {h.length for h in timeline.holds} == {to_samples(12)}
    assert len(timeline.notes) == 4  # each exercise's hold is shorter than its routine's minimum


def test_one_side_of_a_routine(engine: FakeEngine) -> None:
    timeline = prepare(SessionOptions(hold=30.0, sides=("right",)), engine).timeline
    assert [h.side for h in timeline.holds] == ["right"]
    texts = [e.text for e in timeline.spoken()]
    assert any("We'll hold your right side for thirty seconds." in t for t in texts)
    assert "This one is for your right side only." in texts
    assert not any(e.role == "switch_sides" for e in timeline.spoken())


def test_sides_must_be_the_routines(engine: FakeEngine) -> None:
    with pytest.raises(PlanError, match="has the sides left, right; name one or more"):
        prepare(SessionOptions(hold=30.0, sides=("middle",)), engine)


@pytest.mark.parametrize(
    ("text", "programme"),
    [
        ("name: p\ntitle: P\nexercises: [hamstring]\n", True),
        ("name: p\ntitle: P\nrest: 20s\n", True),  # exercises: missing
        ("name: p\ntitle: P\nintro: Lie down.\nstretches: [hamstring]\n", True),
        ("name: p\ntitle: P\nexcercises: [hamstring]\n", True),  # misspelt
        ("name: r\ntitle: R\nsteps: [Sit.]\n", False),
        ("name: r\ntitle: R\n", False),
        # a routine's own key decides, though a programme's key is there by mistake
        ("name: r\ntitle: R\nrest: 5s\nexercise: x\nsteps: [Sit.]\n", False),
        # only top-level keys count
        ("name: r\ntitle: R\nsteps:\n  - text: Sit.\n    rest: 5s\n", False),
    ],
)  # fmt: skip
def test_a_file_is_a_programme_by_its_top_level_keys(text: str, programme: bool) -> None:
    assert is_programme_text(text) is programme


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: p\ntitle: P\nexercises: []\n", "exercises"),
        ("name: p\ntitle: P\nexercises:\n  - routine: no-such\n", "no-such"),
        ("name: p\ntitle: P\nexercises:\n  - routine: hamstring\n    sides: [middle]\n",
         "'middle' is not one of the routine's sides (left, right)"),
        ("name: p\ntitle: P\nexercises:\n  - routine: hamstring\n    hodl: 30s\n", "hold"),
        ("name: p\ntitle: P\nexercises:\n  - rounds: 99\n    exercises: [hamstring]\n",
         "rounds"),
    ],
)  # fmt: skip
def test_bad_programmes_say_what_is_wrong(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(RoutineError) as info:
        cue_sheet(SessionOptions(routine=tmp_path / "p.yaml"))
    assert fragment in str(info.value)
    assert "p.yaml" in str(info.value)


def test_a_programme_given_its_routine_files_reads_none_from_disk(engine: FakeEngine) -> None:
    """As the studio loads one: the routine file it names comes with it, not from a folder."""
    programme = parse_programme(PROGRAMME, "the page's")
    loaded = with_given_routines(programme, "the page's", {"neck.yaml": parse_routine(OWN, "n")})
    assert loaded.routines["neck.yaml"].title == "Neck release"
    assert loaded.routines["hamstring"].name == "hamstring"  # built-in: by name, as ever
    timeline = prepare(SessionOptions(routine=loaded), engine).timeline
    hamstring = "Strapped hamstring stretch"
    assert timeline.exercises == (hamstring, "Neck release", hamstring, hamstring)
    with pytest.raises(
        RoutineError, match=r"exercise 2 \(neck.yaml\): that routine file was not given"
    ):
        with_given_routines(programme, "the page's", {})
