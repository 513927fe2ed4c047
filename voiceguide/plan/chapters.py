"""Chapters of a session, from its timeline: intro, each side's set-up and hold, outro.

Chapters tile the session: each ends where the next begins, the first starts at
0 and the last ends at the end. Podcast players show them and skip between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.plan.timeline import Timeline

SETUP_ROLES = frozenset({"side_start", "step", "hold_start"})


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int  # samples
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def chapters(timeline: Timeline) -> tuple[Chapter, ...]:
    """The chapters of ``timeline``, in order, without gaps or empty ones."""
    marks: list[tuple[str, int]] = [("Introduction", 0)]
    for hold in timeline.holds:
        setup = [
            e.start
            for e in timeline.spoken()
            if e.side == hold.side and e.role in SETUP_ROLES and e.start < hold.start
        ]
        name = hold.side.capitalize()
        marks.append((f"{name} side: set-up", min(setup, default=hold.start)))
        marks.append((f"{name} side: hold", hold.start))
    last_hold = timeline.holds[-1].end if timeline.holds else 0
    outro = [e.start for e in timeline.spoken() if e.role == "outro" and e.start >= last_hold]
    if outro:
        marks.append(("Outro", outro[0]))
    ends = [start for _, start in marks[1:]] + [timeline.length]
    return tuple(
        Chapter(title, start, end)
        for (title, start), end in zip(marks, ends, strict=True)
        if end > start
    )
