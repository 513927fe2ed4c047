"""Batch files: the sessions to make, each with its own settings (``voiceguide batch``).

A session may set what the options of ``voiceguide build`` set, under the same
names (``voice_model`` for ``--voice-model``), extras included: ``countdown:
false`` is ``--no-countdown``, ``volume: {pacer: -24}`` is ``--volume pacer=-24``.
``defaults:`` applies to every session; a session's own keys win. Paths are
relative to the batch file. The whole file is checked before anything is built,
and an error names the line it is on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from voiceguide.build.batch import Job
from voiceguide.text.durations import parse_duration
from voiceguide.errors import BatchError
from voiceguide.encode.export import BITRATES, Bitrate
from voiceguide.text.extras_change import BED_WORDS, VOLUMES, ExtrasChange, VolumeOf, sound_choice
from voiceguide.files import read_user_text
from voiceguide.encode.levelling import MAX_TARGET, MIN_TARGET
from voiceguide.text.routine_extras import (
    CHIME_WORDS,
    MAX_BREATHS,
    MAX_COUNTDOWN,
    MAX_VOLUME,
    MIN_BREATHS,
    MIN_VOLUME,
)
from voiceguide.build.session import SessionOptions
from voiceguide.text.yamlfile import line_of, load_yaml, located, unknown_key

MAX_BATCH_BYTES = 1_000_000
MAX_SESSIONS = 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _number(value: Any) -> Any:
    """A number; YAML's yes/no words (``off`` is false) are not 0 and 1."""
    if isinstance(value, bool):
        raise ValueError(f"give a number, not {str(value).lower()}")
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration)]
Number = Annotated[float, BeforeValidator(_number)]


def _word_or_file(false: str, words: str) -> Any:
    """A sound: one of ``words`` or a file name; YAML's bare ``off`` (false) is ``false``."""

    def check(value: Any) -> Any:
        if value is False:
            return false
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"give {words} or a sound file")
        return value

    return BeforeValidator(check)


Chime = Annotated[str, _word_or_file("off", ", ".join(CHIME_WORDS))]
Bed = Annotated[str, _word_or_file("none", ", ".join(BED_WORDS))]
Volume = Annotated[Number, Field(ge=MIN_VOLUME, le=MAX_VOLUME)]

#: Each extra's switch and the setting that implies it.
_IMPLIED = {"countdown": "countdown_from", "pacer": "breaths"}


class Entry(_Model):
    """A session in a batch file; every key is optional."""

    routine: str | None = Field(default=None, min_length=1)
    hold: Seconds | None = None
    output: str | None = Field(default=None, min_length=1)
    templates: str | None = Field(default=None, min_length=1)
    engine: str | None = Field(default=None, min_length=1)
    voice: str | None = Field(default=None, min_length=1)
    voice_model: str | None = Field(default=None, min_length=1)
    rate: Annotated[int, BeforeValidator(_number)] | None = Field(default=None, ge=80, le=300)
    bitrate: Bitrate | None = None
    loudness: Number | None = Field(default=None, ge=MIN_TARGET, le=MAX_TARGET)
    countdown: StrictBool | None = None
    countdown_from: StrictInt | None = Field(default=None, ge=1, le=MAX_COUNTDOWN)
    pacer: StrictBool | None = None
    breaths: Number | None = Field(default=None, ge=MIN_BREATHS, le=MAX_BREATHS)
    background: Bed | None = None
    start_chime: Chime | None = None
    end_chime: Chime | None = None
    volume: dict[VolumeOf, Volume] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_blanks(cls, data: Any) -> Any:
        """A key with no value (``end_chime:``) is a slip, not a choice: say so."""
        if isinstance(data, dict):
            blank = next((key for key, value in data.items() if value is None), None)
            if blank is not None:
                raise ValueError(f"{blank} has no value; give one, or leave the key out")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        for switch, setting in _IMPLIED.items():
            if getattr(self, switch) is False and getattr(self, setting) is not None:
                raise ValueError(f"{switch}: false and {setting} contradict each other")
        return self


class BatchFile(_Model):
    defaults: Annotated[Entry, BeforeValidator(lambda v: {} if v is None else v)] = Entry()
    sessions: list[Entry] = Field(min_length=1, max_length=MAX_SESSIONS)


def load_batch(path: Path, folder: Path | None = None) -> list[Job]:
    """The sessions listed in a batch file.

    Routine, template and sound paths in the file are relative to the file.
    Outputs go into ``folder`` if given (it must exist), else beside the batch file.
    """
    source = str(path)
    text = read_user_text(path, "batch", MAX_BATCH_BYTES, BatchError)
    if folder is not None and not folder.is_dir():
        raise BatchError(f"{folder} is not a folder; give an existing folder for the sessions")
    batch, node = _parse(text, source)
    base = path.parent
    jobs = []
    for number, entry in enumerate(batch.sessions, start=1):
        merged, fallback = _merged(batch.defaults, entry)
        where = line_of(node, ("sessions", number - 1))
        label = f"{source}, line {where}: session {number}"
        jobs.append(_job(merged, fallback, base, folder or base, label))
    return jobs


def _merged(defaults: Entry, entry: Entry) -> tuple[Entry, dict[VolumeOf, float]]:
    """``entry`` over ``defaults`` (its own keys win), and the defaults' volumes for
    the extras it does not set a volume for: those apply only to the extras that the
    session has (a volume the session itself gives for an extra it lacks is an error).

    Turning an extra off in the session drops the defaults' setting for it (such as
    ``countdown_from``); a setting in the session turns on an extra that the
    defaults turn off."""
    given = entry.model_dump(exclude_none=True)
    base = defaults.model_dump(exclude_none=True)
    for switch, setting in _IMPLIED.items():
        if given.get(switch) is False:
            base.pop(setting, None)
        if setting in given and base.get(switch) is False:
            del base[switch]
    volumes: dict[VolumeOf, float] = base.pop("volume", {})
    merged = Entry.model_validate({**base, **given})
    own = merged.volume or {}
    return merged, {name: db for name, db in volumes.items() if name not in own}


def _job(
    entry: Entry, fallback: dict[VolumeOf, float], base: Path, folder: Path, label: str
) -> Job:
    defaults = SessionOptions()
    routine = entry.routine or defaults.routine
    if isinstance(routine, str) and _is_path(routine):
        routine = base / routine
    options = replace(
        defaults,
        routine=routine,
        hold=entry.hold,
        templates=base / entry.templates if entry.templates else None,
        engine=entry.engine or ("piper" if entry.voice_model else defaults.engine),
        voice=entry.voice,
        voice_model=base / entry.voice_model if entry.voice_model else None,
        rate=entry.rate or defaults.rate,
        bitrate=entry.bitrate or defaults.bitrate,
        loudness=defaults.loudness if entry.loudness is None else entry.loudness,
        extras_change=_extras_change(entry, fallback, base),
    )
    return Job(options, Path(entry.output) if entry.output else None, folder, label)


def _extras_change(entry: Entry, fallback: dict[VolumeOf, float], base: Path) -> ExtrasChange:
    return ExtrasChange(
        countdown=entry.countdown,
        countdown_from=entry.countdown_from,
        pacer=entry.pacer,
        breaths=entry.breaths,
        background=sound_choice(entry.background, BED_WORDS, base),
        start_chime=sound_choice(entry.start_chime, CHIME_WORDS, base),
        end_chime=sound_choice(entry.end_chime, CHIME_WORDS, base),
        volumes=tuple((entry.volume or {}).items()),
        fallback_volumes=tuple(fallback.items()),
        said_as="keys",
    )


def _is_path(ref: str) -> bool:
    """The rule :func:`voiceguide.text.routine.load_routine` uses to tell a path from a name."""
    path = Path(ref)
    return path.suffix in (".yaml", ".yml") or len(path.parts) > 1


def _parse(text: str, source: str) -> tuple[BatchFile, Any]:
    data, node = load_yaml(text, source, BatchError)
    if not isinstance(data, dict):
        raise BatchError(
            f"{source}: a batch file must be a mapping with a list of sessions: "
            "(and optional defaults:)"
        )
    try:
        return BatchFile.model_validate(data), node
    except ValidationError as e:
        raise BatchError(located(e, node, source, _describe)) from None


def _describe(error: Any, loc: tuple[Any, ...]) -> str:
    name = _name(loc)
    if error["type"] == "extra_forbidden":
        model = BatchFile if len(loc) == 1 else Entry
        where = _name(loc[:-1])
        said = unknown_key(str(loc[-1]), sorted(model.model_fields))
        return f"{where}: {said}" if where else said
    if error["type"] == "missing":
        return f"{name} is required"
    if error["type"] == "literal_error" and loc[-1] == "bitrate":
        return f"{name}: use one of {', '.join(BITRATES)}"
    if loc[-1] == "[key]":  # a volume of no such extra
        return f"{_name(loc[:-2])}: {loc[-2]!r} is not an extra; give a volume for " + ", ".join(
            VOLUMES
        )
    if error["type"] == "bool_type" and loc[-1] in _IMPLIED:
        return f"{name}: give true or false (a number goes in {_IMPLIED[loc[-1]]})"
    message = str(error["msg"]).removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and isinstance(ctx.get("error"), Exception):
        message = str(ctx["error"])
    return f"{name or 'batch'}: {message}"


def _name(loc: tuple[Any, ...]) -> str:
    """Where in the file: ``session 2: volume.pacer``, ``defaults: rate``, ``sessions``."""
    head, parts = "", list(loc)
    if parts[:1] == ["sessions"] and len(parts) > 1 and isinstance(parts[1], int):
        head, parts = f"session {parts[1] + 1}", parts[2:]
    elif parts[:1] == ["defaults"] and len(parts) > 1:
        head, parts = "defaults", parts[1:]
    rest = ".".join(str(p) for p in parts)
    return f"{head}: {rest}" if head and rest else head or rest
