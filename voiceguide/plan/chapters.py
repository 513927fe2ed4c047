"""Chapters of a session, from its timeline.

A routine's session has an introduction, each side's set-up and hold, and an
outro. A programme's has a chapter for each exercise, with each side's set-up
and hold beneath it. A hold's chapter runs from its start chime until its end
chime has sounded; the release after it belongs to what follows.

Chapters tile the session (and each exercise's chapters tile the exercise): each
ends where the next begins, the first starts at 0 and the last ends at the end.
Podcast players show them and skip between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.plan.timeline import Hold, Timeline

SETUP_ROLES = frozenset({"side_start", "step", "hold_start"})


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int  # samples
    end: int
    children: tuple[Chapter, ...] = ()  # a programme's exercise: its sides' set-up and hold

    @property
    def length(self) -> int:
        return self.end - self.start


Mark = tuple[str, int, tuple["Mark", ...]]


def chapters(timeline: Timeline) -> tuple[Chapter, ...]:
    """The chapters of ``timeline``, in order, without gaps or empty ones."""
    marks: list[Mark] = [("Introduction", 0, ())]
    after: int | None = None  # where the last hold's chapter ended
    if timeline.exercises:
        for number, title in enumerate(timeline.exercises, start=1):
            holds = [h for h in timeline.holds if h.exercise == number]
            first = [e.start for e in timeline.events if e.exercise == number and e.kind != "pause"]
            start = after if after is not None else min(first, default=0)
            sides = _side_marks(timeline, holds, start)
            marks.append((f"{number}. {title}", start, tuple(sides)))
            after = _chapter_end(timeline, holds[-1]) if holds else after
    else:
        marks += _side_marks(timeline, list(timeline.holds), None)
        after = _chapter_end(timeline, timeline.holds[-1]) if timeline.holds else None
    if after is not None:
        marks.append(("Outro", after, ()))
    return _tiled(marks, 0, timeline.length)


def _side_marks(timeline: Timeline, holds: list[Hold], start: int | None) -> list[Mark]:
    """Each hold's set-up and hold; the first set-up begins at ``start`` if given, and
    each later one where the hold before it ended."""
    marks: list[Mark] = []
    for index, hold in enumerate(holds):
        if index:
            setup = _chapter_end(timeline, holds[index - 1])
        elif start is not None:
            setup = start
        else:
            setup = min(
                (e.start for e in timeline.spoken()
                 if e.side == hold.side and e.role in SETUP_ROLES and e.start < hold.start),
                default=hold.start,
            )  # fmt: skip
        name = f"{hold.side.capitalize()} side: " if hold.side else ""
        marks.append((f"{name}set-up".capitalize(), setup, ()))
        marks.append((f"{name}hold".capitalize(), hold.start, ()))
    return marks


def _chapter_end(timeline: Timeline, hold: Hold) -> int:
    """Where a hold's chapter ends: once its end chime has sounded (at its end without one)."""
    chime = next((e for e in timeline.events if e.kind == "chime" and e.start == hold.end), None)
    return chime.end if chime is not None else hold.end


def _tiled(marks: list[Mark], start: int, end: int) -> tuple[Chapter, ...]:
    if not marks:
        return ()
    ends = [m[1] for m in marks[1:]] + [end]
    out: list[Chapter] = []
    for (title, begin, children), stop in zip(marks, ends, strict=True):
        begin = max(begin, start)
        if stop > begin:
            out.append(Chapter(title, begin, stop, _tiled(list(children), begin, stop)))
    return tuple(out)
