"""The options of the commands, and the session options they make."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from voiceguide.build.session import SessionOptions
from voiceguide.encode.export import FORMATS
from voiceguide.errors import DurationError
from voiceguide.speech import DEFAULT_RATE, ENGINES
from voiceguide.speech.piper_engine import INSTALL_HINT as PIPER_INSTALL
from voiceguide.text.durations import EXAMPLES, parse_duration
from voiceguide.text.extras_change import (
    BED_WORDS,
    VOLUMES,
    ExtrasChange,
    VolumeOf,
    Volumes,
    sound_choice,
)
from voiceguide.text.routine_extras import (
    CHIME_WORDS,
    MAX_BREATHS,
    MAX_COUNTDOWN,
    MAX_VOLUME,
    MIN_BREATHS,
    MIN_VOLUME,
)


class DurationType(click.ParamType):  # type: ignore[type-arg]
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except DurationError as e:
            self.fail(str(e), param, ctx)


DURATION = DurationType()


class VolumeType(click.ParamType):  # type: ignore[type-arg]
    """EXTRA=DB: an extra's volume in dB, relative to the voice (a chime: to its own level)."""

    name = "extra=dB"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[VolumeOf, float]:
        if isinstance(value, tuple):
            return value
        name, _, number = str(value).partition("=")
        name = name.strip().lower()
        if not _ or name not in VOLUMES:
            self.fail(f"{value!r}: give EXTRA=DB, where EXTRA is one of {', '.join(VOLUMES)} "
                      "(such as countdown=-6)", param, ctx)  # fmt: skip
        try:
            db = float(number.strip().lower().removesuffix("db"))
        except ValueError:
            self.fail(f"{value!r}: {number!r} is not a number of dB", param, ctx)
        if not MIN_VOLUME <= db <= MAX_VOLUME:
            self.fail(f"{value!r}: a volume is from {MIN_VOLUME:g} to +{MAX_VOLUME:g} dB",
                      param, ctx)  # fmt: skip
        return name, db


VOLUME = VolumeType()


def _engine_options() -> list[Any]:
    return [
        click.option(
            "--engine",
            type=click.Choice(list(ENGINES)),
            help="Speech engine: pyttsx3 (the default) or piper, a natural voice "
            f"({PIPER_INSTALL}). --voice-model implies piper.",
        ),
        click.option(
            "--voice-model",
            type=click.Path(path_type=Path),
            help="A Piper voice model (.onnx, with its .onnx.json beside it). "
            "Default: the joe voice.",
        ),
    ]


def engine_options(func: Any) -> Any:
    """--engine and --voice-model, for the commands that speak or list voices."""
    for option in reversed(_engine_options()):
        func = option(func)
    return func


def engine_name(engine: str | None, voice_model: Path | None) -> str:
    return engine or ("piper" if voice_model is not None else "pyttsx3")


def session_options(func: Any, many: bool = False) -> Any:
    """The options shared by build and script (``many``: several routines and holds)."""
    options = [
        click.argument("routine", nargs=-1)
        if many
        else click.argument("routine", default="hamstring"),
        click.option(
            "--hold",
            type=DURATION,
            multiple=many,
            help=f"Hold per side ({EXAMPLES}). Default: the routine's."
            + (" Repeat it for several sessions." if many else ""),
        ),
        click.option(
            "--templates",
            type=click.Path(path_type=Path, file_okay=False),
            help="Folder of edited cue templates (any subset of them).",
        ),
        *_engine_options(),
        click.option("--voice", help="Speech voice id or name (see: voiceguide voices)."),
        click.option(
            "--rate",
            type=click.IntRange(80, 300),
            default=DEFAULT_RATE,
            show_default=True,
            help="Speaking rate in words per minute.",
        ),
        click.option(
            "--no-cache", is_flag=True, help="Synthesise every clip again, ignoring the cache."
        ),
        click.option(
            "--format",
            "audio_format",
            type=click.Choice(list(FORMATS), case_sensitive=False),
            help="Audio format. Default: from the output's extension, else mp3.",
        ),
        *_extras_options(),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _extras_options() -> list[Any]:
    """The options that change the routine's extras (each default keeps the routine's)."""
    return [
        click.option(
            "--countdown/--no-countdown",
            default=None,
            help="Count the last seconds of each hold aloud (three, two, one), or not. "
            "Default: as the routine says.",
        ),
        click.option(
            "--countdown-from",
            type=click.IntRange(1, MAX_COUNTDOWN),
            metavar="N",
            help=f"The countdown's first number, 1 to {MAX_COUNTDOWN}; implies --countdown.",
        ),
        click.option(
            "--pacer/--no-pacer",
            default=None,
            help="Soft tones to breathe in and out by during each hold, or not.",
        ),
        click.option(
            "--breaths",
            type=click.FloatRange(MIN_BREATHS, MAX_BREATHS),
            metavar="N",
            help="The pacer's breaths a minute, 2 to 20 (default 6); implies --pacer.",
        ),
        click.option(
            "--background",
            metavar="noise|none|FILE",
            help="A bed under each hold: generated soft noise, none, or your sound file.",
        ),
        click.option(
            "--start-chime",
            metavar="default|off|FILE",
            help="The sound that starts each hold: the default chime, none, or your sound file.",
        ),
        click.option(
            "--end-chime",
            metavar="default|off|FILE",
            help="The sound that ends each hold: the default chime, none, or your sound file.",
        ),
        click.option(
            "--volume",
            "volumes",
            type=VOLUME,
            multiple=True,
            metavar="EXTRA=DB",
            help="The volume of countdown, pacer or background in dB relative to the voice, "
            "or of the chimes relative to their own level, -60 to +6 (such as pacer=-24 "
            "or chime=-6); repeat it for each.",
        ),
    ]


def _extras_change(countdown: bool | None, countdown_from: int | None, pacer: bool | None,
                   breaths: float | None, background: str | None, start_chime: str | None,
                   end_chime: str | None, volumes: Volumes,
                   ) -> ExtrasChange:  # fmt: skip
    try:
        return ExtrasChange(
            countdown=countdown, countdown_from=countdown_from, pacer=pacer, breaths=breaths,
            background=sound_choice(background, BED_WORDS),
            start_chime=sound_choice(start_chime, CHIME_WORDS),
            end_chime=sound_choice(end_chime, CHIME_WORDS),
            volumes=volumes,
        )  # fmt: skip
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def to_session_options(routine: str, hold: float | None, templates: Path | None, engine: str | None,
             voice_model: Path | None, voice: str | None, rate: int, no_cache: bool,
             audio_format: str | None, countdown: bool | None, countdown_from: int | None,
             pacer: bool | None, breaths: float | None, background: str | None,
             start_chime: str | None, end_chime: str | None,
             volumes: Volumes, **extra: Any) -> SessionOptions:  # fmt: skip
    change = _extras_change(countdown, countdown_from, pacer, breaths, background, start_chime,
                            end_chime, volumes)  # fmt: skip
    return SessionOptions(
        routine=routine, hold=hold, templates=templates, engine=engine_name(engine, voice_model),
        voice_model=voice_model, voice=voice, rate=rate, use_cache=not no_cache,
        format=audio_format and audio_format.lower(), extras_change=change, **extra,
    )  # fmt: skip


_ALL_BITRATES = sorted({b for f in FORMATS.values() for b in f.bitrates}, key=lambda b: int(b[:-1]))


def check_bitrate(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A bitrate some format offers (whether the chosen format does is checked later)."""
    if value is None:
        return value
    normal = value.strip().lower()
    if re.fullmatch(r"\d+000", normal):
        normal = f"{int(normal) // 1000}k"
    if normal in _ALL_BITRATES:
        return normal
    raise click.BadParameter(
        f"{value!r} is not a bitrate; choose one of: {', '.join(_ALL_BITRATES)}", ctx, param
    )


def jobs_option(func: Any, single: bool = True) -> Any:
    """``--jobs``; ``single``: the command may build a single session, which the
    option then runs in that many processes."""
    one = (
        " For a single session: how many processes it runs side by side (default: one per "
        "CPU core; two at most do work; 1 takes about 20 to 30 MB less memory, by PSS, "
        "and is slower)."
    )
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        help="Sessions built at once (default: one per CPU core)." + (one if single else ""),
    )(func)
