"""The commands: each parses its input, calls the library and reports."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from voiceguide import interrupts
from voiceguide.build.batch import Job, build_batch, jobs_for
from voiceguide.build.batchfile import load_batch
from voiceguide.build.options import engine_name
from voiceguide.build.schemas import MODELS, schema
from voiceguide.build.session import BuildResult, Written, build_session, prepare
from voiceguide.cli.app import cli
from voiceguide.cli.options import jobs_option, session_options, to_session_options
from voiceguide.cli.report import ProgressReport
from voiceguide.cores import available_cores
from voiceguide.encode.info import file_info
from voiceguide.encode.levelling import AS_HEARD, TRUE_PEAK_LIMIT
from voiceguide.plan.layers import layer_lines
from voiceguide.plan.timeline import Timeline, format_script
from voiceguide.speech import get_engine
from voiceguide.speech.cache import ClipCache
from voiceguide.text.durations import counted, format_compact
from voiceguide.text.programme import (
    builtin_programme_text,
    builtin_programmes,
    load_programme,
    slots,
)
from voiceguide.text.routine import builtin_names, builtin_text, load_routine
from voiceguide.text.wording import TEMPLATES, export_templates
from voiceguide.units import clock, to_samples


@cli.command()
@session_options("build")
@click.option(
    "--transcript",
    type=click.Path(path_type=Path),
    help="Also write every spoken line at its time: .vtt, .srt, .lrc or .json.",
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
        base = to_session_options(bitrate=bitrate, loudness=loudness, **kwargs)
        holds = hold or (None,)
        _build_batch(jobs_for(routine or ("hamstring",), holds, base, output), jobs, quiet)
        return
    kwargs.update(routine=routine[0] if routine else "hamstring", hold=hold[0] if hold else None)
    progress = ProgressReport(enabled=not quiet)
    options = to_session_options(bitrate=bitrate, loudness=loudness, **kwargs)
    try:
        result = build_session(
            options,
            output,
            progress=progress,
            transcript=transcript,
            jobs=jobs or available_cores(),
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
            f"  {held.name}: {held.length / timeline.sample_rate:.3f} s, "
            f"from {clock(held.start)} to {clock(held.end)}"
        )
    _report_written(result.written)
    if result.transcript is not None:
        click.echo(f"  transcript: {result.transcript}")
    _report_notes(timeline)
    for note in result.notes:
        click.echo(note, err=True)


def _report_written(written: Written) -> None:
    final, target = written.levelled.final, written.levelled.target
    peak = f"true peak {final.true_peak:.1f} dBTP (at most {TRUE_PEAK_LIMIT:g})"
    if written.levelled.on_voice:
        click.echo(
            f"  loudness: the voice levelled to {target:g} LUFS {AS_HEARD}; with its layers "
            f"the whole session measures {final.integrated:.1f} LUFS, {peak}"
        )
    else:
        click.echo(f"  loudness: {final.integrated:.1f} LUFS {AS_HEARD}, target {target:g}; {peak}")
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
@session_options("batch")
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

    Each session may set routine (a routine or a programme), hold, sides,
    output, title, templates, lexicon, engine, voice, voice_model, rate,
    bitrate and loudness, and change its routine's extras:
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
    click.echo(f"Wrote {counted(len(result.sessions), 'session')} in {result.seconds_taken:.1f} s")
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
    notes.update(dict.fromkeys(result.notes))
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
@session_options("script")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
def script(as_json: bool, **kwargs: Any) -> None:
    """Print the timed script of a session; writes no audio.

    ROUTINE is as for build.

    Speech is synthesised (or taken from the cache) to measure each line, so
    the times are exactly those of the built session.
    """
    prepared = prepare(to_session_options(**kwargs))
    for note in prepared.notes:
        click.echo(note, err=True)
    timeline = prepared.timeline
    if as_json:
        click.echo(timeline.to_json())
        return
    click.echo(format_script(timeline))
    layers = layer_lines(timeline, prepared.extras)
    if layers:
        click.echo("\nUnder the voice during each hold:")
        click.echo("\n".join(f"  - {line}" for line in layers))


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def info(file: Path) -> None:
    """Print a session file's tags, chapters and measured loudness."""
    found = file_info(file)
    rate = f", {found.bit_rate // 1000} kb/s" if found.bit_rate else ""
    click.echo(f"{found.path}: {found.codec} in {found.container}, {found.sample_rate} Hz, "
               f"{found.channels} channel(s){rate}, {found.duration:.3f} s")  # fmt: skip
    for key, value in found.tags.items():
        click.echo(f"  {key}: {value}")
    loud = found.loudness
    click.echo(
        f"Loudness: {loud.integrated:.1f} LUFS integrated"
        + (f" {AS_HEARD}" if found.channels == 1 else "")
        + f", true peak {loud.true_peak:.1f} dBTP, "
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
    """List the built-in routines and programmes."""
    if ctx.invoked_subcommand is None:
        for name in builtin_names():
            routine = load_routine(name)
            per = "per side" if len(routine.sides) > 1 else "" if not routine.sides else "one side"
            click.echo(
                f"{name:<14} {routine.title} (default hold "
                f"{format_compact(routine.hold.default)} {per}, {len(routine.steps)} steps, "
                f"{len(routine.reminders)} reminders)".replace(" ,", ",")
            )
        for name in builtin_programmes():
            loaded = load_programme(name)
            count = len(slots(loaded.programme, loaded.routines))
            click.echo(
                f"{name:<14} {loaded.programme.title} (a programme of {counted(count, 'exercise')})"
            )


@routines.command("show")
@click.argument("name")
def routines_show(name: str) -> None:
    """Print a built-in routine's or programme's YAML, to copy and edit:

    voiceguide routines show hamstring > my-routine.yaml
    """
    if name in builtin_programmes():
        click.echo(builtin_programme_text(name), nl=False)
    else:
        click.echo(builtin_text(name), nl=False)


@cli.command("schema")
@click.argument("kind", type=click.Choice(list(MODELS)))
def schema_command(kind: str) -> None:
    """Print the JSON Schema of a routine, programme or batch file, for editors.

    \b
    voiceguide schema routine > routine.schema.json
    then, at the top of a routine file, for the YAML language server:
    # yaml-language-server: $schema=routine.schema.json
    """
    click.echo(json.dumps(schema(kind), indent=2, ensure_ascii=False))


@cli.command()
@session_options("voices")
def voices(engine: str | None, voice_model: Path | None) -> None:
    """List the speech voices of an engine (pyttsx3 unless --engine piper)."""
    for voice in get_engine(engine_name(engine, voice_model), model=voice_model).voices():
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
    kept = f", the encoded frames of {counted(info.encoded, 'session')}" if info.encoded else ""
    if info.models:
        kept += f", {counted(info.models, 'voice model')} optimised for this CPU"
    click.echo(
        f"{info.folder}: {counted(info.clips, 'clip')}{kept}; {info.bytes / 1e6:.1f} MB in all"
    )


@cache.command("clear")
def cache_clear() -> None:
    """Empty the speech cache, clips and all.

    Only what the cache wrote is removed: other files in its folder are left.
    """
    cache = ClipCache()
    cleared = cache.clear()
    others = "file or folder" if cleared.left == 1 else "files and folders"
    left = (
        f"; left {cleared.left} other {others} in {cache.folder}, which the cache did not write"
        if cleared.left
        else ""
    )
    click.echo(f"Removed {counted(cleared.clips, 'clip')}, and all kept beside them{left}")
