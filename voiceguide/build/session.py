"""Build a session: routine -> cue sheet -> speech -> timeline -> audio -> file.

This is the library's front door; the CLI is a thin layer over these functions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydub import AudioSegment

from voiceguide.encode.export import (
    Encoding,
    Format,
    Tags,
    check_output_path,
    choose_bitrate,
    choose_format,
    find_tool,
    write_atomically,
)
from voiceguide.encode.levelling import (
    DEFAULT_TARGET,
    Levelled,
    Shortcut,
    Voice,
    level_and_encode,
)
from voiceguide.encode.m4a import plan_cut
from voiceguide.encode.mp3 import splice
from voiceguide.encode.mp3.split import plan_split
from voiceguide.errors import PlanError
from voiceguide.plan.chapters import Chapter, chapters
from voiceguide.plan.layers import LayerPlan, plan_layers
from voiceguide.plan.planner import END_CHIME, START_CHIME, Pacing, plan
from voiceguide.plan.timeline import Timeline
from voiceguide.plan.transcript import check_transcript_path, write_transcript
from voiceguide.progress import Progress as Progress  # callers type their callbacks with it
from voiceguide.progress import no_progress
from voiceguide.sound.audio import load_chime, load_chime_file, samples
from voiceguide.sound.render import Layers
from voiceguide.speech import DEFAULT_RATE, SpeechEngine, get_engine
from voiceguide.speech.cache import ClipCache, models_folder
from voiceguide.speech.clips import Clips, clip_samples, speak
from voiceguide.text.cues import CueSheet, compose
from voiceguide.text.durations import duration_words, format_compact
from voiceguide.text.extras import ChimeSound, Extras
from voiceguide.text.extras_change import ExtrasChange, combine
from voiceguide.text.programme import LoadedProgramme, Programme, load_content
from voiceguide.text.programme_cues import compose_programme
from voiceguide.text.pronounce import Lexicon, load_lexicon
from voiceguide.text.routine import Routine
from voiceguide.text.wording import Wording

if TYPE_CHECKING:
    from voiceguide.sound.mix import LayerSounds

Content = Routine | Programme  # what a session is made of


@dataclass(frozen=True)
class SessionOptions:
    #: A built-in routine's or programme's name, a routine or programme file, or a routine or
    #: programme already loaded (as the studio gives its page's).
    routine: str | Path | Routine | LoadedProgramme = "hamstring"
    hold: float | None = None  # seconds per side; None: the routine's default
    templates: Path | None = None
    engine: str = "pyttsx3"
    voice: str | None = None
    voice_model: Path | None = None  # a Piper voice (.onnx) for engine "piper"; None: its default
    rate: int = DEFAULT_RATE
    use_cache: bool = True
    format: str | None = None  # mp3, m4a, ogg, flac or wav; None: from the output's name
    bitrate: str | None = None  # None: the format's default
    loudness: float = DEFAULT_TARGET  # LUFS, integrated
    pacing: Pacing = field(default_factory=Pacing)
    extras: Extras | None = None  # None: the routine's (see routine_extras.py)
    #: The command line's changes to those extras.
    extras_change: ExtrasChange = field(default_factory=ExtrasChange)
    lexicon: Path | None = None  # a file of pronunciations, over the routine's own
    sides: tuple[str, ...] | None = None  # the routine's sides to do; None: all
    title: str | None = None  # the file's title tag; None: the routine's title and hold


@dataclass(frozen=True)
class Prepared:
    """A planned session with the audio for every event."""

    routine: Content
    timeline: Timeline
    speech: Mapping[str, AudioSegment]  # read-only: voiceguide.speech.clips.Clips, or a dict
    chimes: dict[str, AudioSegment]  # only the chimes that sound
    extras: Extras = field(default_factory=Extras)  # what the session has, all said and done
    sounds: LayerSounds | None = None  # the layers' sounds; None when no layer is on
    notes: tuple[str, ...] = ()  # such as a speech cache that could not be written

    def layers(self) -> tuple[LayerPlan, Layers | None]:
        """The session's layer plan and the mixer that renders it, or None when no
        layer sounds."""
        plan = plan_layers(self.timeline, self.extras)
        if not plan or self.sounds is None:
            return plan, None
        from voiceguide.sound.mix import Mixer  # numpy: imported only when layers are on

        return plan, Mixer(plan, self.sounds)


@dataclass(frozen=True)
class Written:
    """What :func:`write_session` wrote: the format, its chapters, what it measures."""

    format: Format
    levelled: Levelled
    chapters: tuple[Chapter, ...]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    timeline: Timeline
    seconds_taken: float
    written: Written
    transcript: Path | None = None
    notes: tuple[str, ...] = ()  # such as a speech cache that could not be written


def session_extras(options: SessionOptions, routine: Content) -> Extras:
    """The extras of a session: ``options.extras`` (else the routine's), with the
    command line's changes applied."""
    extras = options.extras if options.extras is not None else routine.extras.to_extras()
    return combine(extras, options.extras_change)


def cue_sheet(options: SessionOptions) -> tuple[Content, CueSheet]:
    """The routine or programme ``options`` name, and its composed lines."""
    given = options.routine
    found = given if isinstance(given, Routine | LoadedProgramme) else load_content(given)
    content = found.programme if isinstance(found, LoadedProgramme) else found
    wording = Wording(options.templates, allow_markup=content.allow_markup)
    extras = session_extras(options, content)
    if isinstance(found, LoadedProgramme):
        if options.sides is not None:
            raise PlanError(
                "--sides is for one routine; in a programme, give an exercise its sides:"
            )
        sheet = compose_programme(found, wording, options.hold, extras)
    else:
        sheet = compose(found, wording, options.hold, extras, options.sides)
    if options.lexicon is not None:
        own = dict(sheet.pronounce.entries)
        sheet = replace(sheet, pronounce=Lexicon.of(own, load_lexicon(options.lexicon)))
    return content, sheet


def make_engine(options: SessionOptions) -> SpeechEngine:
    """The speech engine ``options`` ask for; with the cache, it keeps what it prepares
    for itself there (Piper: its model as optimised for this machine)."""
    keep = models_folder() if options.use_cache else None
    return get_engine(options.engine, options.voice, options.rate, options.voice_model, keep)


def speak_sheet(
    sheet: CueSheet, engine: SpeechEngine, cache: ClipCache | None, progress: Progress
) -> Clips:
    """A clip for each of the sheet's texts, spoken with its pronunciations."""
    said = {text: sheet.pronounce.apply(text) for text in sheet.texts()}
    return speak(list(said.values()), engine, cache, progress).renamed(said)


_PACKAGED = {START_CHIME: "chime-start", END_CHIME: "chime-end"}


def _chime_sounds(extras: Extras) -> dict[str, AudioSegment]:
    """The sound of each chime that sounds: the packaged one or the user's file."""
    chosen: dict[str, ChimeSound] = {START_CHIME: extras.start_chime, END_CHIME: extras.end_chime}
    chimes: dict[str, AudioSegment] = {}
    for role, sound in chosen.items():
        if sound == "default":
            chimes[role] = load_chime(_PACKAGED[role])
        elif sound != "off":
            chimes[role] = load_chime_file(sound, f"the {role.replace('chime_', '')} chime")
    return chimes


def load_chimes(extras: Extras) -> dict[str, AudioSegment]:
    """The sound of each chime that sounds: the packaged one or the user's file.

    The background's file, if any, is decoded too (once, and kept), so that a bad
    sound file fails before any work."""
    chimes = _chime_sounds(extras)
    if extras.background is not None and extras.background.source is not None:
        from voiceguide.sound.sounds import file_bed  # numpy: only when needed

        file_bed(extras.background.source)
    return chimes


def prepare(
    options: SessionOptions,
    engine: SpeechEngine | None = None,
    progress: Progress = no_progress,
    composed: tuple[Content, CueSheet] | None = None,
    fmt: Format | None = None,
) -> Prepared:
    """Compose, speak and plan a session; no file is written (but the cache may be).

    The closing silence suits ``fmt`` (default: ``options.format``, else MP3), so
    that the file decodes to exactly the planned number of samples."""
    routine, sheet = composed or cue_sheet(options)
    engine = engine or make_engine(options)
    cache = ClipCache() if options.use_cache else None
    chimes = load_chimes(session_extras(options, routine))  # a bad sound file fails first
    speech = speak_sheet(sheet, engine, cache, progress)
    prepared = plan_session(options, routine, sheet, speech, chimes, fmt)
    if cache is not None and cache.problem:
        return replace(prepared, notes=(cache.problem,))
    return prepared


def plan_session(
    options: SessionOptions,
    routine: Content,
    sheet: CueSheet,
    speech: Mapping[str, AudioSegment],
    chimes: Mapping[str, AudioSegment] | None = None,
    fmt: Format | None = None,
) -> Prepared:
    """Plan a composed session, given a clip for (at least) each of its texts.

    The closing silence suits ``fmt`` (default: ``options.format``, else MP3), so
    that the file decodes to exactly the planned number of samples."""
    fmt = fmt or choose_format(None, options.format)
    extras = session_extras(options, routine)
    texts = sheet.texts()
    clips = (
        speech.renamed({text: text for text in texts})
        if isinstance(speech, Clips)
        else {text: speech[text] for text in texts}
    )
    sounds = dict(chimes) if chimes is not None else _chime_sounds(extras)
    timeline = plan(
        sheet,
        {text: clip_samples(clips, text) for text in texts},
        {role: samples(clip) for role, clip in sounds.items()},
        options.pacing,
        fmt.exact_length,
    )
    layer_sounds = None
    if extras.pacer is not None or extras.background is not None:
        from voiceguide.sound.mix import layer_sounds as make_sounds  # numpy: only when needed

        layer_sounds = make_sounds(extras, timeline, clips, sounds)
    return Prepared(routine, timeline, clips, sounds, extras, layer_sounds)


def default_output(sheet: CueSheet, fmt: Format | None = None) -> Path:
    """ROUTINE-HOLD-per-side.mp3 for a routine; PROGRAMME.mp3 for a programme."""
    fmt = fmt or choose_format(None, None)
    if sheet.exercises:
        return Path(f"{sheet.routine}{fmt.extension}")
    return Path(f"{sheet.routine}-{format_compact(sheet.hold_seconds)}-per-side{fmt.extension}")


def build_session(
    options: SessionOptions,
    output: Path | None = None,
    engine: SpeechEngine | None = None,
    progress: Progress = no_progress,
    transcript: Path | None = None,
    jobs: int = 1,
) -> BuildResult:
    """Build a session, level its loudness and write it; returns where, and what it measures.

    ``transcript``, if given, receives every spoken line at its time (.vtt, .srt, .lrc or .json).
    ``jobs``: how many processes it may run side by side (see :func:`write_session`).
    """
    began = time.perf_counter()
    fmt = choose_format(output, options.format)
    choose_bitrate(fmt, options.bitrate)  # fail fast on a bitrate the format does not have
    engine = engine or make_engine(options)
    engine.start()  # its start-up goes on beside what follows
    routine, sheet = cue_sheet(options)  # fail fast on a bad routine or template...
    target = output or default_output(sheet, fmt)
    find_tool("ffmpeg")  # ...or a missing tool, or an output that cannot be written
    find_tool("ffprobe")
    check_output_path(target, fmt)
    if transcript is not None:
        check_transcript_path(transcript)
    prepared = prepare(options, engine, progress, (routine, sheet), fmt)
    written = write_session(prepared, target, options, progress, jobs)
    if transcript is not None:
        write_transcript(prepared.timeline, transcript)
    taken = time.perf_counter() - began
    return BuildResult(target, prepared.timeline, taken, written, transcript, prepared.notes)


def write_session(
    prepared: Prepared,
    target: Path,
    options: SessionOptions,
    progress: Progress = no_progress,
    jobs: int = 1,
) -> Written:
    """Render a prepared session, level it and encode it into ``target``, atomically,
    in the format ``target``'s name (or ``options.format``) asks for.

    ``jobs``: how many processes it may keep busy at once. With 2 or more, the gain
    search weighs islands on two threads, two encoders share the MP3 encode
    (voiceguide/encode/mp3/split.py), and the short file is measured on three threads
    (voiceguide/encode/meter.py) while it is expanded and the finished file checked (the
    file is the same, byte for byte): faster on two cores, for more memory (the
    figures are in docs/performance.md). A batch, which builds a session per core,
    gives 1."""
    fmt = choose_format(target, options.format)
    bitrate = choose_bitrate(fmt, options.bitrate)
    routine, timeline = prepared.routine, prepared.timeline
    per_side = f": {duration_words(timeline.hold_seconds)} per side"
    tags = Tags(
        title=options.title or routine.title + ("" if timeline.exercises else per_side),
        artist="voiceguide",
        album=routine.title,
    )
    marks = chapters(timeline)
    plan, layers = prepared.layers()
    # The gain is found on the voice and chimes alone, so a pacer or a bed never
    # changes how loud the voice is: the same session without them sounds the same.
    from voiceguide.sound.islands import Sounds  # numpy: not for the other commands

    store = ClipCache() if options.use_cache else None  # keeps the islands' loudness figures
    voice = Voice(timeline, Sounds(prepared.speech, prepared.chimes), layers, store)
    encoding = Encoding(fmt, bitrate, tags, marks, str(target))
    # Layers sound through the holds, where the silence is: those sessions are encoded whole.
    shortcut = mp3_shortcut(prepared, jobs) if fmt.name == "mp3" and not plan else None
    cut = plan_cut(timeline) if fmt.name == "m4a" and not plan else None  # two AAC encoders
    levelled = write_atomically(
        target,
        fmt,
        lambda temp: level_and_encode(
            voice, temp, encoding, options.loudness, progress, shortcut, jobs=jobs, cut=cut
        ),
    )
    return Written(fmt, levelled, marks)


def mp3_shortcut(prepared: Prepared, jobs: int = 1) -> Shortcut | None:
    """Encode the session with its long silences cut out, then splice them back in as
    repeated silent frames (voiceguide/encode/mp3/splice.py); None where there is nothing to cut.

    With ``jobs`` 2 or more, two encoders share that encode where the session
    allows it (voiceguide/encode/mp3/split.py)."""
    cuts = splice.plan_cuts(prepared.timeline)
    if not cuts:
        return None
    short = splice.shortened(prepared.timeline, cuts)
    return Shortcut(
        short,
        lambda source, path: splice.expand(source, cuts, path),
        splice.gaps(cuts),
        plan_split(short) if jobs >= 2 else None,
    )
