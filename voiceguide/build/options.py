"""Each session option, declared once: its key, kind, range, default, label and help.

Everything else is derived from :data:`SESSION_OPTIONS`:

- the command line's options of ``build`` and ``script`` (and ``batch``'s
  ``--no-cache``, ``voices``' ``--engine`` and ``--voice-model``), in
  :mod:`voiceguide.cli.options`;
- the keys of a batch file, their checks and their error messages, in
  :mod:`voiceguide.build.keys` (which :mod:`voiceguide.build.batchfile` uses);
- and anything else that offers them, such as a programme file or a form::

      rate = by_key("rate")
      rate.label, rate.minimum, rate.maximum, rate.default, rate.unit
      # 'Speaking rate', 80, 300, 150, 'words a minute'
      [o.key for o in SESSION_OPTIONS if o.in_files]  # == FILE_KEYS
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from voiceguide.build.session import SessionOptions
from voiceguide.encode.export import BITRATES, FORMATS
from voiceguide.encode.levelling import MAX_TARGET, MIN_TARGET
from voiceguide.speech import ENGINES
from voiceguide.speech.piper_engine import INSTALL_HINT as PIPER_INSTALL
from voiceguide.text.durations import EXAMPLES
from voiceguide.text.extras import CHIME_WORDS, Pacer
from voiceguide.text.extras_change import BED_WORDS, VOLUMES
from voiceguide.text.routine_extras import (
    MAX_BREATHS,
    MAX_COUNTDOWN,
    MAX_VOLUME,
    MIN_BREATHS,
    MIN_VOLUME,
)

#: How an option's value is written and checked.
Kind = Literal[
    "routine",  # a built-in routine's name, or a routine file (the command line's ROUTINE)
    "duration",  # seconds, written as 5m, 90s, 1m30s, 2:30 or 300
    "folder",  # the path of a folder
    "file",  # the path of a file
    "text",  # any text
    "choice",  # one of ``choices``
    "int",  # a whole number from ``minimum`` to ``maximum``
    "number",  # a number from ``minimum`` to ``maximum``
    "switch",  # on or off (--x / --no-x; true / false); None keeps the routine's
    "sound",  # one of ``choices`` (words such as off), or a sound file
    "volumes",  # each of ``choices`` (the extras) to a level in dB, ``minimum`` to ``maximum``
    "bitrate",  # such as 128k
    "flag",  # on, or not given (the command line only)
    "sides",  # some of the routine's sides: left,right on the command line; a list in a file
]

#: The commands whose options are derived here.
Command = Literal["build", "script", "batch", "voices"]

_SESSION: tuple[Command, ...] = ("build", "script")
_DEFAULTS = SessionOptions()


@dataclass(frozen=True)
class SessionOption:
    """One option of a session, as the command line, a file and a form offer it."""

    key: str  # its key in a batch (or programme) file, and in a form
    kind: Kind
    label: str  # a short name for a form's field
    help: str  # the command line's help, one or two sentences
    flags: tuple[str, ...] = ()  # click's declarations, such as ("-o", "--output")
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None  # None: the routine's choice, or the format's
    choices: tuple[str, ...] = ()  # a choice's values; a sound's words; the extras of volumes
    metavar: str | None = None  # what the help shows for the value
    unit: str = ""  # of a number: "words a minute", "LUFS", "dB"
    commands: tuple[Command, ...] = _SESSION  # the commands that take it
    in_files: bool = True  # a key of batch files (and programmes); False: command line only
    implies: str | None = None  # the switch this setting turns on (countdown_from: countdown)
    off: str | None = None  # of a sound: the word YAML's bare off (false) stands for
    case_sensitive: bool = True  # of a choice
    several: str = ""  # more help where it may be repeated, one session each (build's --hold)

    @property
    def param(self) -> str:
        """The name the command line's value goes by (``--format``: ``audio_format``)."""
        return next((flag for flag in self.flags if flag.isidentifier()), self.key)


def _listed(words: Iterable[str]) -> str:
    """``a, b or c``."""
    *rest, last = words
    return f"{', '.join(rest)} or {last}" if rest else last


def _sound(key: str, label: str, help: str, words: tuple[str, ...], off: str) -> SessionOption:
    return SessionOption(key, "sound", label, help, (f"--{key.replace('_', '-')}",),
                         choices=words, metavar="|".join((*words, "FILE")), off=off)  # fmt: skip


# The command line lists them in this order.
SESSION_OPTIONS: tuple[SessionOption, ...] = (
    SessionOption(
        "routine", "routine", "Routine",
        "A built-in routine's or programme's name (see: voiceguide routines) or the path to a "
        "routine or programme .yaml file.",
        default=_DEFAULTS.routine,
    ),
    SessionOption(
        "hold", "duration", "Hold per side",
        f"Hold per side ({EXAMPLES}). Default: the routine's.", ("--hold",),
        unit="seconds", several=" Repeat it for several sessions.",
    ),
    SessionOption(
        "templates", "folder", "Cue templates",
        "Folder of edited cue templates (any subset of them).", ("--templates",),
    ),
    SessionOption(
        "engine", "choice", "Speech engine",
        f"Speech engine: pyttsx3 (the default) or piper, a natural voice ({PIPER_INSTALL}). "
        "--voice-model implies piper.",
        ("--engine",), choices=tuple(ENGINES), commands=(*_SESSION, "voices"),
    ),
    SessionOption(
        "voice_model", "file", "Piper voice model",
        "A Piper voice model (.onnx, with its .onnx.json beside it). Default: the joe voice.",
        ("--voice-model",), commands=(*_SESSION, "voices"),
    ),
    SessionOption(
        "sides", "sides", "Sides",
        "Only these of the routine's sides, such as --sides left. Default: all.", ("--sides",),
        metavar="SIDE[,SIDE]",
    ),
    SessionOption(
        "lexicon", "file", "Pronunciations",
        "A YAML file of pronunciations (word: how to say it), over the routine's own.",
        ("--lexicon",),
    ),
    SessionOption(
        "voice", "text", "Voice", "Speech voice id or name (see: voiceguide voices).",
        ("--voice",),
    ),
    SessionOption(
        "rate", "int", "Speaking rate", "Speaking rate in words per minute.", ("--rate",),
        minimum=80, maximum=300, default=_DEFAULTS.rate, unit="words a minute",
    ),
    SessionOption(
        "no_cache", "flag", "Speak every line again",
        "Synthesise every clip again, ignoring the cache.", ("--no-cache",),
        commands=(*_SESSION, "batch"), in_files=False,
    ),
    SessionOption(
        "format", "choice", "Audio format",
        "Audio format. Default: from the output's extension, else mp3.",
        ("--format", "audio_format"), choices=tuple(FORMATS), in_files=False,
        case_sensitive=False,
    ),
    SessionOption(
        "countdown", "switch", "Countdown",
        "Count the last seconds of each hold aloud (three, two, one), or not. "
        "Default: as the routine says.",
        ("--countdown/--no-countdown",),
    ),
    SessionOption(
        "countdown_from", "int", "Countdown from",
        f"The countdown's first number, 1 to {MAX_COUNTDOWN}; implies --countdown.",
        ("--countdown-from",), minimum=1, maximum=MAX_COUNTDOWN, metavar="N",
        implies="countdown",
    ),
    SessionOption(
        "pacer", "switch", "Breath pacer",
        "Soft tones to breathe in and out by during each hold, or not.", ("--pacer/--no-pacer",),
    ),
    SessionOption(
        "breaths", "number", "Breaths a minute",
        f"The pacer's breaths a minute, {MIN_BREATHS:g} to {MAX_BREATHS:g} "
        f"(default {Pacer().breaths_per_minute:g}); implies --pacer.",
        ("--breaths",), minimum=MIN_BREATHS, maximum=MAX_BREATHS, metavar="N",
        unit="a minute", implies="pacer",
    ),
    _sound("background", "Background",
           "A bed under each hold: generated soft noise, none, or your sound file.",
           BED_WORDS, "none"),
    _sound("start_chime", "Start chime",
           "The sound that starts each hold: the default chime, none, or your sound file.",
           CHIME_WORDS, "off"),
    _sound("end_chime", "End chime",
           "The sound that ends each hold: the default chime, none, or your sound file.",
           CHIME_WORDS, "off"),
    SessionOption(
        "volume", "volumes", "Volumes",
        "The volume of countdown, pacer or background in dB relative to the voice, or of the "
        f"chimes relative to their own level, {MIN_VOLUME:g} to +{MAX_VOLUME:g} (such as "
        "pacer=-24 or chime=-6); repeat it for each.",
        ("--volume", "volumes"), minimum=MIN_VOLUME, maximum=MAX_VOLUME, choices=VOLUMES,
        metavar="EXTRA=DB", unit="dB",
    ),
    SessionOption(
        "title", "text", "Title",
        "The file's title tag, such as a client's name. Default: the routine's title.",
        ("--title",), commands=("build",),
    ),
    SessionOption(
        "output", "file", "Output file",
        f"Output file ({_listed(f.extension for f in FORMATS.values())}); for several "
        "sessions, a folder. Default: ROUTINE-HOLD-per-side.mp3",
        ("-o", "--output"), commands=("build",),
    ),
    SessionOption(
        "bitrate", "bitrate", "Bitrate",
        "Bitrate of a lossy format, such as 128k. Default: 128k (mp3, m4a), 96k (ogg).",
        ("--bitrate",), choices=BITRATES, commands=("build",),
    ),
    SessionOption(
        "loudness", "number", "Loudness",
        "Integrated loudness of the whole session as heard on headphones (EBU R128; the mono "
        "session measured as dual mono, so -16 is -19 LUFS as a single channel).",
        ("--loudness",), minimum=MIN_TARGET, maximum=MAX_TARGET, default=_DEFAULTS.loudness,
        metavar="LUFS", unit="LUFS", commands=("build",),
    ),
)  # fmt: skip

_BY_KEY = {option.key: option for option in SESSION_OPTIONS}

#: The keys a file may set, in the order of :data:`SESSION_OPTIONS`.
FILE_KEYS: tuple[str, ...] = tuple(o.key for o in SESSION_OPTIONS if o.in_files)

#: Each extra's switch and the setting that implies it: {"countdown": "countdown_from", ...}.
IMPLIED: dict[str, str] = {o.implies: o.key for o in SESSION_OPTIONS if o.implies}


def by_key(key: str) -> SessionOption:
    """The option of ``key`` (a KeyError if there is none)."""
    return _BY_KEY[key]


def engine_name(engine: str | None, voice_model: Path | None) -> str:
    """The engine asked for: a voice model implies piper; else pyttsx3."""
    return engine or ("piper" if voice_model is not None else _DEFAULTS.engine)
