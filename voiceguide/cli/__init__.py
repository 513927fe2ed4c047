"""The command line: a thin layer that parses input, calls the library, reports.

Exit codes: 0 success, 1 a problem the user can fix (one line on stderr),
2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click

from voiceguide import interrupts
from voiceguide.build.batch import Job, build_batch, jobs_for
from voiceguide.build.batchfile import load_batch
from voiceguide.build.session import BuildResult, SessionOptions, Written, build_session, prepare
from voiceguide.encode.export import FORMATS
from voiceguide.encode.info import describe
from voiceguide.encode.loudness import DEFAULT_TARGET, MAX_TARGET, MIN_TARGET, TRUE_PEAK_LIMIT
from voiceguide.errors import DurationError, VoiceguideError
from voiceguide.plan.layers import describe as describe_layers
from voiceguide.plan.timeline import Timeline, format_script
from voiceguide.speech import DEFAULT_RATE, ENGINES, get_engine
from voiceguide.speech.cache import ClipCache
from voiceguide.speech.piper_engine import INSTALL_HINT as PIPER_INSTALL
from voiceguide.text.durations import EXAMPLES, format_compact, parse_duration
from voiceguide.text.extras_change import (
    BED_WORDS,
    VOLUMES,
    ExtrasChange,
    VolumeOf,
    Volumes,
    sound_choice,
)
from voiceguide.text.routine import builtin_names, builtin_text, load_routine
from voiceguide.text.routine_extras import (
    CHIME_WORDS,
    MAX_BREATHS,
    MAX_COUNTDOWN,
    MAX_VOLUME,
    MIN_BREATHS,
    MIN_VOLUME,
)
from voiceguide.text.wording import TEMPLATES, export_templates
from voiceguide.units import clock, to_samples


class BuildInterruptedError(Exception):
    """Ctrl-C or SIGTERM, carried past click's own handling."""


class VoiceguideGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise BuildInterruptedError from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as e:
            if e.ctx is not None and type(e).__name__ == "NoArgsIsHelpError":
                click.echo(e.ctx.get_help())
                _exit(0)
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            _fail(f"{e.format_message()}{hint}", 2)
        except VoiceguideError as e:
            _fail(str(e), 1)
        except click.ClickException as e:
            _fail(e.format_message(), e.exit_code)
        except (BuildInterruptedError, click.Abort, KeyboardInterrupt):
            click.echo(interrupts.MESSAGE, err=True)
            _exit(interrupts.EXIT_CODE)
        _exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    _exit(code)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


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


class ProgressReport:
    """Shows the library's progress callbacks as progress bars on stderr."""

    LABELS: ClassVar[dict[str, str]] = {
        "speech": "Speaking",
        "loudness": "Measuring loudness",
        "encoding": "Encoding",
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage or done < self.done:  # a new stage, or another pass
            self.close()
            self.stage = stage
            self.done = 0
            self.bar = click.progressbar(
                length=max(total, 1), label=self.LABELS.get(stage, stage), file=sys.stderr
            ).__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


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


def _engine_name(engine: str | None, voice_model: Path | None) -> str:
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


def _options(routine: str, hold: float | None, templates: Path | None, engine: str | None,
             voice_model: Path | None, voice: str | None, rate: int, no_cache: bool,
             audio_format: str | None, countdown: bool | None, countdown_from: int | None,
             pacer: bool | None, breaths: float | None, background: str | None,
             start_chime: str | None, end_chime: str | None,
             volumes: Volumes, **extra: Any) -> SessionOptions:  # fmt: skip
    change = _extras_change(countdown, countdown_from, pacer, breaths, background, start_chime,
                            end_chime, volumes)  # fmt: skip
    return SessionOptions(
        routine=routine, hold=hold, templates=templates, engine=_engine_name(engine, voice_model),
        voice_model=voice_model, voice=voice, rate=rate, use_cache=not no_cache,
        format=audio_format and audio_format.lower(), extras_change=change, **extra,
    )  # fmt: skip


_ALL_BITRATES = sorted({b for f in FORMATS.values() for b in f.bitrates}, key=lambda b: int(b[:-1]))


def _bitrate(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
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


@click.group(cls=VoiceguideGroup)
@click.version_option(package_name="voiceguide")
def cli() -> None:
    """Turn a stretching routine into a voice-guided, exactly timed MP3 session."""


def jobs_option(func: Any, single: bool = True) -> Any:
    """``--jobs``; ``single``: the command may build a single session, which the
    option then runs in that many processes."""
    one = (
        " For a single session: how many processes it runs side by side (default 1; 2 is "
        "faster on two cores and takes about 60 MB more resident memory, 20 to 30 MB of it "
        "not shared)."
    )
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        help="Sessions built at once (default: one per CPU core)." + (one if single else ""),
    )(func)


@cli.command()
@functools.partial(session_options, many=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file (.mp3, .m4a, .ogg, .flac or .wav); for several sessions, a folder. "
    "Default: ROUTINE-HOLD-per-side.mp3",
)
@click.option(
    "--bitrate",
    callback=_bitrate,
    help="Bitrate of a lossy format, such as 128k. Default: 128k (mp3, m4a), 96k (ogg).",
)
@click.option(
    "--loudness",
    type=click.FloatRange(MIN_TARGET, MAX_TARGET),
    default=DEFAULT_TARGET,
    show_default=True,
    metavar="LUFS",
    help="Integrated loudness of the whole session (EBU R128).",
)
@click.option(
    "--transcript",
    type=click.Path(path_type=Path),
    help="Also write every spoken line at its time: .vtt, .lrc or .json.",
)
@jobs_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def build(routine: tuple[str, ...], hold: tuple[float, ...], output: Path | None,
          bitrate: str | None, loudness: float, transcript: Path | None,
          jobs: int | None, quiet: bool, **kwargs: Any) -> None:  # fmt: skip
    """Build a session and write it (MP3 unless the output or --format says otherwise).

    ROUTINE is a built-in routine's name (see: voiceguide routines) or the path
    to a routine .yaml file; it defaults to hamstring. Several routines, or
    several --hold values, build a session for each (routine, hold) pair, in
    parallel; -o is then a folder.
    """
    if len(routine) > 1 or len(hold) > 1:
        if transcript is not None:
            raise click.UsageError("--transcript writes one session's transcript, not several")
        base = _options("hamstring", None, bitrate=bitrate, loudness=loudness, **kwargs)
        holds = hold or (None,)
        _build_batch(jobs_for(routine or ("hamstring",), holds, base, output), jobs, quiet)
        return
    kwargs.update(routine=routine[0] if routine else "hamstring", hold=hold[0] if hold else None)
    progress = ProgressReport(enabled=not quiet)
    options = _options(bitrate=bitrate, loudness=loudness, **kwargs)
    try:
        result = build_session(
            options, output, progress=progress, transcript=transcript, jobs=jobs or 1
        )
    finally:
        progress.close()
    interrupts.ignore()  # the file is written: report it whole
    timeline = result.timeline
    size = result.path.stat().st_size / 1e6
    click.echo(
        f"Wrote {result.path} ({clock(timeline.length)}, {size:.1f} MB) "
        f"in {result.seconds_taken:.1f} s"
    )
    for held in timeline.holds:
        click.echo(
            f"  {held.side} hold: {held.length / timeline.sample_rate:.3f} s, "
            f"from {clock(held.start)} to {clock(held.end)}"
        )
    if result.written is not None:
        _report_written(result.written)
    if result.transcript is not None:
        click.echo(f"  transcript: {result.transcript}")
    _report_notes(timeline)


def _report_written(written: Written) -> None:
    final, target = written.levelled.final, written.levelled.target
    peak = f"true peak {final.true_peak:.1f} dBTP (at most {TRUE_PEAK_LIMIT:g})"
    if written.levelled.on_voice:
        click.echo(
            f"  loudness: the voice levelled to {target:g} LUFS; with its layers the whole "
            f"session measures {final.integrated:.1f} LUFS, {peak}"
        )
    else:
        click.echo(f"  loudness: {final.integrated:.1f} LUFS (target {target:g}), {peak}")
    if written.format.chapters:
        click.echo(f"  chapters: {', '.join(c.title for c in written.chapters)}")
    for note in written.levelled.notes:
        click.echo(note, err=True)


@cli.command("batch")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the sessions. Default: the batch file's folder.",
)
@click.option("--no-cache", is_flag=True, help="Synthesise every clip again, ignoring the cache.")
@functools.partial(jobs_option, single=False)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def batch(file: Path, output: Path | None, no_cache: bool, jobs: int | None, quiet: bool) -> None:
    """Build every session listed in a batch FILE (YAML), in parallel.

    \b
    defaults:            # optional: for every session
      routine: hamstring
      rate: 140
    sessions:
      - {output: anna.mp3, hold: 3m}
      - {output: ben.mp3, hold: 90s, routine: my-routine.yaml, voice: gmw/en-GB-x-rp}
      - {output: carla.mp3, countdown_from: 5, pacer: true, volume: {pacer: -24}}

    Each session may set routine, hold, output, templates, engine, voice,
    voice_model, rate, bitrate and loudness, and change its routine's extras:
    countdown, countdown_from, pacer, breaths, background, start_chime,
    end_chime and volume, as build's options of those names do. Paths are
    relative to the batch file.
    """
    loaded = load_batch(file, output)
    if no_cache:
        loaded = [replace(j, options=replace(j.options, use_cache=False)) for j in loaded]
    _build_batch(loaded, jobs, quiet)


def _build_batch(jobs: list[Job], workers: int | None, quiet: bool) -> None:
    progress = ProgressReport(enabled=not quiet)
    written: list[BuildResult] = []
    try:
        result = build_batch(jobs, progress, workers, on_written=written.append)
    except KeyboardInterrupt:
        progress.close()
        kept = f"interrupted; kept the {len(written)} of {len(jobs)} sessions already written"
        click.echo(kept if written else interrupts.MESSAGE, err=True)
        raise click.exceptions.Exit(interrupts.EXIT_CODE) from None
    finally:
        progress.close()
    interrupts.ignore()  # the files are written: report them whole
    click.echo(f"Wrote {len(result.sessions)} sessions in {result.seconds_taken:.1f} s")
    notes: dict[str, None] = {}
    for session in result.sessions:
        timeline = session.timeline
        size = session.path.stat().st_size / 1e6
        holds = ", ".join(f"{h.length / timeline.sample_rate:.3f} s" for h in timeline.holds)
        click.echo(f"  {session.path} ({clock(timeline.length)}, {size:.1f} MB), holds {holds}")
        if timeline.dropped:
            notes[
                f"note: {session.path}: {len(timeline.dropped)} cue(s) did not fit into the "
                "holds and were left out; see: voiceguide script"
            ] = None
        notes.update(dict.fromkeys(timeline.notes))
    for note in notes:
        click.echo(note, err=True)


def _report_notes(timeline: Timeline) -> None:
    if timeline.dropped:
        click.echo(
            f"note: {len(timeline.dropped)} cue(s) did not fit into the holds and were left out; "
            "see: voiceguide script",
            err=True,
        )
    for note in timeline.notes:
        click.echo(note, err=True)


@cli.command()
@session_options
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
def script(as_json: bool, **kwargs: Any) -> None:
    """Print the timed script of a session; writes no audio.

    ROUTINE is as for build.

    Speech is synthesised (or taken from the cache) to measure each line, so
    the times are exactly those of the built session.
    """
    prepared = prepare(_options(**kwargs))
    timeline = prepared.timeline
    if as_json:
        click.echo(timeline.to_json())
        return
    click.echo(format_script(timeline))
    layers = describe_layers(timeline, prepared.extras)
    if layers:
        click.echo("\nUnder the voice during each hold:")
        click.echo("\n".join(f"  - {line}" for line in layers))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def info(file: Path) -> None:
    """Print a session file's tags, chapters and measured loudness."""
    found = describe(file)
    rate = f", {found.bit_rate // 1000} kb/s" if found.bit_rate else ""
    click.echo(f"{found.path}: {found.codec} in {found.container}, {found.sample_rate} Hz, "
               f"{found.channels} channel(s){rate}, {found.duration:.3f} s")  # fmt: skip
    for key, value in found.tags.items():
        click.echo(f"  {key}: {value}")
    loud = found.loudness
    click.echo(
        f"Loudness: {loud.integrated:.1f} LUFS integrated, true peak {loud.true_peak:.1f} dBTP, "
        f"range {loud.loudness_range:.1f} LU"
    )
    click.echo(f"Chapters: {len(found.chapters) or 'none'}")
    for chapter in found.chapters:
        click.echo(
            f"  {clock(to_samples(chapter.start)):>9} - {clock(to_samples(chapter.end)):>9}"
            f"  {chapter.title}"
        )


@cli.group(invoke_without_command=True)
@click.pass_context
def routines(ctx: click.Context) -> None:
    """List the built-in routines."""
    if ctx.invoked_subcommand is None:
        for name in builtin_names():
            routine = load_routine(name)
            click.echo(
                f"{name:<12} {routine.title} (default hold "
                f"{format_compact(routine.hold.default)} per side, {len(routine.steps)} steps, "
                f"{len(routine.reminders)} reminders)"
            )


@routines.command("show")
@click.argument("name")
def routines_show(name: str) -> None:
    """Print a built-in routine's YAML, to copy and edit:

    voiceguide routines show hamstring > my-routine.yaml
    """
    click.echo(builtin_text(name), nl=False)


@cli.command()
@engine_options
def voices(engine: str | None, voice_model: Path | None) -> None:
    """List the speech voices of an engine (pyttsx3 unless --engine piper)."""
    for voice in get_engine(_engine_name(engine, voice_model), model=voice_model).voices():
        languages = ", ".join(voice.languages)
        click.echo(f"{voice.id:<28} {voice.name}" + (f" ({languages})" if languages else ""))


@cli.group(invoke_without_command=True)
@click.pass_context
def templates(ctx: click.Context) -> None:
    """List the cue templates."""
    if ctx.invoked_subcommand is None:
        for name, what in TEMPLATES.items():
            click.echo(f"{name + '.j2':<18} {what}")


@templates.command("export")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite templates already in FOLDER.")
def templates_export(folder: Path, force: bool) -> None:
    """Write the built-in cue templates into FOLDER, ready to edit."""
    written = export_templates(folder, overwrite=force)
    click.echo(f"Wrote {len(written)} templates to {folder}")
    click.echo("Edit them (delete any you keep as they are), then build with:")
    click.echo(f"  voiceguide build --templates {folder}")


@cli.group()
def cache() -> None:
    """Show or clear the speech cache."""


@cache.command("info")
def cache_info() -> None:
    """Where the speech cache is, and how big."""
    info = ClipCache().info()
    click.echo(f"{info.folder}: {info.clips} clips, {info.bytes / 1e6:.1f} MB")


@cache.command("clear")
def cache_clear() -> None:
    """Delete every cached speech clip."""
    click.echo(f"Removed {ClipCache().clear()} clips")


def main() -> None:
    interrupts.install()
    cli(prog_name="voiceguide")
