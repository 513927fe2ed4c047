"""The timeline: every event of a session at exact sample positions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from voiceguide.text.durations import counted
from voiceguide.units import SAMPLE_RATE, clock, to_seconds

Kind = Literal["speech", "chime", "pause"]


@dataclass(frozen=True)
class Event:
    """Something heard (or a deliberate quiet) from ``start`` for ``length`` samples."""

    kind: Kind
    start: int
    length: int
    role: str
    text: str = ""
    side: str | None = None
    gain: float = 0.0  # dB applied to the clip when rendering (an extra's own volume)
    exercise: int = 0  # the number of the programme's exercise it belongs to; 0: none

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Hold:
    """A hold runs from the onset of its start chime to the onset of its end chime."""

    side: str
    start: int
    end: int
    exercise: int = 0  # the number of the programme's exercise; 0: not a programme

    @property
    def name(self) -> str:
        """ "left hold", or "hold" for a routine without sides."""
        return f"{self.side} hold" if self.side else "hold"

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Dropped:
    """A cue that did not fit into its hold, and why."""

    side: str
    role: str
    text: str
    reason: str


@dataclass(frozen=True)
class Timeline:
    routine: str
    title: str
    hold_seconds: float
    events: tuple[Event, ...]
    holds: tuple[Hold, ...]
    dropped: tuple[Dropped, ...] = ()
    notes: tuple[str, ...] = ()
    sample_rate: int = SAMPLE_RATE
    #: What marks each hold's start and end: "default", "off", or a sound file's name.
    start_chime: str = "default"
    end_chime: str = "default"
    #: A programme's exercises, by number from 1 (their titles); empty for one routine.
    exercises: tuple[str, ...] = ()

    def exercise_title(self, number: int) -> str:
        return self.exercises[number - 1] if 0 < number <= len(self.exercises) else ""

    @property
    def length(self) -> int:
        return self.events[-1].end if self.events else 0

    def spoken(self) -> list[Event]:
        return [e for e in self.events if e.kind == "speech"]

    def silences(self) -> list[tuple[int, int]]:
        """The runs of pauses, as (start, end): where the voice track is silent."""
        runs: list[tuple[int, int]] = []
        for event in self.events:
            if event.kind != "pause":
                continue
            if runs and runs[-1][1] == event.start:
                runs[-1] = (runs[-1][0], event.end)
            else:
                runs.append((event.start, event.end))
        return runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "routine": self.routine,
            "title": self.title,
            "hold_seconds": self.hold_seconds,
            "sample_rate": self.sample_rate,
            "duration": to_seconds(self.length),
            "samples": self.length,
            "holds": [
                {
                    "side": h.side,
                    "exercise": self.exercise_title(h.exercise) or self.title,
                    "exercise_number": h.exercise or 1,
                    "start": to_seconds(h.start),
                    "end": to_seconds(h.end),
                    "duration": to_seconds(h.length),
                    "start_sample": h.start,
                    "end_sample": h.end,
                }
                for h in self.holds
            ],
            "events": [
                {
                    "start": to_seconds(e.start),
                    "end": to_seconds(e.end),
                    "kind": e.kind,
                    "role": e.role,
                    "side": e.side,
                    "exercise_number": e.exercise,
                    "text": e.text,
                    "start_sample": e.start,
                    "end_sample": e.end,
                    "gain": e.gain,
                }
                for e in self.events
            ],
            "dropped": [
                {"side": d.side, "role": d.role, "text": d.text, "reason": d.reason}
                for d in self.dropped
            ],
            "notes": list(self.notes),
            "exercises": list(self.exercises),
            "chimes": {"start": self.start_chime, "end": self.end_chime},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def format_script(timeline: Timeline) -> str:
    """The timeline as a script a person can read."""
    holds = {h.start: h for h in timeline.holds}
    ends = {h.end: h for h in timeline.holds}
    if timeline.exercises:
        heading = f"{timeline.title}: {counted(len(timeline.exercises), 'exercise')}"
    else:
        per_side = clock(round(timeline.hold_seconds * timeline.sample_rate))
        heading = f"{timeline.title}: {per_side} per side"
    out = [f"{heading}, {clock(timeline.length)} in all", ""]
    # (position, order, line): a hold with its chime off is marked where it begins or ends.
    lines: list[tuple[int, int, str]] = []
    for hold in timeline.holds:
        if timeline.start_chime == "off":
            lines.append((hold.start, 0, f"·  {hold.name} begins ({clock(hold.length)}), "
                                         "no start chime"))  # fmt: skip
        if timeline.end_chime == "off":
            lines.append((hold.end, 0, f"·  {hold.name} ends, no end chime"))
    for event in timeline.events:
        if event.kind == "pause":
            continue
        if event.kind == "chime":
            sound = timeline.start_chime if event.start in holds else timeline.end_chime
            own = f" ({sound})" if sound not in ("default", "off") else ""
            if event.start in holds:
                hold = holds[event.start]
                label = f"start chime{own}: {hold.name} begins ({clock(hold.length)})"
            elif event.start in ends:
                label = f"end chime{own}: {ends[event.start].name} ends"
            else:
                label = f"{event.role} chime"
            lines.append((event.start, 1, f"♪ {label}"))
        else:
            lines.append((event.start, 1, f"  {event.text}"))
    out += [f"{clock(at).rjust(9)}  {text}" for at, _, text in sorted(lines, key=lambda x: x[:2])]
    if timeline.dropped:
        out += ["", "Left out (no room in the hold):"]
        out += [f"  - [{d.side}] {d.text}  ({d.reason})" for d in timeline.dropped]
    if timeline.notes:
        out += ["", *timeline.notes]
    return "\n".join(out)
