"""Bad programme files, through the command line.

Each must end with exit code 1 and one line on stderr, no traceback: the file, the
line of the mistake, the exercise as the person counts it (from 1, with its
routine), and what to write instead, as routine files' errors do (test_bad_input.py).
``script`` and ``build`` read a programme the same way; both are run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.test_bad_input import check_refused
from voiceguide.cli import cli

pytestmark = pytest.mark.usefixtures("fake_speech")

P = "p.yaml"
#: A good programme; the exercise that each case appends is exercise 2, on line 6.
HEAD = "name: p\ntitle: P\nrest: 20s\nexercises:\n  - routine: pelvic-tilt\n"
BUILTINS = "cat-cow, childs-pose, hamstring, hip-flexor, knee-to-chest, pelvic-tilt, piriformis"
NOT_A_DURATION = "is not a duration; use e.g. 5m, 90s, 1m30s, 2:30 or 300"
MINE = "name: mine\ntitle: Mine\nsides: []\nsteps:\n  - Sit.\n"


@dataclass
class Case:
    id: str
    programme: str
    message: str  # the whole line after "Error: "
    files: dict[str, str] = field(default_factory=dict)  # beside the programme


def exercise(text: str) -> str:
    return HEAD + text


CASES = [
    # --- an exercise's keys ------------------------------------------------------------
    Case(
        "hold-not-a-duration",
        exercise("  - routine: hamstring\n    hold: soon\n"),
        f"p.yaml, line 7: exercise 2 (hamstring), hold: 'soon' {NOT_A_DURATION}",
    ),
    Case(
        "hold-too-long",
        exercise("  - routine: hamstring\n    hold: 5h\n"),
        "p.yaml, line 7: exercise 2 (hamstring), hold: 5h is too long; "
        "the most it may be is two hours",
    ),
    Case(
        "hold-too-short",
        exercise("  - routine: hamstring\n    hold: 3s\n"),
        "p.yaml, line 7: exercise 2 (hamstring), hold: 3s is too short; "
        "the least it may be is ten seconds",
    ),
    Case(
        "unknown-key-close",
        exercise("  - routine: hamstring\n    hodl: 30s\n"),
        "p.yaml, line 7: exercise 2 (hamstring): unknown key 'hodl'; did you mean 'hold'?",
    ),
    Case(
        "unknown-key-far",
        exercise("  - routine: hamstring\n    colour: red\n"),
        "p.yaml, line 7: exercise 2 (hamstring): unknown key 'colour'; "
        "valid keys: countdown, hold, rest, routine, sides, title",
    ),
    Case(
        "rest-word",
        exercise("  - routine: hamstring\n    rest: soon\n"),
        f"p.yaml, line 7: exercise 2 (hamstring), rest: 'soon' {NOT_A_DURATION}",
    ),
    Case(
        "rest-list",
        exercise("  - routine: hamstring\n    rest: [1, 2]\n"),
        f"p.yaml, line 7: exercise 2 (hamstring), rest: [1, 2] {NOT_A_DURATION}",
    ),
    Case(
        "rest-zero",
        exercise("  - routine: hamstring\n    rest: 0\n"),
        "p.yaml, line 7: exercise 2 (hamstring), rest: a duration must be longer than zero, got 0",
    ),
    Case(
        "sides-text",
        exercise("  - routine: hamstring\n    sides: left\n"),
        "p.yaml, line 7: exercise 2 (hamstring), sides: write a list: each item on a line of "
        "its own, starting with '- ' (not 'left')",
    ),
    Case(
        "sides-empty",
        exercise("  - routine: hamstring\n    sides: []\n"),
        "p.yaml, line 7: exercise 2 (hamstring), sides: the list is empty; "
        "name one side or more, or leave sides: out for all",
    ),
    Case(
        "sides-not-the-routines",
        exercise("  - routine: hamstring\n    sides: [middle]\n"),
        "p.yaml, line 7: exercise 2 (hamstring): sides: 'middle' is not one of the routine's "
        "sides (left, right)",
    ),
    Case(
        "sides-of-a-repeated-routine",  # once passed unchecked: only a first use was checked
        exercise("  - hamstring\n  - routine: hamstring\n    sides: [middle]\n"),
        "p.yaml, line 8: exercise 3 (hamstring): sides: 'middle' is not one of the routine's "
        "sides (left, right)",
    ),
    Case(
        "countdown-word",
        exercise("  - routine: hamstring\n    countdown: maybe\n"),
        "p.yaml, line 7: exercise 2 (hamstring), countdown: write true or false (not 'maybe')",
    ),
    Case(
        "title-empty",
        exercise("  - routine: hamstring\n    title: ''\n"),
        "p.yaml, line 7: exercise 2 (hamstring), title: write some text; it may not be empty",
    ),
    Case(
        "routine-key-missing",
        exercise("  - hold: 30s\n"),
        "p.yaml, line 6: exercise 2: routine is required; add routine: under it, "
        "such as routine: hamstring",
    ),
    Case(
        "item-a-number",
        exercise("  - 5\n"),
        "p.yaml, line 6: exercise 2: write a routine's name, or routine: and the keys under it, "
        "each on a line of its own (not 5)",
    ),
    # --- the routine an exercise names -------------------------------------------------
    Case(
        "no-such-routine",
        exercise("  - routine: hamstrin\n"),
        "p.yaml, line 6: exercise 2 (hamstrin): there is no built-in routine called 'hamstrin'; "
        f"did you mean 'hamstring'? The built-in routines: {BUILTINS} "
        "(or give the path to a .yaml file)",
    ),
    Case(
        "routine-file-missing",
        exercise("  - routine: mine.yaml\n"),
        "p.yaml, line 6: exercise 2 (mine.yaml): routine file mine.yaml does not exist "
        "(a routine file's path is relative to the programme's folder)",
    ),
    Case(
        "routine-file-bad",
        exercise("  - routine: mine.yaml\n"),
        "p.yaml, line 6: exercise 2 (mine.yaml): mine.yaml, line 4: unknown key 'step'; "
        "did you mean 'steps'?",
        {"mine.yaml": MINE.replace("steps:", "step:")},
    ),
    Case(
        "routine-file-is-a-programme",
        exercise("  - routine: other.yaml\n"),
        "p.yaml, line 6: exercise 2 (other.yaml): other.yaml is a programme, not a routine; "
        "name a routine file, or copy that programme's exercises here",
        {"other.yaml": "name: o\ntitle: O\nexercises: [hamstring]\n"},
    ),
    Case(
        "builtin-programme-as-routine",
        exercise("  - lower-back\n"),
        "p.yaml, line 6: exercise 2 (lower-back): 'lower-back' is a programme, not a routine; "
        "name a routine, or copy the programme's exercises here "
        "(voiceguide routines show lower-back)",
    ),
    # --- groups of rounds --------------------------------------------------------------
    Case(
        "rounds-zero",
        exercise("  - rounds: 0\n    exercises: [hamstring]\n"),
        "p.yaml, line 6: exercise 2 (rounds), rounds: 0 is out of range; write at least 1",
    ),
    Case(
        "rounds-too-many",
        exercise("  - rounds: 99\n    exercises: [hamstring]\n"),
        "p.yaml, line 6: exercise 2 (rounds), rounds: 99 is out of range; write at most 10",
    ),
    Case(
        "rounds-unknown-key",
        exercise("  - rounds: 2\n    exercises: [hamstring]\n    rets: 30s\n"),
        "p.yaml, line 8: exercise 2 (rounds): unknown key 'rets'; did you mean 'rest'?",
    ),
    Case(
        "rounds-without-exercises",
        exercise("  - rounds: 2\n"),
        "p.yaml, line 6: exercise 2 (rounds): exercises is required; add exercises: under it",
    ),
    Case(
        "rounds-empty",
        exercise("  - rounds: 2\n    exercises: []\n"),
        "p.yaml, line 7: exercise 2 (rounds), exercises: the list is empty; "
        "write at least one exercise, such as - hamstring",
    ),
    Case(
        "rounds-exercise-hold",
        exercise(
            "  - rounds: 2\n    exercises:\n      - cat-cow\n      - routine: hamstring\n"
            "        hold: soon\n"
        ),
        "p.yaml, line 10: exercise 2 (rounds), its exercise 2 (hamstring), "
        f"hold: 'soon' {NOT_A_DURATION}",
    ),
    Case(
        "rounds-exercise-unknown-routine",
        exercise("  - rounds: 2\n    exercises:\n      - cat-cow\n      - routine: nope\n"),
        "p.yaml, line 9: exercise 2 (rounds), its exercise 2 (nope): there is no built-in "
        f"routine called 'nope'; built-in routines: {BUILTINS} (or give the path to a .yaml file)",
    ),
    # --- the programme as a whole ------------------------------------------------------
    Case(
        "exercises-empty",
        "name: p\ntitle: P\nexercises: []\n",
        "p.yaml, line 3: exercises: the list is empty; write at least one exercise, "
        "such as - hamstring",
    ),
    Case(
        "exercises-text",
        "name: p\ntitle: P\nexercises: hamstring\n",
        "p.yaml, line 3: exercises: write a list: each item on a line of its own, "
        "starting with '- ' (not 'hamstring')",
    ),
    Case(
        "exercises-misspelt",  # read as a programme, not as a routine with unknown keys
        "name: p\ntitle: P\nexercise:\n  - pelvic-tilt\n",
        "p.yaml, line 3: unknown key 'exercise'; did you mean 'exercises'?",
    ),
    Case(
        "exercises-misspelt-after-intro",  # a routine would first refuse intro:
        "name: p\ntitle: P\nintro: Lie down.\nrest: 20s\nstretches:\n  - pelvic-tilt\n",
        "p.yaml, line 5: unknown key 'stretches'; valid keys: allow_markup, exercises, extras, "
        "intro, name, outro, pronounce, rest, title",
    ),
    Case(
        "exercises-missing",
        "name: p\ntitle: P\nrest: 20s\n",
        "p.yaml, line 1: exercises is required; add exercises: to the file",
    ),
    Case(
        "name-not-a-slug",
        "name: My Back\ntitle: P\nexercises: [hamstring]\n",
        "p.yaml, line 1: name: write lower-case letters, digits and hyphens only, "
        "such as 'my-back' (not 'My Back')",
    ),
    Case(
        "rest-negative",
        "name: p\ntitle: P\nrest: -5\nexercises: [hamstring]\n",
        "p.yaml, line 3: rest: a duration must be longer than zero, got -5",
    ),
    Case(
        "unknown-top-key",
        HEAD + "titel: x\n",
        "p.yaml, line 6: unknown key 'titel'; did you mean 'title'?",
    ),
    Case(
        "tab",
        exercise("  - routine: hamstring\n\thold: 30s\n"),
        "p.yaml, line 7: invalid YAML: a tab in the indentation; indent with spaces, not tabs",
    ),
    Case(
        "key-twice",
        exercise("  - routine: hamstring\n    hold: 30s\n    hold: 40s\n"),
        "p.yaml, line 8: invalid YAML: the key 'hold' appears twice",
    ),
]


@pytest.mark.parametrize("command", ["script", "build"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_programme_is_refused_in_one_line(
    case: Case, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / P).write_text(case.programme, "utf-8")
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, "utf-8")
    args = [command, P] + (["-o", "out.mp3", "-q"] if command == "build" else [])
    result = CliRunner().invoke(cli, args, prog_name="voiceguide")
    line = check_refused(result.exit_code, result.stdout, result.stderr, 1, ())
    assert line == f"Error: {case.message}"
    assert not (tmp_path / "out.mp3").exists()


#: What the line each case names holds: the mistake, not the line above it.
ON_THE_LINE = {
    "hold-not-a-duration": "hold: soon", "hold-too-long": "hold: 5h", "hold-too-short": "hold: 3s",
    "unknown-key-close": "hodl:", "unknown-key-far": "colour:", "rest-word": "rest: soon",
    "rest-list": "rest: [1, 2]", "rest-zero": "rest: 0", "sides-text": "sides: left",
    "sides-empty": "sides: []", "sides-not-the-routines": "sides: [middle]",
    "sides-of-a-repeated-routine": "sides: [middle]", "countdown-word": "countdown: maybe",
    "title-empty": "title: ''", "routine-key-missing": "- hold: 30s", "item-a-number": "- 5",
    "no-such-routine": "hamstrin", "routine-file-missing": "mine.yaml",
    "routine-file-bad": "mine.yaml", "routine-file-is-a-programme": "other.yaml",
    "builtin-programme-as-routine": "lower-back", "rounds-zero": "rounds: 0",
    "rounds-too-many": "rounds: 99", "rounds-unknown-key": "rets:",
    "rounds-without-exercises": "rounds: 2", "rounds-empty": "exercises: []",
    "rounds-exercise-hold": "hold: soon", "rounds-exercise-unknown-routine": "routine: nope",
    "exercises-empty": "exercises: []", "exercises-text": "exercises: hamstring",
    "exercises-misspelt": "exercise:", "exercises-misspelt-after-intro": "stretches:",
    "exercises-missing": "name: p",
    "name-not-a-slug": "name: My Back", "rest-negative": "rest: -5", "unknown-top-key": "titel:",
    "tab": "\thold: 30s", "key-twice": "hold: 40s",
}  # fmt: skip


def test_the_line_named_is_that_of_the_mistake() -> None:
    """A check of the cases themselves: a wrong line number in an expected message
    would otherwise pass a wrong line number in the program."""
    assert set(ON_THE_LINE) == {c.id for c in CASES}
    for case in CASES:
        number = int(case.message.split(", line ")[1].split(":")[0])
        assert ON_THE_LINE[case.id] in case.programme.splitlines()[number - 1], case.id


def test_a_programme_in_another_folder_reads_its_routine_files_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / P).write_text(exercise("  - routine: mine.yaml\n"), "utf-8")
    (tmp_path / "mine.yaml").write_text(MINE, "utf-8")  # beside the caller, not the programme
    result = CliRunner().invoke(cli, ["script", "plans/p.yaml"], prog_name="voiceguide")
    line = check_refused(result.exit_code, result.stdout, result.stderr, 1, ())
    assert line == (
        "Error: plans/p.yaml, line 6: exercise 2 (mine.yaml): routine file plans/mine.yaml "
        "does not exist (a routine file's path is relative to the programme's folder)"
    )


def test_a_space_before_the_colon_of_exercises_still_makes_a_programme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / P).write_text("name: p\ntitle: P\nexercises :\n  - pelvic-tilt\n", "utf-8")
    result = CliRunner().invoke(cli, ["script", P], prog_name="voiceguide")
    assert result.exit_code == 0, result.output
    assert "That is the end of the programme." in result.stdout  # not a routine's script
