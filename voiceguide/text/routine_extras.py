"""The ``extras:`` section of a routine file, validated into :class:`voiceguide.text.extras.Extras`.

Sound files named here (a chime, a background) are shared along with the routine,
so they resolve only inside the routine file's own folder (for a built-in
routine, inside the package's sounds): absolute paths, ``..`` that leads out of
the folder and symlinks that point outside it are refused, as are files that do
not exist. Whether a file decodes is checked when the session is built.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from voiceguide.text.extras import (
    CHIME_WORDS,
    Background,
    ChimeSound,
    Countdown,
    Extras,
    Pacer,
)

MIN_VOLUME, MAX_VOLUME = -60.0, 6.0  # dB relative to the voice
MIN_BREATHS, MAX_BREATHS = 2.0, 20.0  # a minute
MAX_COUNTDOWN = 10
MAX_DUCK = 40.0  # dB

#: Words a background takes instead of a file name (a chime's: CHIME_WORDS, in extras.py).
BACKGROUND_WORDS = ("noise",)

#: The validation context key that holds the folder sound files resolve in.
SOUNDS = "sounds"

Volume = Annotated[StrictFloat, Field(ge=MIN_VOLUME, le=MAX_VOLUME)]


def package_sounds() -> Path:
    """Where a built-in routine's sound files resolve: the package's audio assets."""
    return Path(str(resources.files("voiceguide.audio_assets")))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _switch(value: Any, shorthand: str | None = None, kind: type | tuple[type, ...] = int) -> Any:
    """``true`` turns an extra on with its defaults; ``false`` (or ``off``) leaves it off;
    a plain value of ``kind`` is short for ``shorthand: value``."""
    if value is True:
        return {}
    if value is False or value is None:
        return None
    if shorthand is not None and isinstance(value, kind):
        return {shorthand: value}
    if not isinstance(value, dict):
        keys = f"keys such as {shorthand}:" if shorthand else "keys"
        raise ValueError(f"give true, false (off), or {keys} and volume: (got {value!r})")
    return value


def _countdown(value: Any) -> Any:
    """``countdown: 5`` is short for ``start: 5``."""
    return _switch(value, "start", int)


def _pacer(value: Any) -> Any:
    """``pacer: 6`` is short for ``breaths: 6``."""
    return _switch(value, "breaths", (int, float))


def _background(value: Any) -> Any:
    """``background: noise`` or ``background: rain.ogg`` is short for ``sound: ...``."""
    return _switch(value, "sound", str)


def _chime(value: Any) -> Any:
    """YAML reads a bare ``off`` as false: it means no chime."""
    return "off" if value is False else value


class CountdownSection(_Model):
    start: StrictInt = Field(default=Countdown().start, ge=1, le=MAX_COUNTDOWN)
    volume: Volume = Countdown().volume


class PacerSection(_Model):
    breaths: StrictFloat = Field(default=Pacer().breaths_per_minute, ge=MIN_BREATHS, le=MAX_BREATHS)
    volume: Volume = Pacer().volume


class BackgroundSection(_Model):
    sound: str = "noise"
    volume: Volume = Background().volume
    duck: StrictFloat = Field(default=Background().duck, ge=0.0, le=MAX_DUCK)

    @field_validator("sound")
    @classmethod
    def _sound(cls, value: str, info: ValidationInfo) -> str:
        return value if value in BACKGROUND_WORDS else str(sound_file(value, info))


class ExtrasSection(_Model):
    """What a routine file's ``extras:`` holds."""

    countdown: Annotated[
        CountdownSection | None,
        BeforeValidator(_countdown, json_schema_input_type=bool | int | CountdownSection | None),
    ] = None
    pacer: Annotated[
        PacerSection | None,
        BeforeValidator(_pacer, json_schema_input_type=bool | float | PacerSection | None),
    ] = None
    background: Annotated[
        BackgroundSection | None,
        BeforeValidator(_background, json_schema_input_type=bool | str | BackgroundSection | None),
    ] = None
    start_chime: Annotated[str, BeforeValidator(_chime, json_schema_input_type=bool | str)] = (
        "default"
    )
    end_chime: Annotated[str, BeforeValidator(_chime, json_schema_input_type=bool | str)] = (
        "default"
    )
    chime_volume: Volume = Extras().chime_volume

    @field_validator("start_chime", "end_chime")
    @classmethod
    def _chime_sound(cls, value: str, info: ValidationInfo) -> str:
        return value if value in CHIME_WORDS else str(sound_file(value, info))

    def to_extras(self) -> Extras:
        c, p, b = self.countdown, self.pacer, self.background
        return Extras(
            countdown=Countdown(c.start, c.volume) if c else None,
            pacer=Pacer(p.breaths, p.volume) if p else None,
            background=Background(
                None if b.sound in BACKGROUND_WORDS else Path(b.sound), b.volume, b.duck
            )
            if b
            else None,
            start_chime=_chime_value(self.start_chime),
            end_chime=_chime_value(self.end_chime),
            chime_volume=self.chime_volume,
        )


def _chime_value(value: str) -> ChimeSound:
    if value == "default":
        return "default"
    if value == "off":
        return "off"
    return Path(value)


def sound_file(name: str, info: ValidationInfo) -> Path:
    """The file ``name`` inside the folder sound files resolve in (see the module's doc)."""
    folder = (info.context or {}).get(SOUNDS)
    words = CHIME_WORDS if info.field_name != "sound" else BACKGROUND_WORDS
    choices = " or ".join(repr(w) for w in words)
    if not name:
        raise ValueError(f"give {choices} or the name of a sound file")
    if folder is None:
        raise ValueError(
            f"{name!r}: a routine read from text (such as the studio's page) cannot name "
            f"sound files; use {choices} here, or build the routine file with "
            "voiceguide build FILE, which reads the sound files beside it"
        )
    return resolve_inside(Path(folder), name)


def resolve_inside(folder: Path, name: str) -> Path:
    """``name`` resolved in ``folder``; a ValueError unless it is a file inside it."""
    where = "the routine's folder"
    if "\0" in name:
        raise ValueError(f"{name!r} is not a file name")
    relative = Path(name)
    if relative.is_absolute() or name.startswith("~"):
        raise ValueError(
            f"{name!r} is an absolute path; a sound file must be in {where} "
            "(or below it), named relative to it"
        )
    base = folder.resolve()
    try:
        path = (base / relative).resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop
        raise ValueError(f"{name!r} cannot be resolved: {e}") from None
    if not path.is_relative_to(base):
        how = "points outside" if ".." not in relative.parts else "leads out of"
        raise ValueError(
            f"{name!r} {how} {where}; a sound file must be in {where} ({base}) or below it"
        )
    if not path.is_file():
        what = "is a folder, not a sound file" if path.is_dir() else "does not exist"
        raise ValueError(f"sound file {name!r} {what} (looked in {base})")
    return path
