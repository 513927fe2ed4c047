"""Session options given as keys, as a batch file (or a programme, or a form) gives
them: checked, with a batch file's error messages, and made into a session's options.

The keys, their kinds and ranges are those of :data:`voiceguide.build.options.SESSION_OPTIONS`::

    values = check_keys({"hold": "90s", "pacer": True}, MyError)  # {'hold': 90.0, 'pacer': True}
    options = options_from_keys(values, base=folder)  # a SessionOptions
    change = extras_change(values, base=folder)  # only the extras: an ExtrasChange

A key that is absent leaves its setting alone: the routine's choice, or the
default. Paths are relative to ``base``. A file with a model of its own (for line
numbers) takes :func:`keys_model` as a field's type, and words its errors with
:func:`key_message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from voiceguide.build.options import (
    FILE_KEYS,
    IMPLIED,
    SessionOption,
    by_key,
)
from voiceguide.build.session import SessionOptions
from voiceguide.encode.export import Bitrate
from voiceguide.errors import VoiceguideError
from voiceguide.text.extras_change import ExtrasChange, VolumeOf, Volumes, sound_choice
from voiceguide.text.programme import LoadedProgramme
from voiceguide.text.routine import Routine, Seconds, is_file_ref
from voiceguide.text.yamlfile import plain_error, unknown_key

_DEFAULTS = SessionOptions()


def _number(value: Any) -> Any:
    """A number; YAML's yes/no words (``off`` is false) are not 0 and 1."""
    if isinstance(value, bool):
        raise ValueError(f"give a number, not {str(value).lower()}")
    return value


def _word_or_file(false: str, words: str) -> Any:
    """A sound: one of ``words`` or a file name; YAML's bare ``off`` (false) is ``false``."""

    def check(value: Any) -> Any:
        if value is False:
            return false
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"give {words} or a sound file")
        return value

    return BeforeValidator(check)


def _annotation(option: SessionOption) -> Any:
    """The type a file's value of ``option`` is checked as."""
    low, high = option.minimum, option.maximum
    kind = option.kind
    if kind == "duration":
        return Seconds
    if kind == "int":
        return Annotated[int, BeforeValidator(_number), Field(ge=low, le=high)]
    if kind == "number":
        return Annotated[float, BeforeValidator(_number), Field(ge=low, le=high)]
    if kind == "switch":
        return StrictBool
    if kind == "sound":
        assert option.off is not None
        return Annotated[str, _word_or_file(option.off, ", ".join(option.choices))]
    if kind == "volumes":
        return dict[VolumeOf, Annotated[float, BeforeValidator(_number), Field(ge=low, le=high)]]
    if kind == "bitrate":
        return Bitrate
    if kind == "sides":
        return Annotated[
            list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=4)
        ]
    # Names and paths; an engine is checked when it is made, as on the command line.
    return Annotated[str, Field(min_length=1)]


class _Keys(BaseModel):
    """What every model of keys checks, beyond each key's own value."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_blanks(cls, value: Any) -> Any:
        """A key with no value (``end_chime:``) is a slip, not a choice: say so (on its
        own line, as the error is the key's)."""
        if value is None:
            raise ValueError("no value; give one, or leave the key out")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> _Keys:
        for switch, setting in IMPLIED.items():
            if getattr(self, switch, None) is False and getattr(self, setting, None) is not None:
                raise ValueError(f"{switch}: false and {setting} contradict each other")
        return self


@cache
def keys_model(keys: tuple[str, ...] = FILE_KEYS, name: str = "SessionKeys") -> type[BaseModel]:
    """A pydantic model of ``keys`` (default: every key a file may set), each optional,
    checked as a batch file checks them. Its errors read as a batch file's through
    :func:`key_message`. Use it as a field's type in a file's own model."""
    fields: dict[str, Any] = {key: (_annotation(by_key(key)) | None, None) for key in keys}
    model: type[BaseModel] = create_model(name, __base__=_Keys, **fields)
    return model


def _find(key: object) -> SessionOption | None:
    try:
        return by_key(str(key))
    except KeyError:
        return None


def key_message(error: ErrorDetails, loc: tuple[Any, ...]) -> str:
    """What a batch file says of a validation ``error`` at ``loc`` inside a model of
    keys: ``rate: 301 is out of range; write at most 300``, ``volume: 'pacr' is
    not an extra; ...``; an error of the whole model (``loc`` empty) is its message."""
    name = ".".join(str(part) for part in loc)
    option = _find(loc[-1]) if loc else None
    if error["type"] == "literal_error" and option is not None and option.kind == "bitrate":
        return f"{name}: use one of {', '.join(option.choices)}"
    if loc[-1:] == ("[key]",):  # a volume of no such extra
        volumes = ".".join(str(part) for part in loc[:-2])
        return f"{volumes}: {loc[-2]!r} is not an extra; give a volume for " + ", ".join(
            by_key(volumes).choices
        )
    if error["type"] == "bool_type" and option is not None and option.key in IMPLIED:
        return f"{name}: give true or false (a number goes in {IMPLIED[option.key]})"
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and isinstance(ctx.get("error"), Exception):
        message = str(ctx["error"])
    else:
        message = plain_error(error)
    return f"{name}: {message}" if name else message


def check_keys(
    data: Mapping[str, Any], error: type[VoiceguideError], keys: Iterable[str] = FILE_KEYS
) -> dict[str, Any]:
    """``data`` checked as a batch file's keys (only ``keys`` allowed): the values
    of the keys it gives, converted (a hold in seconds). A bad key or value raises
    ``error`` with a batch file's message, such as ``rate: 301 is out of range; ...``."""
    allowed = tuple(keys)
    try:
        checked = keys_model(allowed).model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        first = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = tuple(first["loc"])
        if first["type"] == "extra_forbidden":
            raise error(unknown_key(str(loc[-1]), sorted(allowed))) from None
        raise error(key_message(first, loc)) from None
    return checked.model_dump(exclude_none=True)


# --- from keys to a session's options ------------------------------------------------------


def _path(value: str | Path | None, base: Path | None) -> Path | None:
    if not value:
        return None
    return Path(value) if base is None else base / value


def extras_change(
    values: Mapping[str, Any],
    base: Path | None = None,
    fallback_volumes: Volumes = (),
    said_as: Literal["options", "keys"] = "keys",
) -> ExtrasChange:
    """The change to the routine's extras that the checked ``values`` (by key) ask
    for; sound files are relative to ``base``. ``fallback_volumes`` apply to those
    extras that are on (see :class:`ExtrasChange`); ``said_as`` names the settings
    in errors as a file's keys or the command line's options. A ValueError when two
    settings contradict each other."""
    get = values.get
    folder = base or Path()
    volumes = get("volume") or ()
    return ExtrasChange(
        countdown=get("countdown"),
        countdown_from=get("countdown_from"),
        pacer=get("pacer"),
        breaths=get("breaths"),
        background=sound_choice(get("background"), by_key("background").choices, folder),
        start_chime=sound_choice(get("start_chime"), by_key("start_chime").choices, folder),
        end_chime=sound_choice(get("end_chime"), by_key("end_chime").choices, folder),
        volumes=tuple(volumes.items()) if isinstance(volumes, Mapping) else tuple(volumes),
        fallback_volumes=tuple(fallback_volumes),
        said_as=said_as,
    )


def options_from_keys(
    values: Mapping[str, Any],
    base: Path | None = None,
    defaults: SessionOptions = _DEFAULTS,
    fallback_volumes: Volumes = (),
    said_as: Literal["options", "keys"] = "keys",
) -> SessionOptions:
    """``defaults`` with the settings the checked ``values`` (by key) give; the
    extras are changed as ``values`` say (:func:`extras_change`), whatever
    ``defaults.extras_change`` says. (To give settings at two levels, such as a
    file's defaults and its sessions, merge the keys first.)

    Paths (a routine file, templates, a voice model, sound files) are relative to
    ``base``; with no ``base`` they are taken as given, and a routine as named.
    ``output`` is not an option of the session: it is the caller's."""
    get = values.get
    routine: str | Path | Routine | LoadedProgramme = get("routine") or defaults.routine
    if base is not None and isinstance(routine, str) and is_file_ref(routine):
        routine = base / routine
    voice_model = _path(get("voice_model"), base) or defaults.voice_model
    loudness = get("loudness")
    audio_format = get("format")
    return replace(
        defaults,
        routine=routine,
        hold=get("hold", defaults.hold),
        templates=_path(get("templates"), base) or defaults.templates,
        engine=get("engine") or ("piper" if voice_model is not None else defaults.engine),
        voice=get("voice", defaults.voice),
        voice_model=voice_model,
        rate=get("rate") or defaults.rate,
        use_cache=defaults.use_cache and not get("no_cache"),
        format=audio_format.lower() if audio_format else defaults.format,
        bitrate=get("bitrate") or defaults.bitrate,
        loudness=defaults.loudness if loudness is None else loudness,
        extras_change=extras_change(values, base, fallback_volumes, said_as),
        sides=tuple(get("sides") or ()) or defaults.sides,
        lexicon=_path(get("lexicon"), base) or defaults.lexicon,
        title=get("title") or defaults.title,
    )
