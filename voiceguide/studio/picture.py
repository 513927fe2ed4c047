"""The timeline as a picture to scale: the shapes the page draws, worked out here.

Pure: a :class:`~voiceguide.timeline.Timeline` in, plain values out, for the
page's SVG template. x runs from 0 to :data:`WIDTH` over the whole session. A
programme's picture has a band of its exercises above, and its rests between
them among the phases.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.plan.timeline import Hold, Timeline
from voiceguide.text.durations import counted, format_compact
from voiceguide.units import clock

WIDTH = 1000.0
HOLD_ROLES = {"reminder", "halfway", "time_left", "final_seconds", "countdown"}
CHAR_WIDTH = 11.0  # of a phase's label, in x units (the page's font at the SVG's scale)
TICK_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # seconds


@dataclass(frozen=True)
class Shape:
    x: float
    width: float
    kind: str  # setup, hold, rest, closing (phases); speech, cue, chime (events); exercise
    label: str
    title: str  # the words shown on hover and read by screen readers


@dataclass(frozen=True)
class Line:
    """A row of the script under the picture."""

    at: str
    kind: str
    text: str


@dataclass(frozen=True)
class Picture:
    title: str
    length: str
    phases: tuple[Shape, ...]
    events: tuple[Shape, ...]
    ticks: tuple[tuple[float, str], ...]
    script: tuple[Line, ...]
    dropped: tuple[tuple[str, str, str], ...]  # side, words, why
    notes: tuple[str, ...]
    holds: tuple[str, ...]
    summary: str
    exercises: tuple[Shape, ...] = ()  # a programme's, numbered in the band above

    @property
    def programme(self) -> bool:
        return bool(self.exercises)


def fitting(width: float, *labels: str) -> str:
    """The first label that fits into ``width``, or none."""
    return next((label for label in labels if len(label) * CHAR_WIDTH + 8 <= width), "")


def picture(timeline: Timeline) -> Picture:
    rate = timeline.sample_rate
    total = max(timeline.length, 1)

    def x(position: int) -> float:
        return round(position * WIDTH / total, 2)

    def width(start: int, end: int) -> float:
        return round(max((end - start) * WIDTH / total, 0.0), 2)

    def phase(start: int, end: int, kind: str, labels: tuple[str, ...], title: str) -> Shape:
        wide = width(start, end)
        return Shape(x(start), wide, kind, fitting(wide, *labels), title)

    def named(number: int) -> str:
        """ "Exercise 2 (Knee-to-chest stretch), " in a programme; nothing in a routine."""
        title = timeline.exercise_title(number)
        return f"Exercise {number} ({title}), " if title else ""

    rests = _rests(timeline)
    phases: list[Shape] = []
    previous = 0
    for hold in timeline.holds:
        for start, end, number in rests:
            if previous <= start and end <= hold.start:
                if start > previous:
                    title = _first_upper(f"{named(number - 1)}release, until {clock(start)}")
                    phases.append(phase(previous, start, "setup", ("Release",), title))
                rested = format_compact((end - start) / rate)
                title = f"Rest before exercise {number}: {clock(end - start)}, until {clock(end)}"
                phases.append(phase(start, end, "rest", (f"Rest {rested}", "Rest"), title))
                previous = end
        side = hold.side.capitalize()
        if hold.start > previous:
            where = f"{hold.side} side: set-up" if hold.side else "set-up"
            title = _first_upper(f"{named(hold.exercise)}{where}, until {clock(hold.start)}")
            setup: tuple[str, ...] = (f"{side} set-up", side) if side else ("Set-up",)
            phases.append(phase(previous, hold.start, "setup", setup, title))
        held = format_compact(hold.length / rate)
        labels: tuple[str, ...] = (
            (f"{side} hold {held}", f"{side} {held}", held) if side else (f"Hold {held}", held)
        )
        title = _first_upper(f"{named(hold.exercise)}{hold.name}: {clock(hold.length)}, "
                             f"from {clock(hold.start)} to {clock(hold.end)}")  # fmt: skip
        phases.append(phase(hold.start, hold.end, "hold", labels, title))
        previous = hold.end
    if timeline.length > previous:
        title = f"Release and closing words, until {clock(timeline.length)}"
        phases.append(phase(previous, timeline.length, "closing", ("Closing", "End"), title))

    events: list[Shape] = []
    script: list[Line] = []
    for event in timeline.events:
        if event.kind == "pause":
            continue
        if event.kind == "chime":
            what = "Start chime" if event.text == "start" else "End chime"
            drawn = max(width(event.start, event.end), 1.5)
            events.append(Shape(x(event.start), drawn, "chime", "", f"{clock(event.start)} {what}"))
            script.append(Line(clock(event.start), "chime", f"♪ {what}"))
            continue
        kind = "cue" if event.role in HOLD_ROLES else "speech"
        drawn = max(width(event.start, event.end), 1.0)
        events.append(Shape(x(event.start), drawn, kind, "", f"{clock(event.start)} {event.text}"))
        script.append(Line(clock(event.start), kind, event.text))

    seconds = total / rate
    step = next((s for s in TICK_STEPS if seconds / s <= 10), TICK_STEPS[-1])
    ticks = tuple(
        (x(t * rate), clock(t * rate).removesuffix(".0")) for t in range(0, int(seconds) + 1, step)
    )
    holds = tuple(_hold_words(timeline, h) for h in timeline.holds)
    how_many = f"{counted(len(timeline.exercises), 'exercise')}; " if timeline.exercises else ""
    summary = (
        f"{timeline.title}: {clock(timeline.length)} in all; {how_many}holds "
        + ", ".join(holds)
        + (f"; {len(timeline.dropped)} cue(s) left out" if timeline.dropped else "")
    )
    bands = tuple(
        Shape(x(start), width(start, end), "exercise",
              fitting(width(start, end), f"{n}. {timeline.exercise_title(n)}", str(n)),
              f"Exercise {n}: {timeline.exercise_title(n)}, from {clock(start)} to {clock(end)}")
        for n, start, end in _exercise_spans(timeline)
    )  # fmt: skip
    return Picture(
        title=timeline.title,
        length=clock(timeline.length),
        phases=tuple(phases),
        events=tuple(events),
        ticks=ticks,
        script=tuple(script),
        dropped=tuple((d.side, d.text, d.reason) for d in timeline.dropped),
        notes=tuple(n.removeprefix("note: ") for n in timeline.notes),
        holds=holds,
        summary=summary,
        exercises=bands,
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hold_words(timeline: Timeline, hold: Hold) -> str:
    """ "left: 0:30.0"; in a programme, "2. Knee-to-chest stretch, left: 1:00.0"."""
    if not timeline.exercises:
        return f"{hold.side}: {clock(hold.length)}"
    side = f", {hold.side}" if hold.side else ""
    return f"{hold.exercise}. {timeline.exercise_title(hold.exercise)}{side}: {clock(hold.length)}"


def _rests(timeline: Timeline) -> list[tuple[int, int, int]]:
    """A programme's rests: (start, end, number of the exercise that follows), from the
    rest's first words to the next exercise's first."""
    rests: list[tuple[int, int, int]] = []
    began: dict[int, int] = {}
    for event in timeline.events:
        if event.role == "rest":
            began[event.exercise] = event.start
        elif event.role in ("round_start", "exercise_start") and event.exercise in began:
            rests.append((began.pop(event.exercise), event.start, event.exercise))
    return rests


def _exercise_spans(timeline: Timeline) -> list[tuple[int, int, int]]:
    """Each exercise of a programme: (number, start, end), from its first words to the
    start of the rest after it (or of the closing words)."""
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    for event in timeline.events:
        if event.role in ("round_start", "exercise_start"):
            starts.setdefault(event.exercise, event.start)
            ends.setdefault(event.exercise - 1, event.start)  # no rest before it
        elif event.role == "rest":
            ends.setdefault(event.exercise - 1, event.start)
        elif event.role == "outro" and starts:
            ends.setdefault(max(starts), event.start)
    return [(n, start, ends.get(n, timeline.length)) for n, start in sorted(starts.items())]
