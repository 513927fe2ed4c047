"""Routines: the content of a stretch, read from human-editable YAML.

A routine describes one exercise: its set-up steps, the reminders spoken during
each hold, its sides, its hold times and its closing words. Text fields may use
the cue-template variables, e.g. ``the ball of your {{ side }} foot``. A series of
routines can later be composed from these without changing them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationError,
    field_validator,
)

from voiceguide.errors import RoutineError
from voiceguide.files import read_user_text
from voiceguide.text.durations import duration_words, parse_duration
from voiceguide.text.pronounce import check_entries
from voiceguide.text.routine_extras import (
    MAX_VOLUME,
    MIN_VOLUME,
    SOUNDS,
    ExtrasSection,
    package_sounds,
)
from voiceguide.text.yamlfile import (
    child_of,
    dotted,
    field_names,
    line_of,
    load_yaml,
    located,
    plain_error,
    unknown_key,
)

MAX_ROUTINE_BYTES = 1_000_000
MAX_HOLD_SECONDS = 2 * 3600
MAX_PAUSE_SECONDS = 10 * 60

#: A duration: seconds, or words such as 5m, 90s or 1m30s.
Seconds = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | str)]


def longest(seconds: float, default: float) -> Any:
    """A duration field's default and bound, the bound also in its JSON Schema (pydantic
    leaves it out of a field whose value is converted first; see build/schemas.py)."""
    return Field(default=default, le=seconds, json_schema_extra={"le": seconds})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _text_item(value: Any) -> Any:
    """A plain text is short for ``text: ...``. A text with a colon and a space in it,
    unquoted, reads as a key and its value: say so, and how to quote it."""
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, dict) and len(value) == 1:
        ((key, rest),) = value.items()
        misspelt = difflib.get_close_matches(str(key), ("text", "pause"), n=1)
        if isinstance(key, str) and not misspelt and isinstance(rest, str):
            raise ValueError(
                f"'{key}: {rest}' reads as a key {key}: and its value; if it is all text, "
                f'put it in quotes: - "{key}: {rest}"'
            )
    return value


def _hold(value: Any) -> Any:
    """``hold: 90s`` is short for ``hold: {default: 90s}`` (and a minimum no longer)."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        seconds = parse_duration(value)
        return {"default": seconds, "minimum": min(seconds, DEFAULT_MINIMUM_HOLD)}
    if not isinstance(value, dict):
        raise ValueError(
            "write a duration, such as hold: 5m, or the keys default: and minimum: under it"
        )
    return value


_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def slug_name(name: str, example: str = "my-stretch") -> str:
    """``name`` if it is lower-case letters, digits and hyphens; else say how to write it."""
    if not _NAME.fullmatch(name):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or example
        raise ValueError(
            f"write lower-case letters, digits and hyphens only, such as {slug!r} (not {name!r})"
        )
    return name


DEFAULT_MINIMUM_HOLD = 60.0


class Step(_Model):
    """One set-up instruction, followed by a pause long enough to do it."""

    text: str = Field(min_length=1, max_length=1000)
    pause: Seconds | None = Field(default=None, le=MAX_PAUSE_SECONDS)


class Reminder(_Model):
    """A reminder spoken during a hold, most important first."""

    text: str = Field(min_length=1, max_length=1000)


class HoldTimes(_Model):
    default: Seconds = longest(MAX_HOLD_SECONDS, 300.0)
    minimum: Seconds = longest(MAX_HOLD_SECONDS, DEFAULT_MINIMUM_HOLD)


@dataclass(frozen=True)
class Place:
    """Where a text of a routine is, to name in errors: ``r.yaml, line 6: reminders 1``."""

    file: str
    line: int | None  # of the text's first line
    item: str  # the field, its items numbered from 1
    literal: bool = False  # a literal block (|): the text's lines are the file's

    def at(self, text_line: int | None = None) -> str:
        """The place, at line ``text_line`` of the text (where the file shows it)."""
        line = self.line
        if line is not None and self.literal and text_line:
            line += text_line - 1
        return f"{self.file}, line {line}: {self.item}" if line else f"{self.file}: {self.item}"


class Routine(_Model):
    """One exercise, as written in a routine file."""

    name: str = Field(
        min_length=1, max_length=60, json_schema_extra={"pattern": "^[a-z0-9][a-z0-9-]*$"}
    )
    title: str = Field(min_length=1, max_length=200)
    why: str = Field(default="", max_length=2000)
    sides: list[str] = Field(default=["left", "right"], max_length=4)  # []: no sides
    hold: Annotated[
        HoldTimes,
        BeforeValidator(_hold, json_schema_input_type=float | str | HoldTimes),
    ] = HoldTimes()
    step_pause: Seconds = longest(MAX_PAUSE_SECONDS, 4.0)
    steps: list[Annotated[Step, BeforeValidator(_text_item, json_schema_input_type=str | Step)]] = (
        Field(min_length=1, max_length=100)
    )
    reminders: list[
        Annotated[Reminder, BeforeValidator(_text_item, json_schema_input_type=str | Reminder)]
    ] = Field(default=[], max_length=100)
    release: str = Field(default="", max_length=1000)
    outro: str = Field(default="", max_length=2000)
    #: Pronunciations: a word and how the speech engine should say it (see pronounce.py).
    pronounce: dict[str, str] = Field(default={}, max_length=500)
    #: Pass speech-engine markup (SSML tags, espeak [[...]] commands) through to the engine.
    allow_markup: StrictBool = False
    #: Countdown, breath pacer, background and chime choices (see routine_extras.py).
    extras: ExtrasSection = ExtrasSection()
    #: Where each text is in the routine file (see :meth:`place`).
    _places: dict[tuple[str, int | None], Place] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Routines are equal when they say the same, wherever their files are."""
        if not isinstance(other, Routine):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @field_validator("name")
    @classmethod
    def _name_is_a_slug(cls, name: str) -> str:
        return slug_name(name)

    @field_validator("sides")
    @classmethod
    def _sides_unique(cls, sides: list[str]) -> list[str]:
        seen: set[str] = set()
        for side in sides:
            if not side.strip():
                raise ValueError("a side needs a name, such as left or right")
            if side.lower() in seen:
                raise ValueError(f"side {side!r} is listed twice; each side must be unique")
            seen.add(side.lower())
        return sides

    @field_validator("pronounce")
    @classmethod
    def _pronounce(cls, entries: dict[str, str]) -> dict[str, str]:
        return check_entries(entries)

    def pause_after(self, step: Step) -> float:
        return step.pause if step.pause is not None else self.step_pause

    def place(self, field: str, index: int | None = None) -> Place:
        """Where the text ``field`` (item ``index``, from 0) is in the routine file."""
        item = field if index is None else f"{field} {index + 1}"
        return self._places.get((field, index)) or Place(self.name, None, item)


# --- loading --------------------------------------------------------------------------


def builtin_names() -> list[str]:
    folder = resources.files("voiceguide.text.routines")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise RoutineError(no_such_name(name))
    return (resources.files("voiceguide.text.routines") / f"{name}.yaml").read_text("utf-8")


def no_such_name(name: str, programmes: Sequence[str] = ()) -> str:
    """That ``name`` is no built-in routine (nor programme, where the built-in
    ``programmes`` are given); the names there are, and the closest."""
    routines = builtin_names()
    close = difflib.get_close_matches(name, [*routines, *programmes], n=1)
    hint = f"; did you mean {close[0]!r}? The built-in" if close else "; built-in"
    kind, listed = "routine", ", ".join(routines)
    if programmes:
        kind, listed = "routine or programme", f"{listed}; programmes: {', '.join(programmes)}"
    return (
        f"there is no built-in {kind} called {name!r}{hint} routines: {listed} "
        "(or give the path to a .yaml file)"
    )


def is_file_ref(ref: str | Path) -> bool:
    """Whether ``ref`` names a file (a .yaml name, or a path with a folder) rather than
    a built-in routine or programme."""
    path = Path(ref)
    return isinstance(ref, Path) or path.suffix in (".yaml", ".yml") or len(path.parts) > 1


def load_routine(ref: str | Path) -> Routine:
    """Load a built-in routine by name, or a routine file by path.

    Sound files a routine names resolve inside its own folder (a built-in
    routine's, inside the package's audio assets)."""
    path = Path(ref)
    if not is_file_ref(ref):
        return parse_routine(builtin_text(str(ref)), f"{ref} (built-in)", package_sounds())
    text = read_user_text(path, "routine", MAX_ROUTINE_BYTES, RoutineError)
    return parse_routine(text, str(path), path.parent)


def parse_routine(text: str, source: str, sounds: Path | None = None) -> Routine:
    """Validate routine YAML text; ``source`` names it in error messages.

    ``sounds`` is the folder the routine's sound files must be in; without it, a
    routine that names a sound file is refused."""
    data, node = load_yaml(text, source, RoutineError)
    if not isinstance(data, dict):
        raise RoutineError(
            f"{source}: a routine file must be a mapping of keys such as title: and steps:"
        )
    try:
        routine = Routine.model_validate(data, context={SOUNDS: sounds})
    except ValidationError as e:
        raise RoutineError(located(e, node, source, _describe)) from None
    routine._places = _places(routine, node, source)
    return routine


def _places(routine: Routine, node: Any, source: str) -> dict[tuple[str, int | None], Place]:
    """Where each text of ``routine`` is in its file (from the YAML ``node``)."""
    where: list[tuple[str, int | None]] = [("why", None), ("release", None), ("outro", None)]
    where += [("steps", i) for i in range(len(routine.steps))]
    where += [("reminders", i) for i in range(len(routine.reminders))]
    places = {}
    for field, index in where:
        loc: tuple[Any, ...] = (field,) if index is None else (field, index)
        text = node
        for part in loc:
            text = child_of(text, part) if text is not None else None
        if text is not None and child_of(text, "text") is not None:
            text = child_of(text, "text")
            loc = (*loc, "text")
        line = line_of(node, loc) if text is not None else None
        literal = getattr(text, "style", None) == "|"
        if line is not None and getattr(text, "style", None) in ("|", ">"):
            line += 1  # a block's text starts on the line after its | or >
        item = field if index is None else f"{field} {index + 1}"
        places[(field, index)] = Place(source, line, item, literal)
    return places


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    field = dotted(loc, "routine")
    if error["type"] == "extra_forbidden":
        if len(loc) == 1 and difflib.get_close_matches(str(loc[-1]), ["exercises"], n=1):
            return (  # a programme whose exercises: is misspelt reads as a routine
                f"unknown key {loc[-1]!r}; did you mean 'exercises'? (a programme lists its "
                "routines under exercises:; a file without it is read as a routine)"
            )
        return unknown_key(str(loc[-1]), field_names(Routine, loc[:-1]))
    if error["type"] == "missing":
        where = "to the file" if len(loc) == 1 else "under it"
        return f"{field} is required; add {loc[-1]}: {where}"
    if error["type"] == "less_than_equal" and loc[-1] in _DURATION_FIELDS:
        limit = duration_words(float(error["ctx"]["le"]))
        given = duration_words(float(error["input"]))
        return f"{field}: {given} is too long; the most it may be is {limit}"
    if loc[-1] == "volume" and error["type"] in ("less_than_equal", "greater_than_equal"):
        return (
            f"{field}: {error['input']:g} dB is out of range; a volume is from "
            f"{MIN_VOLUME:g} to +{MAX_VOLUME:g} dB (relative to the voice)"
        )
    return f"{field}: {plain_error(error, field_names(Routine, loc))}"


_DURATION_FIELDS = {"default", "minimum", "pause", "step_pause"}
