"""Changes to a routine's extras from the command line or a batch file, and how they combine.

A routine file's ``extras:`` section says what a session has; the command line
(or a session of a batch file) may turn each extra on or off, swap a chime or the
background, and set volumes. A setting left alone (``None``) keeps the routine's.
Sound files given this way are the user's own: they resolve as any path does
(relative to the current folder, or to the batch file), with no folder restriction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from voiceguide.errors import AudioError, PlanError
from voiceguide.text.extras import CHIME_WORDS, Background, ChimeSound, Countdown, Extras, Pacer
from voiceguide.text.routine_extras import BACKGROUND_WORDS

VolumeOf = Literal["countdown", "pacer", "background", "chime"]
VOLUMES: tuple[VolumeOf, ...] = ("countdown", "pacer", "background", "chime")
Volumes = tuple[tuple[VolumeOf, float], ...]


@dataclass(frozen=True)
class ExtrasChange:
    """What the command line asks of the extras; ``None`` keeps the routine's choice."""

    countdown: bool | None = None
    countdown_from: int | None = None  # implies countdown on
    pacer: bool | None = None
    breaths: float | None = None  # a minute; implies pacer on
    background: Literal["noise", "none"] | Path | None = None
    start_chime: ChimeSound | None = None
    end_chime: ChimeSound | None = None
    volumes: Volumes = ()  # (extra, dB relative to the voice)
    #: Volumes for those of the extras that are on; an extra that is off ignores its
    #: (a batch file's defaults:, which may not suit every session's routine).
    fallback_volumes: Volumes = ()
    #: Where the change was asked for, as errors name it: ``options`` of the command
    #: line (``--start-chime``), or ``keys`` of a batch file (``start_chime:``).
    said_as: Literal["options", "keys"] = "options"

    def __post_init__(self) -> None:
        if self.countdown is False and self.countdown_from is not None:
            raise ValueError(
                f"{self.name('countdown', False)} and {self.name('countdown_from')} "
                "contradict each other"
            )
        if self.pacer is False and self.breaths is not None:
            raise ValueError(
                f"{self.name('pacer', False)} and {self.name('breaths')} contradict each other"
            )

    def name(self, setting: str, value: bool | None = None) -> str:
        """How the user says ``setting`` (switched on or off by ``value``): ``--pacer``,
        ``--no-pacer``, ``--start-chime`` on the command line; ``pacer: true``,
        ``pacer: false``, ``start_chime`` in a batch file."""
        if self.said_as == "keys":
            return setting if value is None else f"{setting}: {str(value).lower()}"
        option = "--" + setting.replace("_", "-")
        return option.replace("--", "--no-", 1) if value is False else option

    def given(self, setting: str, value: object) -> str:
        """``setting`` as the user gave it with ``value``: ``--start-chime bell.wav`` or
        ``start_chime: bell.wav``; a volume, ``--volume pacer=-24`` or
        ``volume: {pacer: -24}``."""
        if setting == "volume" and isinstance(value, tuple):
            extra, db = value
            if self.said_as == "keys":
                return f"volume: {{{extra}: {db:g}}}"
            return f"--volume {extra}={db:g}"
        separator = ": " if self.said_as == "keys" else " "
        return f"{self.name(setting)}{separator}{value}"


#: The words the command line and a batch file take for the background instead of a
#: sound file (for a chime, those of a routine file: CHIME_WORDS).
BED_WORDS = (*BACKGROUND_WORDS, "none")


def sound_choice(value: str | None, words: tuple[str, ...], folder: Path = Path()) -> Any:
    """A chime or background as the user named it: ``None`` (left alone), one of
    ``words``, or a sound file (relative to ``folder``)."""
    return value if value is None or value in words else folder / value


_Extra = TypeVar("_Extra", Countdown, Pacer)


def _switched(
    current: _Extra | None, switch: bool | None, default: type[_Extra], **setting: Any
) -> _Extra | None:
    """``current`` turned off (``switch`` False), or on (``switch`` True or a ``setting``
    given) with the ``setting`` applied; left alone otherwise."""
    given = {name: value for name, value in setting.items() if value is not None}
    if switch is False:
        return None
    if switch or given:
        return replace(current or default(), **given)
    return current


def combine(extras: Extras, change: ExtrasChange) -> Extras:
    """The routine's ``extras`` with the command line's ``change`` applied."""
    countdown = _switched(
        extras.countdown, change.countdown, Countdown, start=change.countdown_from
    )
    pacer = _switched(extras.pacer, change.pacer, Pacer, breaths_per_minute=change.breaths)

    background = extras.background
    if change.background == "none":
        background = None
    elif change.background == "noise":
        background = replace(background or Background(), source=None)
    elif isinstance(change.background, Path):
        source = _user_file(change.background, change.given("background", change.background))
        background = replace(background or Background(), source=source)

    start_chime = _chime(extras.start_chime, change, "start_chime")
    end_chime = _chime(extras.end_chime, change, "end_chime")
    chime_volume = extras.chime_volume
    chimes_on = start_chime != "off" or end_chime != "off"
    on = {"chime": chimes_on, "countdown": countdown, "pacer": pacer, "background": background}
    wanted = [v for v in change.fallback_volumes if on[v[0]]] + list(change.volumes)
    for name, volume in wanted:
        if name == "chime" and chimes_on:
            chime_volume = volume
        elif name == "countdown" and countdown is not None:
            countdown = replace(countdown, volume=volume)
        elif name == "pacer" and pacer is not None:
            pacer = replace(pacer, volume=volume)
        elif name == "background" and background is not None:
            background = replace(background, volume=volume)
        else:
            how = (
                f"{change.name('start_chime')} or {change.name('end_chime')}"
                if name == "chime"
                else change.name(name, True)
            )
            raise PlanError(
                f"{change.given('volume', (name, volume))}: the {name} is off in this session; "
                f"turn it on with {how} (or in the routine's extras:)"
            )

    return Extras(countdown, pacer, background, start_chime, end_chime, chime_volume)


def _chime(current: ChimeSound, change: ExtrasChange, setting: str) -> ChimeSound:
    wanted: ChimeSound | None = getattr(change, setting)
    if wanted is None:
        return current
    if isinstance(wanted, Path):
        if str(wanted) in CHIME_WORDS:  # ./off: a file named like a word, as it was written
            return _user_file(wanted, change.given(setting, f"./{wanted}"))
        # A bare word that is no file may have been meant as one: say which words there are.
        hint = "" if wanted.suffix else f" (for no chime: {change.given(setting, 'off')})"
        return _user_file(wanted, change.given(setting, wanted), hint)
    return wanted


def _user_file(path: Path, given: str, hint: str = "") -> Path:
    """``path``, absolute, if it is a file; ``given`` says where the user named it."""
    if not path.is_file():
        what = "is a folder, not a sound file" if path.is_dir() else f"does not exist{hint}"
        raise AudioError(f"{given}: {what}")
    return path.absolute()
