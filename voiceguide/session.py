"""Build a session: routine -> cue sheet -> speech -> timeline -> audio -> file.

This is the library's front door; the CLI is a thin layer over these functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydub import AudioSegment

from voiceguide.audio import load_chime, samples
from voiceguide.cache import ClipCache
from voiceguide.clips import speak
from voiceguide.cues import CueSheet, compose
from voiceguide.durations import duration_words, format_compact
from voiceguide.export import (
    DEFAULT_BITRATE,
    Tags,
    check_output_path,
    encode_mp3,
    find_tool,
    mp3_exact_length,
)
from voiceguide.planner import END_CHIME, START_CHIME, Pacing, plan
from voiceguide.render import render
from voiceguide.routine import Routine, load_routine
from voiceguide.speech import DEFAULT_RATE, SpeechEngine, get_engine
from voiceguide.timeline import Timeline
from voiceguide.wording import Wording

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that reports nothing."""


@dataclass(frozen=True)
class SessionOptions:
    routine: str | Path = "hamstring"
    hold: float | None = None  # seconds per side; None: the routine's default
    templates: Path | None = None
    engine: str = "pyttsx3"
    voice: str | None = None
    voice_model: Path | None = None  # a Piper voice (.onnx) for engine "piper"; None: its default
    rate: int = DEFAULT_RATE
    use_cache: bool = True
    bitrate: str = DEFAULT_BITRATE
    pacing: Pacing = field(default_factory=Pacing)


@dataclass(frozen=True)
class Prepared:
    """A planned session with the audio for every event."""

    routine: Routine
    timeline: Timeline
    speech: dict[str, AudioSegment]
    chimes: dict[str, AudioSegment]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    timeline: Timeline
    seconds_taken: float


def cue_sheet(options: SessionOptions) -> tuple[Routine, CueSheet]:
    routine = load_routine(options.routine)
    wording = Wording(options.templates, allow_markup=routine.allow_markup)
    return routine, compose(routine, wording, options.hold)


def load_chimes() -> dict[str, AudioSegment]:
    return {START_CHIME: load_chime("chime-start"), END_CHIME: load_chime("chime-end")}


def prepare(
    options: SessionOptions,
    engine: SpeechEngine | None = None,
    progress: Progress = no_progress,
    composed: tuple[Routine, CueSheet] | None = None,
) -> Prepared:
    """Compose, speak and plan a session; no file is written (but the cache may be)."""
    routine, sheet = composed or cue_sheet(options)
    engine = engine or get_engine(options.engine, options.voice, options.rate, options.voice_model)
    cache = ClipCache() if options.use_cache else None
    speech = speak(sheet.texts(), engine, cache, progress)
    return plan_session(options, routine, sheet, speech)


def plan_session(
    options: SessionOptions,
    routine: Routine,
    sheet: CueSheet,
    speech: Mapping[str, AudioSegment],
    chimes: Mapping[str, AudioSegment] | None = None,
) -> Prepared:
    """Plan a composed session, given a clip for (at least) each of its texts."""
    clips = {text: speech[text] for text in sheet.texts()}
    sounds = dict(chimes) if chimes is not None else load_chimes()
    timeline = plan(
        sheet,
        {text: samples(clip) for text, clip in clips.items()},
        {role: samples(clip) for role, clip in sounds.items()},
        options.pacing,
        mp3_exact_length,
    )
    return Prepared(routine, timeline, clips, sounds)


def default_output(routine: str, hold_seconds: float) -> Path:
    return Path(f"{routine}-{format_compact(hold_seconds)}-per-side.mp3")


def build_session(
    options: SessionOptions,
    output: Path | None = None,
    engine: SpeechEngine | None = None,
    progress: Progress = no_progress,
) -> BuildResult:
    """Build a session and write it as an MP3; returns where, and its timeline."""
    began = time.perf_counter()
    routine, sheet = cue_sheet(options)  # fail fast on a bad routine or template...
    target = output or default_output(routine.name, sheet.hold_seconds)
    find_tool("ffmpeg")  # ...or a missing tool, or an output that cannot be written
    check_output_path(target)
    prepared = prepare(options, engine, progress, (routine, sheet))
    write_session(prepared, target, options.bitrate, progress)
    return BuildResult(target, prepared.timeline, time.perf_counter() - began)


def write_session(
    prepared: Prepared,
    target: Path,
    bitrate: str = DEFAULT_BITRATE,
    progress: Progress = no_progress,
) -> None:
    """Render a prepared session and encode it into ``target``, atomically."""
    routine, timeline = prepared.routine, prepared.timeline
    tags = Tags(
        title=f"{routine.title}: {duration_words(timeline.hold_seconds)} per side",
        artist="voiceguide",
        album=routine.title,
    )
    encode_mp3(
        render(timeline, prepared.speech, prepared.chimes),
        timeline.length,
        target,
        tags,
        bitrate,
        progress,
    )
