"""Programmes: several routines in one session, read from human-editable YAML.

A programme lists exercises in order. Each names a routine (a built-in one, or a
routine file relative to the programme) and may set its own hold, its sides, its
countdown and the rest that follows it. A group of exercises may be repeated in
rounds. The programme's title, intro and outro take the place of each routine's
welcome and closing words, so a session has one welcome, not five; each routine
keeps its own set-up steps, reminders and release.

Example::

    name: my-back
    title: My back series
    rest: 20s
    exercises:
      - routine: knee-to-chest
      - routine: my-stretch.yaml
        hold: 45s
        sides: [left]
      - rounds: 2
        rest: 30s          # between rounds
        exercises:
          - routine: pelvic-tilt
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
)

from voiceguide.errors import RoutineError
from voiceguide.files import read_user_text
from voiceguide.text.cues import MIN_HOLD_SECONDS
from voiceguide.text.programme_errors import data_path, describer, exercise_words
from voiceguide.text.pronounce import check_entries
from voiceguide.text.routine import (
    MAX_HOLD_SECONDS,
    MAX_PAUSE_SECONDS,
    MAX_ROUTINE_BYTES,
    Routine,
    Seconds,
    builtin_names,
    is_file_ref,
    load_routine,
    longest,
    no_such_name,
    parse_routine,
    slug_name,
)
from voiceguide.text.routine_extras import SOUNDS, ExtrasSection, package_sounds
from voiceguide.text.yamlfile import line_of, load_yaml, located

PROGRAMMES = "voiceguide.text.programmes"
MAX_EXERCISES = 50  # exercises in a whole programme, rounds counted out
MAX_ROUNDS = 10


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _exercise_item(value: Any) -> Any:
    return {"routine": value} if isinstance(value, str) else value


class Exercise(_Model):
    """One routine in a programme, with what the programme changes of it."""

    routine: str = Field(min_length=1, max_length=500)
    #: Seconds per side; None: the routine's default hold.
    hold: Seconds | None = Field(default=None, ge=MIN_HOLD_SECONDS, le=MAX_HOLD_SECONDS)
    #: The sides to do, of the routine's; None: all of them.
    sides: list[str] | None = Field(default=None, min_length=1, max_length=4)
    #: The rest after this exercise; None: the programme's.
    rest: Seconds | None = Field(default=None, gt=0, le=MAX_PAUSE_SECONDS)
    #: Count the last seconds of each hold aloud, or not; None: as the programme says.
    countdown: bool | None = None
    #: A name for this exercise in the script and chapters; default: the routine's title.
    title: str | None = Field(default=None, min_length=1, max_length=200)


class Rounds(_Model):
    """A group of exercises done ``rounds`` times, with a rest between rounds."""

    rounds: int = Field(ge=1, le=MAX_ROUNDS)
    rest: Seconds | None = Field(default=None, gt=0, le=MAX_PAUSE_SECONDS)
    exercises: list[
        Annotated[Exercise, BeforeValidator(_exercise_item, json_schema_input_type=str | Exercise)]
    ] = Field(min_length=1, max_length=MAX_EXERCISES)


def _item_kind(value: Any) -> str:
    return "rounds" if isinstance(value, dict) and "rounds" in value else "exercise"


Item = Annotated[
    Annotated[Exercise, Tag("exercise")] | Annotated[Rounds, Tag("rounds")],
    Discriminator(_item_kind),
]


class Programme(_Model):
    """A series of exercises, as written in a programme file."""

    name: str = Field(
        min_length=1, max_length=60, json_schema_extra={"pattern": "^[a-z0-9][a-z0-9-]*$"}
    )
    title: str = Field(min_length=1, max_length=200)
    intro: str = Field(default="", max_length=2000)
    outro: str = Field(default="", max_length=2000)
    #: The rest between two exercises, unless an exercise sets its own.
    rest: Seconds = longest(MAX_PAUSE_SECONDS, 20.0)
    exercises: list[
        Annotated[
            Item, BeforeValidator(_exercise_item, json_schema_input_type=str | Exercise | Rounds)
        ]
    ] = Field(min_length=1, max_length=MAX_EXERCISES)
    #: Pronunciations: a word and how the speech engine should say it.
    pronounce: dict[str, str] = Field(default={}, max_length=500)
    allow_markup: bool = False
    extras: ExtrasSection = ExtrasSection()
    #: The YAML node tree of the file it was read from, to say where an exercise is.
    _node: Any = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Programmes are equal when they say the same, wherever their files are."""
        if not isinstance(other, Programme):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @field_validator("name")
    @classmethod
    def _name_is_a_slug(cls, name: str) -> str:
        return slug_name(name, "my-back")

    @field_validator("pronounce")
    @classmethod
    def _pronounce(cls, entries: dict[str, str]) -> dict[str, str]:
        return check_entries(entries)

    @field_validator("exercises")
    @classmethod
    def _not_too_many(cls, items: list[Exercise | Rounds]) -> list[Exercise | Rounds]:
        total = sum(len(i.exercises) * i.rounds if isinstance(i, Rounds) else 1 for i in items)
        if total > MAX_EXERCISES:
            raise ValueError(
                f"a programme may have at most {MAX_EXERCISES} exercises, rounds counted out; "
                f"this one has {total}"
            )
        return items


@dataclass(frozen=True)
class Slot:
    """One exercise as done in the session: its routine, round and what follows it."""

    number: int  # 1, 2, ... in the session, rounds counted out
    routine: Routine
    exercise: Exercise
    title: str
    rest_after: float  # seconds of rest after it; 0 after the last
    round: int = 0  # 1, 2, ... within a group of rounds; 0 outside one
    rounds: int = 0
    round_starts: bool = False  # the first exercise of a round

    @property
    def sides(self) -> list[str]:
        return self.exercise.sides or self.routine.sides


def slots(programme: Programme, routines: dict[str, Routine]) -> list[Slot]:
    """The programme's exercises in the order they are done, rounds counted out."""
    # (exercise, round, rounds, rest between rounds, whether it starts a round)
    flat: list[tuple[Exercise, int, int, float | None, bool]] = []
    for item in programme.exercises:
        if isinstance(item, Rounds):
            for number in range(1, item.rounds + 1):
                for i, exercise in enumerate(item.exercises):
                    last_in_round = i == len(item.exercises) - 1
                    between = item.rest if last_in_round and number < item.rounds else None
                    flat.append((exercise, number, item.rounds, between, i == 0))
        else:
            flat.append((item, 0, 0, None, False))
    out: list[Slot] = []
    for index, (exercise, number, rounds, between, starts) in enumerate(flat):
        routine = routines[exercise.routine]
        last = index == len(flat) - 1
        if last:
            rest = 0.0
        elif between is not None:
            rest = between
        else:
            rest = exercise.rest if exercise.rest is not None else programme.rest
        out.append(
            Slot(index + 1, routine, exercise, exercise.title or routine.title, rest,
                 number, rounds, starts)
        )  # fmt: skip
    return out


def exercises(programme: Programme) -> Iterator[Exercise]:
    for item in programme.exercises:
        yield from item.exercises if isinstance(item, Rounds) else (item,)


# --- loading --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedProgramme:
    programme: Programme
    routines: dict[str, Routine]  # by the exercise's ``routine`` as written


def builtin_programmes() -> list[str]:
    folder = resources.files(PROGRAMMES)
    names = (p.name for p in folder.iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))


def builtin_programme_text(name: str) -> str:
    return (resources.files(PROGRAMMES) / f"{name}.yaml").read_text("utf-8")


def is_programme_text(text: str) -> bool:
    """Whether YAML text is a programme's: it has ``exercises:`` at the top level; or it
    has none of a routine's own keys, and a programme's own (``intro:``, ``rest:``) or a
    key close to ``exercises`` (a programme whose list is misspelt or missing is read as
    one, so that its error names the list, not the keys a routine lacks)."""
    keys = set(re.findall(r"^([A-Za-z_][\w-]*)\s*:", text, re.MULTILINE))
    if "exercises" in keys:
        return True
    if keys & (Routine.model_fields.keys() - Programme.model_fields.keys()):
        return False
    own = Programme.model_fields.keys() - Routine.model_fields.keys()
    return bool(keys & own) or any(difflib.get_close_matches(k, ["exercises"], n=1) for k in keys)


def load_content(ref: str | Path) -> Routine | LoadedProgramme:
    """The routine or programme ``ref`` names: a built-in one, or a file (read once), which
    is a programme if it has ``exercises:``."""
    if isinstance(ref, str) and ref in builtin_programmes():
        return load_programme(ref)
    if not is_file_ref(ref):
        if str(ref) not in builtin_names():
            raise RoutineError(no_such_name(str(ref), builtin_programmes()))
        return load_routine(ref)
    path = Path(ref)
    text = read_user_text(path, "routine", MAX_ROUTINE_BYTES, RoutineError)
    if is_programme_text(text):
        return _with_routines(parse_programme(text, str(path), path.parent), path.parent, str(path))
    return parse_routine(text, str(path), path.parent)


def load_programme(ref: str | Path) -> LoadedProgramme:
    """Load a built-in programme by name, or a programme file by path, with its routines.

    A routine an exercise names by path is relative to the programme file."""
    path = Path(ref)
    if isinstance(ref, str) and ref in builtin_programmes():
        text = builtin_programme_text(ref)
        return _with_routines(parse_programme(text, f"{ref} (built-in)", package_sounds()), None,
                              f"{ref} (built-in)")  # fmt: skip
    text = read_user_text(path, "programme", MAX_ROUTINE_BYTES, RoutineError)
    return _with_routines(parse_programme(text, str(path), path.parent), path.parent, str(path))


def parse_programme(text: str, source: str, sounds: Path | None = None) -> Programme:
    data, node = load_yaml(text, source, RoutineError)
    if not isinstance(data, dict):
        raise RoutineError(
            f"{source}: a programme file must be a mapping of keys such as title: and exercises:"
        )
    try:
        programme = Programme.model_validate(data, context={SOUNDS: sounds})
    except ValidationError as e:
        models = {"programme": Programme, "exercise": Exercise, "rounds": Rounds}
        raise RoutineError(located(e, node, source, describer(data, models), data_path)) from None
    programme._node = node
    return programme


def with_given_routines(
    programme: Programme, source: str, given: Mapping[str, Routine]
) -> LoadedProgramme:
    """A programme read from somewhere other than its folder (such as the studio's page):
    the routine files its exercises name are taken from ``given``, by the name as written,
    and never read from disk; built-in routines load as usual."""
    return _with_routines(programme, None, source, given)


def _with_routines(
    programme: Programme,
    folder: Path | None,
    source: str,
    given: Mapping[str, Routine] | None = None,
) -> LoadedProgramme:
    routines: dict[str, Routine] = {}
    for path, words, exercise in _placed(programme):
        error = partial(_exercise_error, programme, source, path, words)
        ref = exercise.routine
        if ref not in routines:
            routines[ref] = _routine(ref, folder, given, error)
        routine = routines[ref]
        unknown = [s for s in exercise.sides or () if s not in routine.sides]
        if unknown:
            has = (
                f"({', '.join(routine.sides)})" if routine.sides else "(it has none: leave it out)"
            )
            raise error(f"sides: {unknown[0]!r} is not one of the routine's sides {has}", "sides")
    return LoadedProgramme(programme, routines)


def _exercise_error(
    programme: Programme,
    source: str,
    path: tuple[Any, ...],
    words: str,
    problem: str,
    key: str = "routine",
) -> RoutineError:
    """``p.yaml, line 6: exercise 2 (hamstrin): problem``: the line of the exercise's ``key``."""
    line = line_of(programme._node, (*path, key)) if programme._node is not None else None
    where = f"{source}, line {line}" if line else source
    return RoutineError(f"{where}: {words}: {problem}")


def _routine(
    ref: str,
    folder: Path | None,
    given: Mapping[str, Routine] | None,
    error: Callable[[str], RoutineError],
) -> Routine:
    """The routine an exercise names: built-in, given, or a file beside the programme."""
    if ref in builtin_programmes():
        raise error(
            f"{ref!r} is a programme, not a routine; name a routine, or copy the programme's "
            f"exercises here (voiceguide routines show {ref})"
        )
    is_path = is_file_ref(ref)
    if is_path and given is not None:
        if ref not in given:
            raise error(f"that routine file was not given; given: {', '.join(given) or 'none'}")
        return given[ref]
    if is_path and folder is None:
        raise error("a built-in programme names only built-in routines")
    if not is_path:
        try:
            return load_routine(ref)
        except RoutineError as e:
            raise error(str(e)) from None
    path = folder / ref if folder is not None else Path(ref)
    try:
        text = read_user_text(path, "routine", MAX_ROUTINE_BYTES, RoutineError)
        if is_programme_text(text):
            raise RoutineError(
                f"{path} is a programme, not a routine; name a routine file, or copy that "
                "programme's exercises here"
            )
        return parse_routine(text, str(path), path.parent)
    except RoutineError as e:
        hint = " (a routine file's path is relative to the programme's folder)"
        raise error(str(e) + (hint if "does not exist" in str(e) else "")) from None


def _placed(programme: Programme) -> Iterator[tuple[tuple[Any, ...], str, Exercise]]:
    """Each exercise, with where it is in the file and how the person counts it."""
    for i, item in enumerate(programme.exercises):
        if isinstance(item, Rounds):
            for j, exercise in enumerate(item.exercises):
                words = exercise_words(j + 1, exercise.routine, i + 1)
                yield ("exercises", i, "exercises", j), words, exercise
        else:
            yield ("exercises", i), exercise_words(i + 1, item.routine), item
