"""Routines: the content of a stretch, read from human-editable YAML.

A routine describes one exercise: its set-up steps, the reminders spoken during
each hold, its sides, its hold times and its closing words. Text fields may use
the cue-template variables, e.g. ``the ball of your {{ side }} foot``. A series of
routines can later be composed from these without changing them.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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
from voiceguide.text.yamlfile import load_yaml, located, unknown_key

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
    return {"text": value} if isinstance(value, str) else value


class Step(_Model):
    """One set-up instruction, followed by a pause long enough to do it."""

    text: str = Field(min_length=1, max_length=1000)
    pause: Seconds | None = Field(default=None, le=MAX_PAUSE_SECONDS)


class Reminder(_Model):
    """A reminder spoken during a hold, most important first."""

    text: str = Field(min_length=1, max_length=1000)


class HoldTimes(_Model):
    default: Seconds = longest(MAX_HOLD_SECONDS, 300.0)
    minimum: Seconds = longest(MAX_HOLD_SECONDS, 60.0)


class Routine(_Model):
    """One exercise, as written in a routine file."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1, max_length=200)
    why: str = Field(default="", max_length=2000)
    sides: list[str] = Field(default=["left", "right"], max_length=4)  # []: no sides
    hold: HoldTimes = HoldTimes()
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


# --- loading --------------------------------------------------------------------------


def builtin_names() -> list[str]:
    folder = resources.files("voiceguide.text.routines")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise RoutineError(
            f"there is no built-in routine called {name!r}; built-in routines: "
            f"{', '.join(builtin_names())} (or give the path to a .yaml file)"
        )
    return (resources.files("voiceguide.text.routines") / f"{name}.yaml").read_text("utf-8")


def load_routine(ref: str | Path) -> Routine:
    """Load a built-in routine by name, or a routine file by path.

    Sound files a routine names resolve inside its own folder (a built-in
    routine's, inside the package's audio assets)."""
    path = Path(ref)
    is_path = isinstance(ref, Path) or path.suffix in (".yaml", ".yml") or len(path.parts) > 1
    if not is_path:
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
        return Routine.model_validate(data, context={SOUNDS: sounds})
    except ValidationError as e:
        raise RoutineError(located(e, node, source, _describe)) from None


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    field = _dotted(loc)
    if error["type"] == "extra_forbidden":
        return unknown_key(str(loc[-1]), _field_names(loc[:-1]))
    if error["type"] == "missing":
        return f"{field} is required"
    if error["type"] == "less_than_equal" and loc[-1] in _DURATION_FIELDS:
        limit = duration_words(float(error["ctx"]["le"]))
        given = duration_words(float(error["input"]))
        return f"{field}: {given} is too long; the most it may be is {limit}"
    if loc[-1] == "volume" and error["type"] in ("less_than_equal", "greater_than_equal"):
        return (
            f"{field}: {error['input']:g} dB is out of range; a volume is from "
            f"{MIN_VOLUME:g} to +{MAX_VOLUME:g} dB (relative to the voice)"
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    if (
        error["type"] == "value_error"
        and "ctx" in error
        and isinstance(error["ctx"].get("error"), Exception)
    ):
        message = str(error["ctx"]["error"])
    return f"{field}: {message}"


_DURATION_FIELDS = {"default", "minimum", "pause", "step_pause"}


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "function_")):
            out += ("." if out else "") + str(part)
    return out or "routine"


def _field_names(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Routine
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__origin__", None) and getattr(candidate, "__args__", ())
            for option in (candidate, *(inner or ())):
                meta = getattr(option, "__origin__", option)
                if isinstance(meta, type) and issubclass(meta, BaseModel):
                    model = meta
    return sorted(model.model_fields)


def iter_texts(routine: Routine) -> Iterator[tuple[str, str]]:
    """Every templated text field of a routine as (field name, text)."""
    yield "why", routine.why
    for i, step in enumerate(routine.steps):
        yield f"steps[{i}]", step.text
    for i, reminder in enumerate(routine.reminders):
        yield f"reminders[{i}]", reminder.text
    yield "release", routine.release
    yield "outro", routine.outro
