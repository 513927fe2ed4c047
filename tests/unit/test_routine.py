"""Unit tests for voiceguide.text.routine: the built-in routine and loading routine files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import iter_texts
from voiceguide.errors import RoutineError, VoiceguideError
from voiceguide.text import routine as routine_module
from voiceguide.text.routine import (
    MAX_HOLD_SECONDS,
    MAX_ROUTINE_BYTES,
    Routine,
    Step,
    builtin_names,
    builtin_text,
    load_routine,
    parse_routine,
)
from voiceguide.text.wording import Wording

# shared/ sits beside the repository (in development and in CI).
ARTICLE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "hamstring-stretch-article.txt"

MINIMAL = "name: test\ntitle: Test stretch\nsteps:\n  - Lie down.\n"


def write(tmp_path: Path, text: str, name: str = "routine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    """Load ``text`` as a routine file; return the RoutineError message it must raise."""
    path = write(tmp_path, text)
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    message = str(info.value)
    assert "\n" not in message, "errors are printed as one line"
    assert message.startswith(str(path)), "errors name the file"
    return message


def line_of(message: str) -> int:
    found = re.search(r", line (\d+):", message)
    assert found, f"no line number in {message!r}"
    return int(found.group(1))


# --- the built-in hamstring routine ------------------------------------------------------


@pytest.fixture(scope="module")
def hamstring() -> Routine:
    return load_routine("hamstring")


def test_hamstring_is_a_builtin() -> None:
    assert "hamstring" in builtin_names()
    assert "name: hamstring" in builtin_text("hamstring")


def test_hamstring_identity(hamstring: Routine) -> None:
    assert hamstring.name == "hamstring"
    assert hamstring.title == "Strapped hamstring stretch"


def test_hamstring_why_comes_from_the_article(hamstring: Routine) -> None:
    # "Your legs extend your spine." is the article's first point; the rest
    # paraphrases its hamstrings / sitting bones / lower back paragraph.
    assert hamstring.why.startswith("Your legs extend your spine.")
    for phrase in ("hamstrings", "sitting bones", "lower back"):
        assert phrase in hamstring.why
    assert "\n" not in hamstring.why, "the folded YAML scalar becomes one line"


def test_hamstring_hold_times_match_the_article(hamstring: Routine) -> None:
    # "hold your hamstring stretches five minutes each side" / "at least one minute"
    assert hamstring.hold.default == 300.0
    assert hamstring.hold.minimum == 60.0


def test_hamstring_sides(hamstring: Routine) -> None:
    assert hamstring.sides == ["left", "right"]


# The article's eight "how to do this correctly" steps, as phrases each step must contain.
ARTICLE_STEPS = [
    ["Lie on your back"],
    ["yoga strap across the ball of your {{ side }} foot"],
    ["Spread your toes"],
    ["Push up through your foot"],
    ["Extend your {{ other_side }} leg", "floor"],
    ["foot straight up to the sky"],
    ["side of the strap in each hand", "pull evenly on both sides of your foot"],
    ["Relax"],
]


def test_hamstring_has_the_articles_eight_steps_in_order(hamstring: Routine) -> None:
    assert len(hamstring.steps) == 8
    for step, phrases in zip(hamstring.steps, ARTICLE_STEPS, strict=True):
        for phrase in phrases:
            assert phrase in step.text, (phrase, step.text)


def test_hamstring_step_pauses(hamstring: Routine) -> None:
    assert hamstring.step_pause == 4.0
    assert [s.pause for s in hamstring.steps] == [5.0, 7.0, None, None, 5.0, 6.0, 5.0, None]
    # A step without its own pause uses step_pause.
    assert [hamstring.pause_after(s) for s in hamstring.steps] == [5, 7, 4, 4, 5, 6, 5, 4]


# Each common mistake in the article, as a pattern exactly one reminder must match.
REMINDER_TOPICS = {
    "feet even on the strap": r"both edges of your \{\{ side \}\} foot even on the strap",
    "straight knee": r"Straighten your \{\{ side \}\} knee",
    "other leg down": r"\{\{ other_side \}\} leg down on the floor",
    "breathing": r"Breathe deeply",
    "quadriceps and kneecaps": r"kneecap.*quadriceps",
    "both hands": r"both hands on the strap",
    "alignment": r"aligned.*not turned out",
}


@pytest.mark.parametrize(("topic", "pattern"), REMINDER_TOPICS.items())
def test_hamstring_reminders_cover_each_common_mistake(
    hamstring: Routine, topic: str, pattern: str
) -> None:
    matches = [r.text for r in hamstring.reminders if re.search(pattern, r.text)]
    assert len(matches) == 1, f"{topic}: {matches}"


def test_hamstring_reminders_put_the_foot_first(hamstring: Routine) -> None:
    assert len(hamstring.reminders) == len(REMINDER_TOPICS)
    assert "even on the strap" in hamstring.reminders[0].text


def test_hamstring_release_and_outro(hamstring: Routine) -> None:
    assert "{{ side }} leg" in hamstring.release
    assert "strap off" in hamstring.release
    assert "Stretch your hamstrings correctly" in hamstring.outro


@pytest.mark.skipif(not ARTICLE.exists(), reason="the seed article is not available")
def test_quoted_phrases_really_are_in_the_article() -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    for quote in (
        "Your legs extend your spine.",
        "hold your hamstring stretches five minutes each side",
        "at least one minute each side",
        "Lie on your back.",
        "Put a yoga strap across the ball of your foot.",
        "Spread your toes.",
        "Push up through your foot.",
        "straight up to the sky",
        "pull evenly on the two sides of your foot",
        "both edges of your feet are even on the strap",
        "straighten your leg",
        "Breathe deeply",
        "lift your kneecaps to engage your quadriceps",
        "use both hands",
        "alignment",
        "Stretch your hamstrings correctly",
    ):
        assert quote in article, quote


def test_hamstring_texts_render_for_each_side(hamstring: Routine) -> None:
    wording = Wording()
    for side, other in (("left", "right"), ("right", "left")):
        context = {"side": side, "other_side": other, "hold": 300.0}
        for field, text in iter_texts(hamstring):
            spoken = wording.render_text(text, f"hamstring: {field}", context)
            assert "{" not in spoken, (field, spoken)
            assert "}" not in spoken, (field, spoken)
        strap = wording.render_text(hamstring.steps[1].text, "steps[1]", context)
        assert f"ball of your {side} foot" in strap
        leg = wording.render_text(hamstring.steps[4].text, "steps[4]", context)
        assert f"Extend your {other} leg" in leg


def test_iter_texts_names_every_text_field(hamstring: Routine) -> None:
    names = [name for name, _ in iter_texts(hamstring)]
    assert names[0] == "why"
    assert names[1:9] == [f"steps[{i}]" for i in range(8)]
    assert names[9:16] == [f"reminders[{i}]" for i in range(7)]
    assert names[16:] == ["release", "outro"]


def test_hamstring_file_loaded_by_path_equals_the_builtin(
    tmp_path: Path, hamstring: Routine
) -> None:
    path = write(tmp_path, builtin_text("hamstring"), "copy.yaml")
    assert load_routine(path) == hamstring
    assert load_routine(str(path)) == hamstring


# --- valid routine files -----------------------------------------------------------------


def test_minimal_routine_gets_defaults(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, MINIMAL))
    assert routine.name == "test"
    assert routine.title == "Test stretch"
    assert routine.steps == [Step(text="Lie down.")]
    assert routine.sides == ["left", "right"]
    assert routine.hold.default == 300.0
    assert routine.hold.minimum == 60.0
    assert routine.step_pause == 4.0
    assert routine.reminders == []
    assert routine.why == routine.release == routine.outro == ""


def test_steps_and_reminders_may_be_strings_or_mappings(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  - Lie down.\n",
        "  - Lie down.\n  - text: Sit up.\n    pause: 1m\n  - {text: Stand.}\n",
    ) + ("reminders:\n  - Breathe.\n  - text: Relax.\n")
    routine = load_routine(write(tmp_path, text))
    assert [(s.text, s.pause) for s in routine.steps] == [
        ("Lie down.", None),
        ("Sit up.", 60.0),
        ("Stand.", None),
    ]
    assert [r.text for r in routine.reminders] == ["Breathe.", "Relax."]
    assert [routine.pause_after(s) for s in routine.steps] == [4.0, 60.0, 4.0]


def test_durations_in_a_routine_accept_every_form(tmp_path: Path) -> None:
    text = MINIMAL + "hold:\n  default: '2:30'\n  minimum: 90\nstep_pause: 1m30s\n"
    routine = load_routine(write(tmp_path, text))
    assert routine.hold.default == 150.0
    assert routine.hold.minimum == 90.0
    assert routine.step_pause == 90.0


def test_text_is_stripped(tmp_path: Path) -> None:
    text = "name: test\ntitle: '  Padded  '\nsteps:\n  - '  Lie down.  '\n"
    routine = load_routine(write(tmp_path, text))
    assert routine.title == "Padded"
    assert routine.steps[0].text == "Lie down."


def test_custom_sides(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, MINIMAL + "sides: [front, back, middle]\n"))
    assert routine.sides == ["front", "back", "middle"]


def test_yml_suffix_and_string_paths(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL, "other.yml")
    assert load_routine(str(path)).name == "test"
    assert load_routine(path).name == "test"


def test_routine_is_frozen(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        routine.title = "Changed"


def test_parse_routine_names_its_source_in_errors() -> None:
    with pytest.raises(RoutineError, match=r"^my source: "):
        parse_routine("- a list\n", "my source")


# --- file errors -------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert str(info.value) == f"routine file {path} does not exist"


def test_missing_file_given_as_text(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(RoutineError, match="does not exist"):
        load_routine(str(path))


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(RoutineError) as info:
        load_routine(tmp_path)
    assert str(info.value) == f"{tmp_path} is a folder; give the path to a routine .yaml file"


def test_folder_named_like_a_routine_file(tmp_path: Path) -> None:
    folder = tmp_path / "trick.yaml"
    folder.mkdir()
    with pytest.raises(RoutineError, match="is a folder"):
        load_routine(str(folder))


def test_unknown_builtin_lists_the_builtins() -> None:
    with pytest.raises(RoutineError) as info:
        load_routine("hamstrung")
    message = str(info.value)
    assert "no built-in routine called 'hamstrung'" in message
    assert "hamstring" in message.split("built-in routines:")[1]
    assert ".yaml" in message, "it says a file path may be given instead"


def test_builtin_text_rejects_unknown_names() -> None:
    with pytest.raises(RoutineError, match="no built-in routine called"):
        builtin_text("../routine")


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.encode() + b"why: caf\xe9\n")
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    message = str(info.value)
    assert message == f"{path}, line 5: the file is not UTF-8 text; save it as UTF-8"


def test_file_over_one_megabyte(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(MINIMAL.encode() + b"#" * MAX_ROUTINE_BYTES)
    with pytest.raises(RoutineError) as info:
        load_routine(path)
    assert str(info.value) == f"{path}: a routine file may be at most 1 MB"


def test_size_limit_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Check the exact boundary with a small limit: parsing a real 1 MB file is slow.
    limit = len(MINIMAL.encode()) + 10
    monkeypatch.setattr(routine_module, "MAX_ROUTINE_BYTES", limit)
    at_limit = write(tmp_path, MINIMAL + "#" * 9 + "\n", "at.yaml")
    assert at_limit.stat().st_size == limit
    assert load_routine(at_limit).name == "test"
    over = write(tmp_path, MINIMAL + "#" * 10 + "\n", "over.yaml")
    with pytest.raises(RoutineError, match=f"at most {limit} bytes"):
        load_routine(over)


def test_routine_error_is_a_voiceguide_error(tmp_path: Path) -> None:
    with pytest.raises(VoiceguideError):
        load_routine(tmp_path / "nope.yaml")


# --- YAML errors -------------------------------------------------------------------------


def test_bad_yaml_syntax_names_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: Test\nsteps: [a\nwhy: b: c\n")
    assert "invalid YAML: a list opened here with [ is not closed with ]" in message
    assert line_of(message) == 3  # where the [ is, not where YAML noticed it


def test_bad_indentation_names_the_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: Test\n  why: oops\nsteps: [a]\n")
    assert "invalid YAML" in message
    assert line_of(message) == 3


def test_alias_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: &t Test\nwhy: *t\nsteps: [a]\n")
    assert "anchors and aliases (&, *) are not allowed" in message
    assert line_of(message) in (2, 3)


def test_anchor_alone_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: &t Test\nsteps: [a]\n")
    assert "anchors and aliases (&, *) are not allowed" in message
    assert line_of(message) == 2


def test_billion_laughs_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    message = load_error(tmp_path, "\n".join(lines) + "\n")
    assert "anchors and aliases" in message
    assert line_of(message) == 1


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"name: !!python/object/apply:os.system ['touch {marker}']\ntitle: T\nsteps: [a]\n"
    message = load_error(tmp_path, text)
    assert "invalid YAML" in message
    assert not marker.exists()


def test_duplicate_key_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "title: Another title\n")
    assert "the key 'title' appears twice" in message
    assert line_of(message) == 5


def test_duplicate_nested_key_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "hold:\n  default: 5m\n  default: 6m\n")
    assert "the key 'default' appears twice" in message
    assert line_of(message) == 7


def test_several_documents_are_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "---\nname: second\n")
    assert "invalid YAML" in message


@pytest.mark.parametrize(
    "text", ["- name: test\n- title: Test\n", "just some words\n", "42\n", "", "# only a comment\n"]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    message = load_error(tmp_path, text)
    assert message.endswith("a routine file must be a mapping of keys such as title: and steps:")


# --- validation errors -------------------------------------------------------------------


def test_unknown_key_suggests_the_nearest(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitel: Test\nsteps: [a]\n")
    assert "unknown key 'titel'; did you mean 'title'?" in message
    assert line_of(message) == 2


def test_unknown_key_without_a_near_match_lists_valid_keys(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "zzzzzz: 1\n")
    assert "unknown key 'zzzzzz'; valid keys: " in message
    listed = message.split("valid keys: ")[1].split(", ")
    assert listed == sorted(Routine.model_fields)


@pytest.mark.parametrize(
    ("extra", "key", "suggestion", "line"),
    [
        ("hold:\n  defualt: 5m\n", "defualt", "default", 6),
        ("reminders:\n  - txt: Breathe.\n", "txt", "text", 6),
    ],
)
def test_unknown_nested_key_suggests_the_nearest(
    tmp_path: Path, extra: str, key: str, suggestion: str, line: int
) -> None:
    message = load_error(tmp_path, MINIMAL + extra)
    assert f"unknown key {key!r}; did you mean {suggestion!r}?" in message
    assert line_of(message) == line


def test_unknown_step_key_suggests_pause(tmp_path: Path) -> None:
    text = "name: test\ntitle: Test\nsteps:\n  - text: Lie down.\n    paus: 5s\n"
    message = load_error(tmp_path, text)
    assert "unknown key 'paus'; did you mean 'pause'?" in message
    assert line_of(message) == 5


def test_reminders_have_no_pause(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "reminders:\n  - text: Breathe.\n    pause: 5s\n")
    assert "unknown key 'pause'; valid keys: text" in message
    assert line_of(message) == 7


def test_missing_required_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\nsteps: [a]\n")
    assert message.endswith(": title is required; add title: to the file")


@pytest.mark.parametrize(
    ("extra", "expected", "line"),
    [
        ("sides: left\n", "sides: write a list: each item on a line of its own", 5),
        ("sides: [left, 5]\n", "sides 2: write a text here (not 5)", 5),
        ("why: [a, b]\n", "why: write a text here (not a list)", 5),
        (
            "hold: [5m]\n",
            "hold: write a duration, such as hold: 5m, or the keys default: and minimum: under it",
            5,
        ),
        ("reminders: Breathe.\n", "reminders: write a list: each item on a line of its own", 5),
    ],
)
def test_wrong_type_names_field_and_line(
    tmp_path: Path, extra: str, expected: str, line: int
) -> None:
    message = load_error(tmp_path, MINIMAL + extra)
    assert expected in message
    assert line_of(message) == line


def test_wrong_type_of_step_names_its_line(tmp_path: Path) -> None:
    text = "name: test\ntitle: Test\nsteps:\n  - Lie down.\n  - [a, b]\n"
    message = load_error(tmp_path, text)
    assert "steps 2: write keys under it" in message
    assert line_of(message) == 5


def test_empty_steps(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: Test\nsteps: []\n")
    assert "steps: write at least 1 item" in message
    assert line_of(message) == 3


def test_empty_step_text(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: test\ntitle: Test\nsteps:\n  - ''\n")
    assert "steps 1: write some text; it may not be empty" in message


@pytest.mark.parametrize("sides", ["[left, left]", "[left, Left]", "[left, right, LEFT]"])
def test_duplicate_sides(tmp_path: Path, sides: str) -> None:
    message = load_error(tmp_path, MINIMAL + f"sides: {sides}\n")
    assert "is listed twice; each side must be unique" in message
    assert line_of(message) == 5


def test_blank_side(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "sides: [left, '  ']\n")
    assert "a side needs a name" in message


def test_thirty_hour_hold(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "hold:\n  default: 30h\n")
    assert "hold.default: thirty hours is too long; the most it may be is two hours" in message
    assert line_of(message) == 6


def test_hold_at_the_maximum_is_allowed(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, MINIMAL + "hold:\n  default: 2h\n  minimum: 2h\n"))
    assert routine.hold.default == MAX_HOLD_SECONDS


def test_negative_pause(tmp_path: Path) -> None:
    text = "name: test\ntitle: Test\nsteps:\n  - text: Lie down.\n    pause: -2s\n"
    message = load_error(tmp_path, text)
    assert "steps 1, pause: a duration must be longer than zero, got '-2s'" in message
    assert line_of(message) == 5


def test_over_long_pause(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "step_pause: 11m\n")
    assert "step_pause: eleven minutes is too long; the most it may be is ten minutes" in message


@pytest.mark.parametrize(
    ("value", "shown"),
    [("5 parsecs", "'5 parsecs'"), ("yes", "True"), ("null", "None"), ("[1]", "[1]")],
)
def test_bad_duration_values(tmp_path: Path, value: str, shown: str) -> None:
    message = load_error(tmp_path, MINIMAL + f"step_pause: {value}\n")
    assert f"step_pause: {shown} is not a duration" in message
    assert line_of(message) == 5


def test_date_as_duration_is_a_routine_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "hold:\n  default: 2024-01-01\n")
    assert "hold.default:" in message
    assert "is not a duration" in message


def test_bad_name(tmp_path: Path) -> None:
    message = load_error(tmp_path, "name: My Routine\ntitle: Test\nsteps: [a]\n")
    assert (
        "name: write lower-case letters, digits and hyphens only, such as 'my-routine' "
        "(not 'My Routine')" in message
    )
    assert line_of(message) == 1


# --- what people naturally write (issue 13) ---------------------------------------------


@pytest.mark.parametrize(("hold", "seconds"), [("90s", 90.0), ("2 mins", 120.0), ("300", 300.0)])
def test_a_plain_hold_is_short_for_the_default_hold(
    tmp_path: Path, hold: str, seconds: float
) -> None:
    routine = load_routine(write(tmp_path, MINIMAL + f"hold: {hold}\n"))
    assert routine.hold.default == seconds
    assert routine.hold.minimum == min(seconds, 60.0)  # no note that it is too short


def test_a_plain_hold_that_is_not_a_duration(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "hold: forever\n")
    assert "hold: 'forever' is not a duration; use e.g. 5m" in message
    assert line_of(message) == 5


def test_each_text_knows_its_line_in_the_file(tmp_path: Path) -> None:
    text = (
        "name: test\ntitle: Test\nwhy: Because.\nsteps:\n  - Lie down.\n"
        "  - text: Reach.\n    pause: 2s\nreminders:\n  - Breathe.\nrelease: |\n"
        "  Let go.\n  Slowly.\n"
    )
    routine = load_routine(write(tmp_path, text))
    path = str(tmp_path / "routine.yaml")
    assert routine.place("why").at() == f"{path}, line 3: why"
    assert routine.place("steps", 0).at() == f"{path}, line 5: steps 1"
    assert routine.place("steps", 1).at() == f"{path}, line 6: steps 2"
    assert routine.place("reminders", 0).at() == f"{path}, line 9: reminders 1"
    # A literal block starts on the line after its |, and its lines are the file's.
    assert routine.place("release").at(2) == f"{path}, line 12: release"
    assert routine.place("outro").at() == f"{path}: outro"  # not in the file


def test_routines_from_two_files_with_the_same_content_are_equal(tmp_path: Path) -> None:
    first = load_routine(write(tmp_path, MINIMAL, "a.yaml"))
    second = load_routine(write(tmp_path, "\n\n" + MINIMAL, "b.yaml"))
    assert first == second
    assert first.place("steps", 0) != second.place("steps", 0)
