"""Many sessions at once: several holds, several routines, or a batch file
(read by :mod:`voiceguide.build.batchfile`).

A batch is built in three steps. Every session is composed first, so a bad
routine, template or output stops the batch before any work. The speech of all
sessions is then made once (lines that several sessions share are spoken once).
Last, the sessions are rendered and encoded in parallel, one ffmpeg per core,
longest first. Each file is written atomically; when one session fails, the
others stop, and the files already finished are kept.
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydub import AudioSegment

from voiceguide.build.session import (
    BuildResult,
    Content,
    Prepared,
    SessionOptions,
    cue_sheet,
    default_output,
    load_chimes,
    make_engine,
    plan_session,
    session_extras,
    write_session,
)
from voiceguide.encode.export import (
    FORMATS,
    check_output_path,
    choose_bitrate,
    choose_format,
    find_tool,
    named_format,
)
from voiceguide.errors import BatchError, VoiceguideError
from voiceguide.progress import Progress, no_progress
from voiceguide.speech import SpeechEngine
from voiceguide.speech.cache import ClipCache
from voiceguide.speech.clips import speak
from voiceguide.text.cues import CueSheet


@dataclass(frozen=True)
class Job:
    """One session of a batch: its options and where it goes.

    The file is ``folder / output``, or ``folder / ROUTINE-HOLD-per-side.mp3``
    when ``output`` is None. ``label`` names the session in error messages.
    """

    options: SessionOptions
    output: Path | None = None
    folder: Path = field(default_factory=Path)
    label: str = ""


@dataclass(frozen=True)
class BatchResult:
    sessions: list[BuildResult]
    seconds_taken: float
    notes: tuple[str, ...] = ()  # such as a speech cache that could not be written


# --- making jobs -------------------------------------------------------------------------


def jobs_for(
    routines: Sequence[str | Path],
    holds: Sequence[float | None],
    base: SessionOptions,
    output: Path | None = None,
) -> list[Job]:
    """A session for each routine with each hold (in that order).

    ``output`` is the file for a single session; for several it must be an
    existing folder, which receives each under its default name.
    """
    options = [
        replace(base, routine=routine, hold=hold)
        for routine in dict.fromkeys(routines)
        for hold in dict.fromkeys(holds)
    ]
    if output is None:
        return [Job(o) for o in options]
    if len(options) == 1:
        return [Job(options[0], output)]
    if not output.is_dir():
        # (A name ending as a session file's is not a folder that is missing.)
        audio = named_format(output) in FORMATS
        missing = not output.exists() and not audio
        make = f"; make it first (mkdir -p {shlex.quote(str(output))})" if missing else ""
        raise BatchError(
            f"{output} {'does not exist' if missing else 'is not a folder'}: "
            f"{len(options)} sessions are written into a folder, each under its own name "
            f"(ROUTINE-HOLD-per-side.mp3){make}"
        )
    return [Job(o, folder=output) for o in options]


# --- building ----------------------------------------------------------------------------


class _StoppedError(Exception):
    """Another session failed, or the batch was interrupted: stop this one."""


@dataclass
class _Planned:
    job: Job
    target: Path
    routine: Content
    sheet: CueSheet
    chimes: dict[str, AudioSegment]
    prepared: Prepared | None = None


EngineFor = Callable[[SessionOptions], SpeechEngine]


def build_batch(
    jobs: Sequence[Job],
    progress: Progress = no_progress,
    workers: int | None = None,
    engine_for: EngineFor | None = None,
    on_written: Callable[[BuildResult], None] = lambda _: None,
) -> BatchResult:
    """Build every job; ``workers`` sessions are encoded at once (default: one per core).

    ``progress`` sees the whole batch as one task per stage: ``speech`` (the
    distinct lines of all sessions) and ``encoding`` (the samples of all sessions,
    as they are encoded; the count never goes back, however many passes a session
    takes).
    ``on_written`` is called as each file is finished.
    """
    began = time.perf_counter()
    if not jobs:
        raise BatchError("the batch holds no sessions")
    find_tool("ffmpeg")
    sounds: dict[tuple[object, ...], dict[str, AudioSegment]] = {}
    planned = [_compose(job, sounds) for job in jobs]
    _check_targets(planned)
    lock = threading.Lock()

    def report(stage: str, done: int, total: int) -> None:
        with lock:
            progress(stage, done, total)

    notes = _speak_all(planned, engine_for or make_engine, report)
    workers = max(1, min(workers or os.cpu_count() or 1, len(planned)))
    results = _encode_all(planned, workers, report, on_written)
    return BatchResult(results, time.perf_counter() - began, notes)


def _labelled(job: Job, error: VoiceguideError) -> VoiceguideError:
    if not job.label:
        return error
    return type(error)(f"{job.label}: {error}")


def _compose(job: Job, sounds: dict[tuple[object, ...], dict[str, AudioSegment]]) -> _Planned:
    """Compose a session and check everything it needs; ``sounds`` keeps the chimes
    loaded for each choice of sounds, shared by the sessions that make it."""
    try:
        routine, sheet = cue_sheet(job.options)
        fmt = choose_format(job.output, job.options.format)
        choose_bitrate(fmt, job.options.bitrate)
        target = job.folder / (job.output or default_output(sheet, fmt))
        check_output_path(target, fmt)
        extras = session_extras(job.options, routine)
        choice = (extras.start_chime, extras.end_chime, extras.background)
        if choice not in sounds:
            sounds[choice] = load_chimes(extras)
    except VoiceguideError as e:
        raise _labelled(job, e) from None
    return _Planned(job, target, routine, sheet, sounds[choice])


def _check_targets(planned: Sequence[_Planned]) -> None:
    seen: dict[Path, _Planned] = {}
    for item in planned:
        key = item.target.resolve()
        if key in seen:
            first = seen[key].job.label or _describe_options(seen[key].job.options)
            second = item.job.label or _describe_options(item.job.options)
            raise BatchError(
                f"{first} and {second} would both be written to {item.target}; "
                "give each session its own output"
            )
        seen[key] = item


def _describe_options(options: SessionOptions) -> str:
    return f"{options.routine} with hold {options.hold}s" if options.hold else str(options.routine)


def _speak_all(
    planned: Sequence[_Planned], engine_for: EngineFor, progress: Progress
) -> tuple[str, ...]:
    """Speak the lines of every session, each distinct line once per voice; return the
    notes of the speech caches that could not be written (one each)."""
    notes: dict[str, None] = {}
    groups: dict[tuple[str, str | None, Path | None, int, bool], list[_Planned]] = {}
    for item in planned:
        o = item.job.options
        key = (o.engine, o.voice, o.voice_model, o.rate, o.use_cache)
        groups.setdefault(key, []).append(item)
    texts = {key: list(dict.fromkeys(_texts(items))) for key, items in groups.items()}
    total = sum(len(t) for t in texts.values())
    done = 0
    for key, items in groups.items():
        offset = done

        def step(stage: str, count: int, _: int, offset: int = offset) -> None:
            progress(stage, offset + count, total)

        engine = engine_for(items[0].job.options)
        cache = ClipCache() if key[4] else None
        try:
            speech = speak(texts[key], engine, cache, step)
        except VoiceguideError as e:
            raise _labelled(items[0].job, e) from None
        done += len(texts[key])
        if cache is not None and cache.problem:
            notes[cache.problem] = None
        for item in items:
            try:
                fmt = choose_format(item.target, item.job.options.format)
                said = speech.renamed(
                    {t: item.sheet.pronounce.apply(t) for t in item.sheet.texts()}
                )
                item.prepared = plan_session(
                    item.job.options, item.routine, item.sheet, said, item.chimes, fmt
                )
            except VoiceguideError as e:
                raise _labelled(item.job, e) from None
    return tuple(notes)


def _texts(items: Iterable[_Planned]) -> Iterable[str]:
    for item in items:
        yield from (item.sheet.pronounce.apply(text) for text in item.sheet.texts())


def _encode_all(
    planned: Sequence[_Planned],
    workers: int,
    progress: Progress,
    on_written: Callable[[BuildResult], None],
) -> list[BuildResult]:
    stop = threading.Event()
    lock = threading.Lock()
    written: dict[int, int] = {}
    total = sum(item.prepared.timeline.length for item in planned if item.prepared)

    def advance(index: int, share: int) -> None:
        """Session ``index`` is ``share`` samples along; the bar never steps back."""
        with lock:  # reported under the lock, so that counts arrive in order
            if share > written.get(index, 0):
                written[index] = share
                progress("encoding", sum(written.values()), total)

    def encode(index: int) -> BuildResult:
        item = planned[index]
        assert item.prepared is not None
        length = item.prepared.timeline.length
        began = time.perf_counter()

        def step(stage: str, done: int, of: int) -> None:
            # A session is measured (loudness) and encoded in several passes, each
            # counting from zero: the bar follows the encoding passes only, and
            # never goes back when one is repeated.
            if stop.is_set():
                raise _StoppedError
            if stage == "encoding" and of > 0:
                advance(index, length * min(done, of) // of)

        try:
            done = write_session(item.prepared, item.target, item.job.options, step)
        except VoiceguideError as e:
            raise _labelled(item.job, e) from None
        advance(index, length)
        result = BuildResult(item.target, item.prepared.timeline, time.perf_counter() - began, done)
        with lock:
            on_written(result)
        return result

    # Longest first, so that no core is left with one long session at the end.
    order = sorted(range(len(planned)), key=lambda i: -_length(planned[i]))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voiceguide-encode")
    futures: dict[int, Future[BuildResult]] = {}
    try:
        futures = {i: pool.submit(encode, i) for i in order}
        wait(futures.values(), return_when=FIRST_EXCEPTION)
        failed = [f for f in futures.values() if f.done() and f.exception() is not None]
        if failed:
            stop.set()
            for future in futures.values():
                future.cancel()
            wait(futures.values())
            finished = sum(
                1 for f in futures.values() if not f.cancelled() and f.exception() is None
            )
            error = failed[0].exception()
            assert error is not None
            if finished and isinstance(error, VoiceguideError):
                raise type(error)(
                    f"{error} ({finished} of {len(planned)} sessions were finished and kept)"
                ) from None
            raise error
        return [futures[i].result() for i in range(len(planned))]
    except BaseException:
        stop.set()
        raise
    finally:
        for future in futures.values():
            future.cancel()
        pool.shutdown(wait=True)


def _length(item: _Planned) -> int:
    return item.prepared.timeline.length if item.prepared else 0
