"""Transcripts: every spoken line at its time, as WebVTT, LRC or the JSON timeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from voiceguide.errors import ExportError, disk_problem
from voiceguide.files import atomic_write_bytes
from voiceguide.plan.timeline import Timeline


def _vtt_time(samples: int, rate: int) -> str:
    millis = samples * 1000 // rate
    seconds, ms = divmod(millis, 1000)
    minutes, s = divmod(seconds, 60)
    h, m = divmod(minutes, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _lrc_time(samples: int, rate: int) -> str:
    hundredths = samples * 100 // rate
    seconds, cs = divmod(hundredths, 100)
    m, s = divmod(seconds, 60)
    return f"{m:02d}:{s:02d}.{cs:02d}"


def to_vtt(timeline: Timeline) -> str:
    """WebVTT: one cue per spoken line, from its first to its last sample."""
    rate = timeline.sample_rate
    out = ["WEBVTT", "", f"NOTE chimes: start {timeline.start_chime}, end {timeline.end_chime}", ""]
    for number, event in enumerate(timeline.spoken(), start=1):
        text = " ".join(event.text.split()).replace("-->", "->")
        out += [
            str(number),
            f"{_vtt_time(event.start, rate)} --> {_vtt_time(event.end, rate)}",
            text,
            "",
        ]
    return "\n".join(out)


def to_srt(timeline: Timeline) -> str:
    """SubRip: one numbered cue per spoken line, times with a comma before the milliseconds."""
    rate = timeline.sample_rate
    out: list[str] = []
    for number, event in enumerate(timeline.spoken(), start=1):
        start, end = (_vtt_time(t, rate).replace(".", ",") for t in (event.start, event.end))
        out += [str(number), f"{start} --> {end}", " ".join(event.text.split()), ""]
    return "\n".join(out)


def to_lrc(timeline: Timeline) -> str:
    """LRC: each spoken line at its start; an empty line where it ends before a pause."""
    rate = timeline.sample_rate
    out = [
        f"[ti:{timeline.title}]",
        "[ar:voiceguide]",
        f"[length:{_lrc_time(timeline.length, rate)[:5]}]",
    ]
    spoken = timeline.spoken()
    for event, following in zip(spoken, [*spoken[1:], None], strict=True):
        out.append(f"[{_lrc_time(event.start, rate)}]{' '.join(event.text.split())}")
        if following is None or following.start > event.end:
            out.append(f"[{_lrc_time(event.end, rate)}]")
    return "\n".join(out) + "\n"


def to_json(timeline: Timeline) -> str:
    return timeline.to_json() + "\n"


WRITERS: dict[str, Callable[[Timeline], str]] = {
    ".vtt": to_vtt,
    ".srt": to_srt,
    ".lrc": to_lrc,
    ".json": to_json,
}


def check_transcript_path(path: Path) -> None:
    """Fail early, before any work, if ``path`` is not a transcript we can write."""
    if path.suffix.lower() not in WRITERS:
        raise ExportError(
            f"{path}: a transcript is written as .vtt (WebVTT), .srt (SubRip), .lrc or .json; "
            "use a name ending in one of those"
        )
    if path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name such as {path / 'session.vtt'}")
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")


def write_transcript(timeline: Timeline, path: Path) -> None:
    """Write the transcript of ``timeline`` to ``path``, in the format its extension names."""
    check_transcript_path(path)
    text = WRITERS[path.suffix.lower()](timeline)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        problem = disk_problem(e.errno, path.parent, e.strerror)
        raise ExportError(f"cannot write {path}: {problem}") from None
