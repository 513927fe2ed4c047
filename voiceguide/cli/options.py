"""The command line's options: derived from the session options' declarations
(:mod:`voiceguide.build.options`), and the few that are the commands' own."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from voiceguide.build.keys import options_from_keys
from voiceguide.build.options import SESSION_OPTIONS, Command, SessionOption
from voiceguide.build.session import SessionOptions
from voiceguide.encode.export import FORMATS
from voiceguide.errors import DurationError, PlanError
from voiceguide.text.cues import validate_hold
from voiceguide.text.durations import parse_duration
from voiceguide.text.extras_change import VolumeOf

F = TypeVar("F", bound=Callable[..., Any])


class HoldType(click.ParamType):  # type: ignore[type-arg]
    """A hold, the one duration among the options (``5m``, ``90s``, ...), within the
    holds voiceguide makes: out of range is bad usage (exit 2), as a ``--rate`` out of
    range is."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = value if isinstance(value, float) else parse_duration(str(value))
            validate_hold(seconds)
        except (DurationError, PlanError) as e:
            self.fail(str(e), param, ctx)
        return seconds


HOLD = HoldType()


class VolumeType(click.ParamType):  # type: ignore[type-arg]
    """EXTRA=DB: an extra's volume in dB, relative to the voice (a chime: to its own level)."""

    name = "extra=dB"

    def __init__(self, option: SessionOption) -> None:
        assert option.minimum is not None
        assert option.maximum is not None
        self.extras, self.minimum, self.maximum = option.choices, option.minimum, option.maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[VolumeOf, float]:
        if isinstance(value, tuple):
            return value
        name, _, number = str(value).partition("=")
        name = name.strip().lower()
        if not _ or name not in self.extras:
            self.fail(f"{value!r}: give EXTRA=DB, where EXTRA is one of {', '.join(self.extras)} "
                      "(such as countdown=-6)", param, ctx)  # fmt: skip
        try:
            db = float(number.strip().lower().removesuffix("db"))
        except ValueError:
            self.fail(f"{value!r}: {number!r} is not a number of dB", param, ctx)
        if not self.minimum <= db <= self.maximum:
            self.fail(f"{value!r}: a volume is from {self.minimum:g} to +{self.maximum:g} dB",
                      param, ctx)  # fmt: skip
        return cast(VolumeOf, name), db


def _parameter(option: SessionOption, command: Command) -> Callable[[F], F]:
    """The click option (or argument) of ``option``, as ``command`` takes it."""
    many = command == "build"  # it builds several sessions at once
    if option.kind == "routine":
        if many:
            return click.argument(option.param, nargs=-1)
        return click.argument(option.param, default=option.default)
    settings: dict[str, Any] = {"help": option.help + (option.several if many else "")}
    if option.metavar is not None:
        settings["metavar"] = option.metavar
    low, high = option.minimum, option.maximum
    match option.kind:
        case "duration":
            settings.update(type=HOLD, multiple=many)
        case "folder":
            settings["type"] = click.Path(path_type=Path, file_okay=False)
        case "file":
            settings["type"] = click.Path(path_type=Path)
        case "choice":
            settings["type"] = click.Choice(option.choices, option.case_sensitive)
        case "int":
            settings["type"] = click.IntRange(None if low is None else int(low),
                                              None if high is None else int(high))  # fmt: skip
        case "number":
            settings["type"] = click.FloatRange(low, high)
        case "switch":
            settings["default"] = None
        case "flag":
            settings["is_flag"] = True
        case "volumes":
            settings.update(type=VolumeType(option), multiple=True)
        case "bitrate":
            settings["callback"] = check_bitrate
        case "sides":
            settings["callback"] = _sides
    if option.default is not None:
        settings.update(default=option.default, show_default=True)
    return click.option(*option.flags, **settings)


def _sides(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    """``left,right``: the sides named, in the order given."""
    if value is None:
        return None
    sides = tuple(side.strip() for side in value.split(",") if side.strip())
    if not sides:
        raise click.BadParameter("name a side, such as --sides left", ctx, param)
    return sides


def session_options(command: Command) -> Callable[[F], F]:
    """The options (and the ROUTINE argument) of the session options ``command`` takes."""

    def decorate(func: F) -> F:
        for option in reversed(SESSION_OPTIONS):
            if command in option.commands:
                func = _parameter(option, command)(func)
        return func

    return decorate


def to_session_options(**params: Any) -> SessionOptions:
    """The session options that the command line's ``params`` give (by click's names)."""
    values = {o.key: params[o.param] for o in SESSION_OPTIONS if o.param in params}
    try:
        return options_from_keys(values, said_as="options")
    except ValueError as e:  # two options contradict each other
        raise click.UsageError(str(e)) from None


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
