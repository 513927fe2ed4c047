"""The timeline as a picture to scale: the shapes the page draws, worked out here.

Pure: a :class:`~voiceguide.timeline.Timeline` in, plain values out, for the
page's SVG template. x runs from 0 to :data:`WIDTH` over the whole session.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.plan.timeline import Timeline
from voiceguide.text.durations import format_compact
from voiceguide.units import clock

WIDTH = 1000.0
HOLD_ROLES = {"reminder", "halfway", "time_left", "final_seconds", "countdown"}
CHAR_WIDTH = 11.0  # of a phase's label, in x units (the page's font at the SVG's scale)
TICK_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # seconds


@dataclass(frozen=True)
class Shape:
    x: float
    width: float
    kind: str  # setup, hold, rest (phases); speech, cue, chime (events)
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

    phases: list[Shape] = []
    previous = 0
    for hold in timeline.holds:
        side = hold.side.capitalize()
        if hold.start > previous:
            title = f"{side} side: set-up, until {clock(hold.start)}"
            phases.append(phase(previous, hold.start, "setup", (f"{side} set-up", side), title))
        held = format_compact(hold.length / rate)
        labels = (f"{side} hold {held}", f"{side} {held}", held)
        title = f"{side} hold: {clock(hold.length)}, from {clock(hold.start)} to {clock(hold.end)}"
        phases.append(phase(hold.start, hold.end, "hold", labels, title))
        previous = hold.end
    if timeline.length > previous:
        title = f"Release and closing words, until {clock(timeline.length)}"
        phases.append(phase(previous, timeline.length, "rest", ("Closing", "End"), title))

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
    holds = tuple(f"{h.side}: {clock(h.length)}" for h in timeline.holds)
    summary = (
        f"{timeline.title}: {clock(timeline.length)} in all; holds "
        + ", ".join(holds)
        + (f"; {len(timeline.dropped)} cue(s) left out" if timeline.dropped else "")
    )
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
    )
